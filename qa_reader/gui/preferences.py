"""What the app remembers between runs (QSettings in an INI file inside the data folder, so that
QA_READER_HOME isolates it too): engine settings, theme, recent files, question history, window state."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from qa_reader import config

RECENT_KEPT = 10
THEMES = ("system", "light", "dark")


class Preferences:
    """Typed access to the app's QSettings."""

    def __init__(self, path: Path | None = None) -> None:
        path = path or config.data_dir() / "qa-reader-gui.ini"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._settings = QSettings(str(path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self._settings.sync()

    # --- engine settings and theme --------------------------------------------------------------------

    def engine_settings(self) -> config.Settings:
        """The saved settings, defaults for anything unsaved or unreadable."""
        defaults = config.Settings()
        values = {}
        for name in ("passages_to_read", "max_length", "threads"):
            values[name] = self._int(f"engine/{name}", getattr(defaults, name))
        threshold = self._settings.value("engine/threshold", "")
        try:
            values["threshold"] = float(threshold) if threshold not in ("", None) else None
        except (TypeError, ValueError):
            values["threshold"] = None
        return dataclasses.replace(defaults, **values)

    def set_engine_settings(self, settings: config.Settings) -> None:
        self._settings.setValue("engine/passages_to_read", settings.passages_to_read)
        self._settings.setValue("engine/max_length", settings.max_length)
        self._settings.setValue("engine/threads", settings.threads)
        self._settings.setValue("engine/threshold", "" if settings.threshold is None else settings.threshold)

    def theme(self) -> str:
        theme = str(self._settings.value("ui/theme", "system"))
        return theme if theme in THEMES else "system"

    def set_theme(self, theme: str) -> None:
        self._settings.setValue("ui/theme", theme)

    # --- lists --------------------------------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        return self._list("recent/files")[:RECENT_KEPT]

    def add_recent_file(self, path: str) -> None:
        files = [path] + [p for p in self.recent_files() if p != path]
        self._settings.setValue("recent/files", files[:RECENT_KEPT])

    def clear_recent_files(self) -> None:
        self._settings.setValue("recent/files", [])

    def questions(self) -> list[str]:
        return self._list("history/questions")

    def set_questions(self, questions: list[str]) -> None:
        self._settings.setValue("history/questions", list(questions))

    # --- flags and window state ---------------------------------------------------------------------

    def whole_library(self) -> bool:
        return self._bool("ui/whole_library", False)

    def set_whole_library(self, whole: bool) -> None:
        self._settings.setValue("ui/whole_library", whole)

    def sample_offered(self) -> bool:
        return self._bool("library/sample_offered", False)

    def set_sample_offered(self) -> None:
        self._settings.setValue("library/sample_offered", True)

    def last_document(self) -> str:
        return str(self._settings.value("ui/last_document", "") or "")

    def set_last_document(self, path: str) -> None:
        self._settings.setValue("ui/last_document", path)

    def window_state(self, name: str) -> QByteArray | None:
        value = self._settings.value(f"window/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_state(self, name: str, state: QByteArray) -> None:
        self._settings.setValue(f"window/{name}", state)

    # --- helpers --------------------------------------------------------------------------------------

    def _int(self, key: str, default: int) -> int:
        try:
            return int(self._settings.value(key, default))
        except (TypeError, ValueError):
            return default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._settings.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def _list(self, key: str) -> list[str]:
        value = self._settings.value(key, [])
        if isinstance(value, str):
            return [value] if value else []
        return [str(item) for item in (value or [])]
