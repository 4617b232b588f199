"""The batch question sheet (Ctrl+B): questions × documents → a table of best answers, exportable to CSV
and Markdown."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qa_reader.glyphs import readable
from qa_reader.gui.answers import citation, percent
from qa_reader.gui.export import batch_csv, batch_markdown
from qa_reader.gui.library_panel import LibraryRow
from qa_reader.gui.runner import Runner, when_settled
from qa_reader.types import Answer

if TYPE_CHECKING:
    from qa_reader.engine import Engine

MAX_CELLS = 2000
MIN_COLUMN_WIDTH = 200  # pixels: an answer of a few words wraps onto two or three lines, never to "pre..."


def best_answer(question: str, document_id: int, engine: Engine) -> Answer | None:
    """An op for one cell: the best answer to `question` in one document, or None."""
    answers = engine.ask(question, [document_id], top_k=1, remember=False)
    return answers.answers[0] if answers.answers else None


class BatchDialog(QDialog):
    """Asks every question of every chosen document on the engine's runner, one cell per request in the
    background (questions from the main window run in between), and fills the table as answers come.
    Stop or closing the dialog cancels the cells not yet asked."""

    completed = Signal()  # every cell of the run was answered, failed or was cancelled

    def __init__(self, runner: Runner, rows: list[LibraryRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch questions")
        self.setAccessibleName("Batch questions")
        self.resize(900, 560)
        self._runner = runner
        self._cancel = threading.Event()  # shared by the cells of the current run
        self._cells_left = 0
        self._failure = ""  # the first cell's failure, which stops the run
        self._questions: list[str] = []
        self._titles: list[str] = []
        self._table: dict[tuple[int, int], Answer | None] = {}

        self.questions = QPlainTextEdit(self)
        self.questions.setPlaceholderText("One question per line")
        self.questions.setAccessibleName("Questions, one per line")
        self.documents = QListWidget(self)
        self.documents.setAccessibleName("Documents to ask")
        for row in rows:
            if not row.searchable:
                continue
            item = QListWidgetItem(row.title, self.documents)
            item.setData(Qt.ItemDataRole.UserRole, row.document_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
        self.sheet = QTableWidget(self)
        self.sheet.setAccessibleName("Answers table")
        self.sheet.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sheet.setWordWrap(True)
        self.sheet.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.sheet.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.sheet.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.sheet.horizontalHeader()
        header.setMinimumSectionSize(MIN_COLUMN_WIDTH)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.status = QLabel(self)
        self.run_button = QPushButton("&Run", self)
        self.stop_button = QPushButton("&Stop", self)
        self.stop_button.setToolTip("Cancel the questions not yet asked")
        self.stop_button.setEnabled(False)
        self.export_button = QPushButton("&Export CSV…", self)
        self.export_button.setEnabled(False)
        self.markdown_button = QPushButton("Export &Markdown…", self)
        self.markdown_button.setEnabled(False)
        close = QPushButton("Close", self)

        inputs = QWidget(self)
        inputs_layout = QVBoxLayout(inputs)
        inputs_layout.setContentsMargins(0, 0, 0, 0)
        questions_label = QLabel("&Questions:", inputs)
        questions_label.setBuddy(self.questions)
        documents_label = QLabel("&Documents:", inputs)
        documents_label.setBuddy(self.documents)
        inputs_layout.addWidget(questions_label)
        inputs_layout.addWidget(self.questions, 2)
        inputs_layout.addWidget(documents_label)
        inputs_layout.addWidget(self.documents, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(inputs)
        splitter.addWidget(self.sheet)
        splitter.setSizes([280, 620])
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.markdown_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        self.run_button.clicked.connect(self._on_run)
        self.stop_button.clicked.connect(self.stop)
        self.export_button.clicked.connect(self._on_export_csv)
        self.markdown_button.clicked.connect(self._on_export_markdown)
        close.clicked.connect(self.reject)
        self.finished.connect(self.stop)

    def chosen_documents(self) -> list[tuple[int, str]]:
        chosen = []
        for index in range(self.documents.count()):
            item = self.documents.item(index)
            if item.checkState() == Qt.CheckState.Checked:
                chosen.append((int(item.data(Qt.ItemDataRole.UserRole)), item.text()))
        return chosen

    @Slot()
    def _on_run(self) -> None:
        questions = [line.strip() for line in self.questions.toPlainText().splitlines() if line.strip()]
        documents = self.chosen_documents()
        if not questions or not documents:
            self.status.setText("Type at least one question and tick at least one document.")
            return
        if len(questions) * len(documents) > MAX_CELLS:
            self.status.setText(f"That is more than {MAX_CELLS} cells; ask fewer questions or documents at once.")
            return
        self._questions = questions
        self._titles = [title for _, title in documents]
        self._table = {}
        self.sheet.clear()
        self.sheet.setRowCount(len(questions))
        self.sheet.setColumnCount(len(documents))
        self.sheet.setVerticalHeaderLabels(questions)
        self.sheet.setHorizontalHeaderLabels(self._titles)
        for column, title in enumerate(self._titles):
            self.sheet.horizontalHeaderItem(column).setToolTip(title)
        for row, question in enumerate(questions):
            self.sheet.verticalHeaderItem(row).setToolTip(question)
        self._size_columns()
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.export_button.setEnabled(False)
        self.markdown_button.setEnabled(False)
        self.status.setText(f"Asking {len(questions) * len(documents)} questions…")
        self._cancel = threading.Event()
        self._failure = ""
        self._cells_left = len(questions) * len(documents)
        for row, question in enumerate(questions):
            for column, (document_id, _) in enumerate(documents):
                request = self._runner.submit(
                    partial(best_answer, question, document_id),
                    done=partial(self._on_cell_answered, row, column),
                    failed=self._on_cell_failed,
                    cancel=self._cancel,
                    background=True,
                )
                when_settled([request], self._on_cell_settled)

    @Slot()
    def stop(self) -> None:
        """Cancel the cells of the run not yet asked (the one being asked still fills in)."""
        self._cancel.set()

    def _on_cell_answered(self, row: int, column: int, answer: Answer | None) -> None:
        self._table[(row, column)] = answer
        text = f"{readable(answer.text)}\n{answer.page_reference} · {answer.score:.0%}" if answer else "—"
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        if answer is None:
            item.setToolTip("Not found in this document")
        else:
            sentence = " ".join(readable(answer.sentence).split())
            where = f"{citation(answer)} · {percent(answer.score)} sure"
            item.setToolTip(f"{readable(answer.text)}\n\n{where}\n\n“{sentence}”")
        self.sheet.setItem(row, column, item)
        self.sheet.resizeRowToContents(row)
        self.status.setText(f"{len(self._table)} of {len(self._questions) * len(self._titles)} answered…")

    def _on_cell_failed(self, message: str) -> None:
        if not self._failure:
            self._failure = message
            self._cancel.set()  # the other cells would most likely fail the same way

    @Slot()
    def _on_cell_settled(self) -> None:
        self._cells_left -= 1
        if self._cells_left:
            return
        self.sheet.resizeRowsToContents()
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.export_button.setEnabled(bool(self._table))
        self.markdown_button.setEnabled(bool(self._table))
        found = sum(1 for answer in self._table.values() if answer)
        cells = len(self._questions) * len(self._titles)
        if self._failure:
            self.status.setText(self._failure)
        elif len(self._table) < cells:
            self.status.setText(f"Stopped after {len(self._table)} of {cells} questions: {found} answers found.")
        else:
            self.status.setText(f"Done: {found} answers found.")
        self.completed.emit()

    def _size_columns(self) -> None:
        """Share the sheet's width between the documents, never below MIN_COLUMN_WIDTH (the sheet scrolls)."""
        columns = self.sheet.columnCount()
        if columns == 0:
            return
        available = self.sheet.viewport().width() - self.sheet.verticalHeader().width()
        width = max(MIN_COLUMN_WIDTH, available // columns)
        for column in range(columns):
            self.sheet.setColumnWidth(column, width)

    def csv_text(self) -> str:
        return batch_csv(self._questions, self._titles, self._table)

    def markdown_text(self) -> str:
        return batch_markdown(self._questions, self._titles, self._table)

    @Slot()
    def _on_export_csv(self) -> None:
        self._export("batch-answers.csv", "CSV (*.csv)", self.csv_text())

    @Slot()
    def _on_export_markdown(self) -> None:
        self._export("batch-answers.md", "Markdown (*.md)", self.markdown_text())

    def _export(self, name: str, file_filter: str, text: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the batch sheet", name, file_filter)
        if not path:
            return
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as error:
            QMessageBox.warning(self, "Export failed", f"{path} could not be written ({error.strerror}).")
            return
        self.status.setText(f"Saved {Path(path).name}.")
