"""The quick lookup: a small always-on-top window with a question field and the best answer from the
whole library (Ctrl+Shift+Space in the app, or `qa-reader lookup [QUESTION]` bound to a desktop shortcut)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from qa_reader.glyphs import readable
from qa_reader.gui.answers import citation, percent, quoted_with_citation, sentence_html
from qa_reader.gui.runner import Lane, Runner
from qa_reader.types import Answer, AnswerSet


class LookupWindow(QWidget):
    """Enter asks the whole library; Ctrl+Enter shows the answer in the main window; Esc closes."""

    shown = Signal(object)  # Answer: "show it in QA Reader"
    closed = Signal()

    def __init__(self, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle("QA Reader — Quick lookup")
        self.setAccessibleName("Quick lookup")
        self.resize(560, 160)
        self._runner = runner
        self._asks = Lane("the quick lookup's questions")
        self._answer: Answer | None = None

        self.field = QLineEdit(self)
        self.field.setObjectName("questionField")
        self.field.setPlaceholderText("Ask the whole library…")
        self.field.setAccessibleName("Lookup question")
        self.answer = QLabel(self)
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.RichText)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer.setAccessibleName("Best answer")
        self.answer.setMinimumHeight(48)
        self.answer.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        font = self.answer.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.answer.setFont(font)
        self.where = QLabel(self)
        self.where.setAccessibleName("Citation")
        self.show_button = QPushButton("Show in QA Reader", self)
        self.show_button.setToolTip("Ctrl+Enter")
        self.show_button.setEnabled(False)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the answer with its citation (Ctrl+Shift+C)")
        self.copy_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.where, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.show_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        layout.addWidget(self.answer)
        layout.addStretch(1)
        layout.addLayout(buttons)

        self.field.returnPressed.connect(self._on_return)
        for keys, slot in (
            (("Esc",), self.close),
            (("Ctrl+Return", "Ctrl+Enter"), self._on_show),
            (("Ctrl+Shift+C",), self._on_copy),
        ):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(slot)
        self.show_button.clicked.connect(self._on_show)
        self.copy_button.clicked.connect(self._on_copy)
        self._set_hint()

    def _set_hint(self) -> None:
        self.answer.setText("<span style='color:gray'>Type a question and press Enter. Esc closes.</span>")
        self.where.setText("")

    @property
    def current_answer(self) -> Answer | None:
        return self._answer

    def open_with(self, question: str | None = None) -> None:
        """Show, raise and focus the window; ask `question` at once when given."""
        if not self.isVisible():
            self._place()
        self.show()
        self.raise_()
        self.activateWindow()
        self.field.setFocus()
        if question:
            self.field.setText(question)
            self._on_return()
        else:
            self.field.selectAll()

    def _place(self) -> None:
        """Centred across the screen, a quarter of the way down, like a desktop launcher."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        self.move(area.left() + (area.width() - self.width()) // 2, area.top() + area.height() // 4)

    @Slot()
    def _on_return(self) -> None:
        question = self.field.text().strip()
        if not question:
            return
        self._answer = None
        self.show_button.setEnabled(False)
        self.copy_button.setEnabled(False)
        self.answer.setText("<span style='color:gray'>Reading…</span>")
        self.where.setText("")
        self._runner.submit(
            lambda engine: engine.ask(question, None), done=self._on_answered, failed=self._on_failed, lane=self._asks
        )

    def _on_answered(self, answers: AnswerSet) -> None:
        if answers.found:
            best = answers.answers[0]
            self._answer = best
            self.answer.setText(sentence_html(best, reach=120))
            self.where.setText(f"{percent(best.score)} · {html.escape(citation(best))}")
        else:
            self._answer = None
            guess = answers.guesses[0] if answers.guesses else None
            text = "<b>The answer is not in the library.</b>"
            if guess is not None:
                text += f"<br><span style='color:gray'>Best guess: {html.escape(readable(guess.text))}</span>"
            self.answer.setText(text)
            self.where.setText(html.escape(citation(guess)) if guess else "")
        self.show_button.setEnabled(self._answer is not None)
        self.copy_button.setEnabled(self._answer is not None)

    def _on_failed(self, message: str) -> None:
        self.answer.setText(f"<span style='color:#c0392b'>{html.escape(message)}</span>")

    @Slot()
    def _on_show(self) -> None:
        if self._answer is not None:
            self.shown.emit(self._answer)

    @Slot()
    def _on_copy(self) -> None:
        if self._answer is not None:
            QGuiApplication.clipboard().setText(quoted_with_citation(self._answer))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)
