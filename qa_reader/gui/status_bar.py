"""The status bar's permanent widgets: the file being indexed with its progress and a Cancel button, and
whether the model is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

if TYPE_CHECKING:
    from qa_reader.gui.indexing import Indexer
    from qa_reader.gui.questions import QuestionController


class IndexingStatus(QWidget):
    """Which file is being indexed (or how many), how far it is and a Cancel button; hidden when none is."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setAccessibleName("Indexing")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Indexing progress")
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel indexing (Esc)")
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.setAccessibleName("Cancel indexing")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.progress, self.cancel_button):
            layout.addWidget(widget)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.hide()

    def follow(self, indexer: Indexer) -> None:
        """Show the progress and the count of this indexer's files."""
        indexer.progressed.connect(self.show_progress)
        indexer.countChanged.connect(self.set_count)

    @Slot(str, str, float)
    def show_progress(self, path: str, stage: str, fraction: float) -> None:
        if stage == "unchanged":
            return
        self.label.setText(f"Indexing {Path(path).name}…")
        # PDFs report every page; other formats read in one go, so a busy bar says that work goes on.
        silent = stage == "reading" and fraction == 0.0
        self.progress.setRange(0, 0 if silent else 100)
        self.progress.setValue(int(fraction * 100))

    @Slot(int)
    def set_count(self, count: int) -> None:
        """How many files are waiting or being indexed."""
        self.setVisible(count > 0)
        if count > 1:
            self.label.setText(f"Indexing {count} files…")


class ModelStatus(QLabel):
    """Whether the question-answering model is loaded, missing or damaged (the reason in its tooltip)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Loading the model…", parent)
        self.setAccessibleName("Model status")

    def follow(self, questions: QuestionController) -> None:
        """Show whether the model these questions go to is loaded."""
        questions.modelLoaded.connect(self.show_loaded)
        questions.modelFailed.connect(self.show_failed)

    @Slot(str)
    def show_loaded(self, name: str) -> None:
        self.setText(f"Model: {name}")
        self.setToolTip("The question-answering model is loaded.")

    @Slot(str)
    def show_failed(self, message: str) -> None:
        self.setText("<span style='color:#c0392b'>The model is missing or damaged</span>")
        self.setToolTip(message)
