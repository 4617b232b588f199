"""The answers panel: ranked answers, each in bold inside its sentence with a confidence bar and its
citation; below the threshold it says plainly that the answer is not there and shows the guesses greyed."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QColor, QFont, QKeyEvent, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from qa_reader.glyphs import readable
from qa_reader.gui.layout import column
from qa_reader.types import Answer, AnswerSet

SENTENCE_REACH = 160  # characters of context kept either side of the answer
_PADDING = 8
_BAR_HEIGHT = 6
_BAR_WIDTH = 72

AnswerRole = Qt.ItemDataRole.UserRole + 1
GuessRole = Qt.ItemDataRole.UserRole + 2


def percent(score: float) -> str:
    """A confidence for people: "48%", or "<1%" rather than a misleading "0%"."""
    if 0 < score < 0.005:
        return "<1%"
    return f"{score:.0%}"


def citation(answer: Answer) -> str:
    """'title, p. N' for an answer ('title, p. 47 (PDF page 56)' where the PDF prints another number)."""
    return f"{answer.document_title}, {answer.page_reference}"


def quoted_with_citation(answer: Answer) -> str:
    """What Ctrl+Shift+C copies: "answer" — title, p. N."""
    return f"“{readable(answer.text)}” — {citation(answer)}"


def sentence_html(answer: Answer, reach: int = SENTENCE_REACH) -> str:
    """The answer's sentence as HTML, the answer in bold, long contexts shortened with ellipses.

    The sentence is cut at the answer's offsets before its glyphs are made readable, so the bold part is
    exactly the answer whatever the PDF's text layer held."""
    start = answer.char_start - answer.sentence_char_start
    end = answer.char_end - answer.sentence_char_start
    sentence = answer.sentence
    if not (0 <= start <= end <= len(sentence)):
        return f"<b>{html.escape(readable(answer.text))}</b>"
    before, middle, after = readable(sentence[:start]), readable(sentence[start:end]), readable(sentence[end:])
    before = " ".join(before.split()) + (" " if before[-1:].isspace() else "")
    after = (" " if after[:1].isspace() else "") + " ".join(after.split())
    if len(before) > reach:
        before = "…" + before[-reach:].split(" ", 1)[-1] + (" " if before.endswith(" ") else "")
    if len(after) > reach:
        after = after[:reach].rsplit(" ", 1)[0] + "…"
    return f"{html.escape(before)}<b>{html.escape(' '.join(middle.split()))}</b>{html.escape(after)}"


class AnswerModel(QAbstractListModel):
    """The answers of one AnswerSet, best first: the first `confident` passed the threshold, the rest are
    greyed guesses."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._answers: list[Answer] = []
        self._confident = 0

    def set_answers(self, answers: Sequence[Answer], confident: int) -> None:
        self.beginResetModel()
        self._answers = list(answers)
        self._confident = confident
        self.endResetModel()

    @property
    def confident(self) -> list[Answer]:
        """The rows above the threshold."""
        return self._answers[: self._confident]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._answers)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._answers):
            return None
        answer = self._answers[index.row()]
        guess = index.row() >= self._confident
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            kind = "Guess" if guess else "Answer"
            text = readable(answer.text)
            return f"{kind} {index.row() + 1}: {text}. {percent(answer.score)} sure. {citation(answer)}."
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{answer.document_path}, {answer.page_reference}"
        if role == AnswerRole:
            return answer
        if role == GuessRole:
            return guess
        return None


class AnswerDelegate(QStyledItemDelegate):
    """Paints one answer: rank, sentence with the answer in bold, confidence bar, document and page."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def _document(self, index: QModelIndex, width: float, option: QStyleOptionViewItem) -> QTextDocument:
        answer: Answer = index.data(AnswerRole)
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(0)
        document.setHtml(f"<span>{index.row() + 1}.&nbsp;{sentence_html(answer)}</span>")
        document.setTextWidth(max(60.0, width))
        return document

    def _text_width(self) -> float:
        return self._view.viewport().width() - 2 * _PADDING

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        document = self._document(index, self._text_width(), option)
        line = option.fontMetrics.height()
        height = document.size().height() + 6 + line + 2 * _PADDING
        return QSize(int(self._view.viewport().width()), int(height))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        answer: Answer = index.data(AnswerRole)
        guess = bool(index.data(GuessRole))
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        rect = option.rect
        if selected:
            # A tint and an accent bar rather than a solid fill: the bold answer stays easy to read.
            tint = QColor(palette.color(QPalette.ColorRole.Highlight))
            tint.setAlpha(40)
            painter.fillRect(rect, tint)
            accent = QRectF(rect.left(), rect.top(), 4, rect.height())
            painter.fillRect(accent, palette.color(QPalette.ColorRole.Highlight))
        elif index.row() % 2:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        if guess:
            text_colour = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        else:
            text_colour = palette.color(QPalette.ColorRole.Text)

        document = self._document(index, rect.width() - 2 * _PADDING, option)
        painter.translate(rect.left() + _PADDING, rect.top() + _PADDING)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, text_colour)
        document.documentLayout().draw(painter, context)
        painter.restore()

        painter.save()
        line = option.fontMetrics.height()
        bar_top = rect.top() + _PADDING + document.size().height() + 6
        bar = QRectF(rect.left() + _PADDING, bar_top + (line - _BAR_HEIGHT) / 2, _BAR_WIDTH, _BAR_HEIGHT)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        track = QColor(text_colour)
        track.setAlpha(45)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, 3, 3)
        filled = QRectF(bar)
        filled.setWidth(max(2.0, bar.width() * max(0.0, min(1.0, answer.score))))
        fill = QColor(150, 150, 150) if guess else _confidence_colour(answer.score)
        painter.setBrush(fill)
        painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(text_colour)
        font = QFont(option.font)
        font.setPointSizeF(font.pointSizeF() * 0.92)
        painter.setFont(font)
        where = f"{percent(answer.score)}  ·  {answer.page_reference}  ·  {answer.document_title}"
        text_rect = QRectF(bar.right() + 8, bar_top, rect.right() - bar.right() - 8 - _PADDING, line)
        elided = painter.fontMetrics().elidedText(where, Qt.TextElideMode.ElideRight, int(text_rect.width()))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()


