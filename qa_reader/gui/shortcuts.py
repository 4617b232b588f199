"""Every keyboard shortcut in one table (the menus and the F1 overlay are built from it), and the overlay."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget


@dataclass(frozen=True)
class Shortcut:
    """One command: its menu text, its keys (the first is shown in menus) and its group in the overlay."""

    name: str
    text: str
    keys: tuple[str, ...]
    group: str
    window_action: bool = True  # False: handled by a widget (listed in the overlay only)


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("open", "&Open…", ("Ctrl+O",), "Documents"),
    Shortcut("remove", "&Remove from Library", ("Del",), "Documents", window_action=False),
    Shortcut("find", "&Find in Document…", ("Ctrl+F",), "Documents"),
    Shortcut("zoom_in", "Zoom &In", ("Ctrl++", "Ctrl+="), "Documents"),
    Shortcut("zoom_out", "Zoom &Out", ("Ctrl+-",), "Documents"),
    Shortcut("fit_width", "&Fit Width", ("Ctrl+0",), "Documents"),
    Shortcut("next_page", "&Next Page", ("Ctrl+PgDown",), "Documents"),
    Shortcut("previous_page", "&Previous Page", ("Ctrl+PgUp",), "Documents"),
    Shortcut("go_to_page", "&Go to Page…", ("Ctrl+G",), "Documents"),
    Shortcut("focus_question", "&Ask a Question", ("Ctrl+L",), "Asking"),
    Shortcut("ask", "Ask", ("Enter",), "Asking", window_action=False),
    Shortcut("history", "Earlier / later questions", ("Up", "Down"), "Asking", window_action=False),
    Shortcut("toggle_scope", "Ask the &Whole Library", ("Ctrl+Shift+L",), "Asking"),
    Shortcut("next_answer", "Ne&xt Answer", ("F3",), "Asking"),
    Shortcut("previous_answer", "Pre&vious Answer", ("Shift+F3",), "Asking"),
    Shortcut("ask_selection", "Ask the &Selected Text", ("Ctrl+Return", "Ctrl+Enter"), "Asking"),
    Shortcut("copy_answer", "&Copy Answer with Citation", ("Ctrl+Shift+C",), "Asking"),
    Shortcut("lookup", "&Quick Lookup", ("Ctrl+Shift+Space",), "Asking"),
    Shortcut("cancel", "&Cancel Indexing", ("Esc",), "Asking"),
    Shortcut("export", "&Export Questions and Answers…", ("Ctrl+E",), "General"),
    Shortcut("batch", "&Batch Questions…", ("Ctrl+B",), "General"),
    Shortcut("settings", "&Settings…", ("Ctrl+,",), "General"),
    Shortcut("shortcuts", "&Keyboard Shortcuts", ("F1", "Ctrl+/"), "General"),
    Shortcut("focus_library", "Go to the &Library", ("Ctrl+1",), "General"),
    Shortcut("focus_document", "Go to the &Document", ("Ctrl+2",), "General"),
    Shortcut("focus_answers", "Go to the A&nswers", ("Ctrl+3",), "General"),
    Shortcut("quit", "&Quit", ("Ctrl+Q",), "General"),
)


# The menu bar: each menu's commands in order, None for a separator. Besides the names above, "recent" is the
# Open Recent submenu, and "remove" and "about" are actions of the window without a shortcut of their own.
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("open", "recent", "remove", None, "export", "batch", None, "quit")),
    ("&Edit", ("copy_answer", "find", None, "settings")),
    (
        "&View",
        ("zoom_in", "zoom_out", "fit_width", None, "next_page", "previous_page", "go_to_page", None)
        + ("focus_library", "focus_document", "focus_answers"),
    ),
    (
        "&Ask",
        ("focus_question", "toggle_scope", "ask_selection", None, "next_answer", "previous_answer", None)
        + ("lookup", "cancel"),
    ),
    ("&Help", ("shortcuts", "about")),
)


def shortcut(name: str) -> Shortcut:
    return next(item for item in SHORTCUTS if item.name == name)


def key_sequences(name: str) -> list[QKeySequence]:
    return [QKeySequence(key) for key in shortcut(name).keys]


def _key_label(key: str) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) or key


class ShortcutsOverlay(QWidget):
    """A dimmed layer over the window listing every shortcut; any key or click closes it."""

    closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAccessibleName("Keyboard shortcuts")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        card = QFrame(self)
        card.setObjectName("shortcutsCard")
        card.setAutoFillBackground(True)
        card.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(3)
        groups = list(dict.fromkeys(item.group for item in SHORTCUTS))
        for column, group in enumerate(groups):
            heading = QLabel(f"<b>{html.escape(group)}</b>", card)
            grid.addWidget(heading, 0, column * 2, 1, 2)
            row = 1
            for item in SHORTCUTS:
                if item.group != group:
                    continue
                keys = " / ".join(_key_label(key) for key in item.keys)
                key_label = QLabel(f"<code>{html.escape(keys)}</code>", card)
                key_label.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(key_label, row, column * 2)
                grid.addWidget(QLabel(item.text.replace("&", "").rstrip("…"), card), row, column * 2 + 1)
                row += 1
        title = QLabel("<h3>Keyboard shortcuts</h3>", card)
        hint = QLabel("<span style='color:gray'>Press any key to close.</span>", card)
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(24, 16, 24, 16)
        card_layout.addWidget(title)
        card_layout.addLayout(grid)
        card_layout.addWidget(hint)
        self._card = card
        parent.installEventFilter(self)
        self.hide()

    def open(self) -> None:
        self.setGeometry(self.parentWidget().rect())
        self._card.adjustSize()
        self._centre_card()
        self.show()
        self.raise_()
        self.setFocus()

    def _centre_card(self) -> None:
        size = self._card.sizeHint()
        self._card.resize(size)
        self._card.move(max(0, (self.width() - size.width()) // 2), max(0, (self.height() - size.height()) // 2))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self.parentWidget().rect())
            self._centre_card()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 110))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta):
            return
        self.dismiss()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.dismiss()

    def dismiss(self) -> None:
        self.hide()
        self.closed.emit()
