"""The main window's menu bar, laid out from shortcuts.MENUS, and its Open Recent submenu."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from qa_reader.gui.preferences import Preferences
from qa_reader.gui.shortcuts import MENUS


class RecentFilesMenu(QMenu):
    """Open Recent: the files and folders opened last (from the preferences), listed each time it opens."""

    chosen = Signal(str)  # the path to open again

    def __init__(self, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self._preferences = preferences
        self.aboutToShow.connect(self._on_about_to_show)

    @Slot()
    def _on_about_to_show(self) -> None:
        self.clear()
        recent = self._preferences.recent_files()
        for number, path in enumerate(recent, start=1):
            action = self.addAction(f"&{number % 10} {Path(path).name}")
            action.setToolTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.chosen.emit(p))
        if not recent:
            self.addAction("No recent files").setEnabled(False)
        else:
            self.addSeparator()
            self.addAction("Clear the List").triggered.connect(self._preferences.clear_recent_files)


def fill_menu_bar(bar: QMenuBar, actions: Mapping[str, QAction], recent: QMenu) -> None:
    """Add the menus of shortcuts.MENUS to `bar`, with `actions` by name and `recent` as Open Recent."""
    for title, names in MENUS:
        menu = bar.addMenu(title)
        for name in names:
            if name is None:
                menu.addSeparator()
            elif name == "recent":
                menu.addMenu(recent)
            else:
                menu.addAction(actions[name])
