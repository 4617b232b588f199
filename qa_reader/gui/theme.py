"""Light, dark or the system's colours: the Fusion style with a palette, plus the app's small stylesheet."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from qa_reader import config

log = logging.getLogger(__name__)

STYLESHEET = "qa-reader.qss"


def _palette(dark: bool) -> QPalette:
    palette = QPalette()
    if dark:
        colours = {
            QPalette.ColorRole.Window: QColor(37, 39, 43),
            QPalette.ColorRole.WindowText: QColor(225, 227, 230),
            QPalette.ColorRole.Base: QColor(28, 30, 33),
            QPalette.ColorRole.AlternateBase: QColor(34, 36, 40),
            QPalette.ColorRole.Text: QColor(225, 227, 230),
            QPalette.ColorRole.Button: QColor(48, 51, 56),
            QPalette.ColorRole.ButtonText: QColor(225, 227, 230),
            QPalette.ColorRole.Highlight: QColor(53, 110, 190),
            QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
            QPalette.ColorRole.ToolTipBase: QColor(48, 51, 56),
            QPalette.ColorRole.ToolTipText: QColor(225, 227, 230),
            QPalette.ColorRole.PlaceholderText: QColor(140, 144, 150),
            QPalette.ColorRole.Link: QColor(110, 170, 255),
            QPalette.ColorRole.Mid: QColor(70, 73, 78),
            QPalette.ColorRole.Dark: QColor(22, 23, 26),
        }
        disabled_text = QColor(125, 128, 134)
    else:
        colours = {
            QPalette.ColorRole.Window: QColor(243, 244, 246),
            QPalette.ColorRole.WindowText: QColor(28, 30, 33),
            QPalette.ColorRole.Base: QColor(255, 255, 255),
            QPalette.ColorRole.AlternateBase: QColor(247, 248, 250),
            QPalette.ColorRole.Text: QColor(28, 30, 33),
            QPalette.ColorRole.Button: QColor(236, 237, 240),
            QPalette.ColorRole.ButtonText: QColor(28, 30, 33),
            QPalette.ColorRole.Highlight: QColor(47, 111, 208),
            QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
            QPalette.ColorRole.ToolTipBase: QColor(255, 255, 225),
            QPalette.ColorRole.ToolTipText: QColor(28, 30, 33),
            QPalette.ColorRole.PlaceholderText: QColor(130, 134, 140),
            QPalette.ColorRole.Link: QColor(30, 90, 200),
            QPalette.ColorRole.Mid: QColor(200, 202, 206),
            QPalette.ColorRole.Dark: QColor(160, 162, 166),
        }
        disabled_text = QColor(150, 152, 156)
    for role, colour in colours.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled_text)
    return palette


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str) -> None:
    """Apply "light", "dark" or "system" (the desktop's light or dark preference) to the whole app."""
    if "Fusion" in QStyleFactory.keys():
        app.setStyle("Fusion")
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    app.setPalette(_palette(dark))
    app.setProperty("qaReaderDark", dark)
    path = config.resources_dir() / STYLESHEET
    try:
        app.setStyleSheet(path.read_text(encoding="utf-8"))
    except OSError:
        log.info("No stylesheet at %s; using the plain style", path)
