"""The batch question sheet (Ctrl+B): questions × documents → a table of best answers, exportable to CSV
and Markdown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
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
from qa_reader.gui.worker import EngineClient
from qa_reader.types import Answer

MAX_CELLS = 2000
MIN_COLUMN_WIDTH = 200  # pixels: an answer of a few words wraps onto two or three lines, never to "pre..."


class BatchDialog(QDialog):
    """Asks every question of every chosen document on the worker and fills the table as answers come."""

    def __init__(self, client: EngineClient, rows: list[LibraryRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch questions")
        self.setAccessibleName("Batch questions")
        self.resize(900, 560)
        self._client = client
        self._job = 0
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
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.markdown_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        self.run_button.clicked.connect(self._on_run)
        self.export_button.clicked.connect(self._on_export_csv)
        self.markdown_button.clicked.connect(self._on_export_markdown)
        close.clicked.connect(self.reject)
        client.batchAnswered.connect(self._on_batch_answered)
        client.batchFinished.connect(self._on_batch_finished)
        client.failed.connect(self._on_failed)

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
        self.export_button.setEnabled(False)
        self.markdown_button.setEnabled(False)
        self.status.setText(f"Asking {len(questions) * len(documents)} questions…")
        self._job = self._client.run_batch(questions, [document_id for document_id, _ in documents])

    @Slot(int, int, int, object)
    def _on_batch_answered(self, job_id: int, row: int, column: int, answer: Answer | None) -> None:
        if job_id != self._job:
            return
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

    @Slot(int)
    def _on_batch_finished(self, job_id: int) -> None:
        if job_id != self._job:
            return
        self.sheet.resizeRowsToContents()
        self.run_button.setEnabled(True)
        self.export_button.setEnabled(bool(self._table))
        self.markdown_button.setEnabled(bool(self._table))
        self.status.setText(f"Done: {sum(1 for a in self._table.values() if a)} answers found.")

    @Slot(int, str, str)
    def _on_failed(self, job_id: int, what: str, message: str) -> None:
        if what == "batch" and job_id == self._job:
            self.status.setText(message)

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
