"""What the app remembers between runs (QSettings in an INI file inside the data folder, so that
QA_READER_HOME isolates it too): engine settings, theme, recent files, window state. The question history
is the library's (SQLite), not kept here."""

from __future__ import annotations

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
        """The saved settings (those declared `saved`), defaults for anything unsaved or unreadable."""
        keys = {name: f"engine/{name}" for name in config.Settings.names("saved")}
        values = {name: self._settings.value(key) for name, key in keys.items() if self._settings.contains(key)}
        return config.Settings.from_saved(values)

    def set_engine_settings(self, settings: config.Settings) -> None:
        for name, text in settings.saved().items():
            self._settings.setValue(f"engine/{name}", text)

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

    def take_old_questions(self) -> list[str]:
        """The question history earlier versions kept here (most recent first), removed from the file: the
        library keeps the one history now, and takes these over once."""
        questions = self._list("history/questions")
        self._settings.remove("history/questions")
        return questions

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

    def all_keys(self) -> list[str]:
        """Every key the file holds ("group/name")."""
        return list(self._settings.allKeys())

    # --- helpers --------------------------------------------------------------------------------------

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
