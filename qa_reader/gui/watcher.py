"""Watching the library's files on disk: each change is reported at once (answers about the old text must
go), and a burst of saves settles into one report after a pause (the file is read again once)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

DEBOUNCE_MS = 600


class FileWatcher(QObject):
    """A QFileSystemWatcher with a pause: `changed` for every change, `settled` once they stop coming."""

    changed = Signal(str)  # path
    settled = Signal(list, bool)  # the changed files still on disk, whether some changed ones are gone

    def __init__(self, parent: QObject | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self._changed: set[str] = set()
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_file_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._on_pause)

    def watch(self, paths: Iterable[str]) -> None:
        """Watch the files among `paths` that exist and are not watched yet."""
        watched = set(self._watcher.files())
        wanted = [path for path in paths if path not in watched and Path(path).exists()]
        if wanted:
            self._watcher.addPaths(wanted)

    def unwatch(self, path: str) -> None:
        if path in self._watcher.files():
            self._watcher.removePath(path)

    def stop(self) -> None:
        self._timer.stop()

    @Slot(str)
    def _on_file_changed(self, path: str) -> None:
        self._changed.add(path)
        self.changed.emit(path)
        self._timer.start()

    @Slot()
    def _on_pause(self) -> None:
        paths, self._changed = sorted(self._changed), set()
        existing = [path for path in paths if Path(path).exists()]
        self.watch(existing)  # editors that save by renaming drop the watch
        self.settled.emit(existing, len(existing) < len(paths))
