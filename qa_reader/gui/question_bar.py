"""The question bar: a field (Enter asks, Up/Down walk the history, a pause while typing asks live) and
the scope toggle between the open document and the whole library."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QToolButton, QWidget

LIVE_DELAY_MS = 350
HISTORY_KEPT = 200


class QuestionField(QLineEdit):
    """A line edit with a question history walked by Up and Down (the unfinished question is kept), which
    leaves the window's own shortcuts to the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history: list[str] = []  # most recent first
        self._position = -1  # -1: the draft being typed
        self._draft = ""
        self._window_keys: set[QKeySequence] = set()

    def leave_to_window(self, sequences: Iterable[QKeySequence]) -> None:
        """Keys the field must not claim for itself while it has the focus (the window's commands)."""
        self._window_keys = {sequence for sequence in sequences if not sequence.isEmpty()}

    def event(self, event: QEvent) -> bool:
        # With the X11 key scheme a line edit claims Ctrl+E ("end of line") and other keys of the window's
        # commands before the window sees them; declining the override lets the command run.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if QKeySequence(event.keyCombination()) in self._window_keys:
                event.ignore()
                return False
        return super().event(event)

    @property
    def history(self) -> list[str]:
        return list(self._history)

    def set_history(self, questions: list[str]) -> None:
        self._history = list(dict.fromkeys(q for q in questions if q.strip()))[:HISTORY_KEPT]
        self._position = -1

    def remember(self, question: str) -> None:
        question = question.strip()
        if question:
            self._history = [question] + [q for q in self._history if q != question][: HISTORY_KEPT - 1]
        self._position = -1

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Up and self._history:
            if self._position == -1:
                self._draft = self.text()
            self._position = min(self._position + 1, len(self._history) - 1)
            self.setText(self._history[self._position])
            return
        if event.key() == Qt.Key.Key_Down and self._position >= 0:
            self._position -= 1
            self.setText(self._draft if self._position == -1 else self._history[self._position])
            return
        super().keyPressEvent(event)


class QuestionBar(QWidget):
    """`asked` on Enter; `paused` after a short pause in typing (for answers as you type)."""

    asked = Signal(str)
    paused = Signal(str)
    scopeChanged = Signal(bool)  # True: the whole library

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = QuestionField(self)
        self.field.setPlaceholderText("Ask a question about this document…   (Ctrl+L)")
        self.field.setAccessibleName("Question")
        self.field.setAccessibleDescription("Type a question and press Enter; Up and Down recall earlier questions.")
        self.field.setClearButtonEnabled(True)
        self.field.setObjectName("questionField")
        self.scope = QToolButton(self)
        self.scope.setCheckable(True)
        self.scope.setAccessibleName("Ask the whole library")
        self.scope.setToolTip("Ask the open document or the whole library (Ctrl+Shift+L)")
        self.scope.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.setAccessibleName("Ask")
        self.ask_button.setDefault(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.scope)
        layout.addWidget(self.ask_button)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(LIVE_DELAY_MS)
        self._typing.timeout.connect(self._on_pause)
        self.field.returnPressed.connect(self._on_return)
        self.field.textEdited.connect(self._on_edited)
        self.ask_button.clicked.connect(self._on_return)
        self.scope.toggled.connect(self._on_scope_toggled)
        self._on_scope_toggled(False)

    @property
    def whole_library(self) -> bool:
        return self.scope.isChecked()

    def set_whole_library(self, whole: bool) -> None:
        self.scope.setChecked(whole)

    def toggle_scope(self) -> None:
        self.scope.toggle()

    def text(self) -> str:
        return self.field.text().strip()

    def set_text(self, text: str) -> None:
        self.field.setText(text)
        self._typing.stop()

    def focus(self) -> None:
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    @Slot()
    def _on_return(self) -> None:
        self._typing.stop()
        question = self.text()
        if question:
            self.field.remember(question)
            self.asked.emit(question)

    @Slot(str)
    def _on_edited(self, _: str) -> None:
        self._typing.start()

    @Slot()
    def _on_pause(self) -> None:
        question = self.text()
        if question:
            self.paused.emit(question)

    @Slot(bool)
    def _on_scope_toggled(self, whole: bool) -> None:
        self.scope.setText("Whole library" if whole else "This document")
        self.field.setPlaceholderText(
            "Ask a question about every document in the library…   (Ctrl+L)"
            if whole
            else "Ask a question about this document…   (Ctrl+L)"
        )
        self.scopeChanged.emit(whole)