def _confidence_colour(score: float) -> QColor:
    if score >= 0.6:
        return QColor(46, 160, 67)
    if score >= 0.3:
        return QColor(210, 153, 34)
    return QColor(207, 80, 60)


class _AnswerList(QListView):
    """A list where Enter (and a click) jumps to the answer."""

    jumped = Signal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.jumped.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class AnswersPanel(QWidget):
    """Shows the latest AnswerSet; Enter or click on an answer emits `activated` (jump and highlight)."""

    activated = Signal(object)  # Answer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: AnswerSet | None = None
        self.header = QLabel(self)
        self.header.setWordWrap(True)
        self.header.setObjectName("answersHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setAccessibleName("Answer status")
        self.header.setContentsMargins(10, 8, 10, 8)
        self.model = AnswerModel(self)
        self.list = _AnswerList(self)
        self.list.setModel(self.model)
        self.list.setItemDelegate(AnswerDelegate(self.list))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setAlternatingRowColors(True)
        self.list.setAccessibleName("Answers")
        column(self, self.header, self.list)
        self.list.clicked.connect(self._on_jumped)
        self.list.jumped.connect(self._on_jumped)
        self.show_hint()

    @property
    def result(self) -> AnswerSet | None:
        return self._result

    def answers(self) -> list[Answer]:
        """Everything listed now: the answers that passed the threshold, then the greyed guesses."""
        return [self.model.data(self.model.index(row), AnswerRole) for row in range(self.model.rowCount())]

    def confident_answers(self) -> list[Answer]:
        """The answers listed now that passed the threshold (none when the answer was not found)."""
        return self.model.confident

    def current_answer(self) -> Answer | None:
        index = self.list.currentIndex()
        return index.data(AnswerRole) if index.isValid() else None

    def show_hint(self) -> None:
        self._result = None
        self.model.set_answers([], 0)
        self.header.setText("Ask a question about the open document: <b>Ctrl+L</b>, type, <b>Enter</b>.")

    def show_busy(self, question: str) -> None:
        self.header.setText(f"Reading for “{html.escape(question)}”…")

    def show_message(self, message: str) -> None:
        """A sentence for people (an error they can act on) instead of answers."""
        self._result = None
        self.model.set_answers([], 0)
        self.header.setText(f"<span style='color:#c0392b'>{html.escape(message)}</span>")

    def show_answers(self, result: AnswerSet, scope: str, live: bool = False) -> None:
        """List the answers (or greyed guesses), `scope` naming where we looked ("this document")."""
        self._result = result
        timing = "from the cache" if result.from_cache else f"{result.elapsed_ms:.0f} ms"
        typing = " · as you type" if live else ""
        if result.found:
            count = len(result.answers)
            noun = "answer" if count == 1 else "answers"
            less = (
                "<br><span style='color:gray'>Greyed below: less likely alternatives, short of the support an "
                "answer needs.</span>"
                if result.guesses
                else ""
            )
            self.header.setText(f"{count} {noun} in {html.escape(scope)} · {timing}{typing}{less}")
            self.model.set_answers([*result.answers, *result.guesses], len(result.answers))
        else:
            guesses = (
                "<br><span style='color:gray'>Best guesses (the words fit, but the text does not seem to "
                "say it):</span>"
                if result.guesses
                else ""
            )
            self.header.setText(
                f"<b>The answer is not in {html.escape(scope)}.</b> "
                f"<span style='color:gray'>({timing}{typing})</span>{guesses}"
            )
            self.model.set_answers(result.guesses, 0)
        if result.found:
            self.list.setCurrentIndex(self.model.index(0))

    def select(self, step: int) -> Answer | None:
        """Move `step` answers down (wrapping round), jump to it and return it."""
        rows = self.model.rowCount()
        if rows == 0:
            return None
        current = self.list.currentIndex().row()
        row = (current + step) % rows if current >= 0 else (0 if step > 0 else rows - 1)
        index = self.model.index(row)
        self.list.setCurrentIndex(index)
        self._on_jumped(index)
        return index.data(AnswerRole)

    def _on_jumped(self, index: QModelIndex) -> None:
        answer = index.data(AnswerRole)
        if answer is not None:
            self.activated.emit(answer)
