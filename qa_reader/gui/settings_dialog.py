"""The settings dialog (Ctrl+,): the speed/accuracy budget, how much of each window a length-adaptive model
reads, threads, the answer threshold and the theme."""

from __future__ import annotations

import dataclasses
import os

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from qa_reader import config

# (label, passages read, window length in tokens, the length budget of a length-adaptive model that goes with
# it: "" reads every token; a model without that budget reads every token too)
BUDGETS = (
    ("Fast", 6, 256, "fast"),
    ("Balanced", 12, 384, "balanced"),
    ("Thorough", 24, 384, ""),
)
WINDOW_LENGTHS = (256, 384, 512)
THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


def _budget_key(passages: int, length: int) -> str:
    return f"{passages}x{length}"


class SettingsDialog(QDialog):
    """Edits a copy of the settings; `chosen()` returns them after the dialog is accepted."""

    def __init__(
        self,
        settings: config.Settings,
        theme: str,
        parent: QWidget | None = None,
        length_budgets: list[dict] | None = None,
    ) -> None:
        """`length_budgets`: the loaded model's, as its manifest lists them (none: it reads every token)."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self._settings = settings

        self.budget = QComboBox(self)
        self.budget.setAccessibleName("Speed and accuracy budget")
        for label, passages, length, _ in BUDGETS:
            self.budget.addItem(f"{label} — {passages} passages, {length}-token windows", _budget_key(passages, length))
        self.budget.addItem("Custom", "")
        self.passages = QSpinBox(self)
        self.passages.setRange(2, 64)
        self.passages.setAccessibleName("Passages read per question")
        self.reading = QComboBox(self)
        self.reading.setAccessibleName("How much of each window the model reads")
        self.reading.addItem("Every token", "")
        for budget in length_budgets or []:
            figures = []
            if budget.get("speedup"):
                figures.append(f"{budget['speedup']:g}× faster")
            if budget.get("held_out_f1") is not None:
                figures.append(f"F1 {budget['held_out_f1']:g} on held-out questions")
            label = budget["name"].capitalize() + (f" — {', '.join(figures)}" if figures else "")
            self.reading.addItem(label, budget["name"])
        if not length_budgets:
            self.reading.setEnabled(False)
            self.reading.setToolTip("This model reads every token of every window.")
        self.window_length = QComboBox(self)
        self.window_length.setAccessibleName("Window length in tokens")
        for length in WINDOW_LENGTHS:
            self.window_length.addItem(f"{length} tokens", length)
        self.threads = QSpinBox(self)
        self.threads.setRange(0, max(1, os.cpu_count() or 1))
        self.threads.setSpecialValueText("Automatic")
        self.threads.setAccessibleName("Threads")
        self.automatic_threshold = QCheckBox("Use the model's calibrated threshold", self)
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setAccessibleName("Answer threshold")
        self.theme = QComboBox(self)
        self.theme.setAccessibleName("Theme")
        for key, label in THEME_LABELS.items():
            self.theme.addItem(label, key)

        form = QFormLayout()
        form.addRow("&Budget:", self.budget)
        form.addRow("&Passages read per question:", self.passages)
        form.addRow("&Window length:", self.window_length)
        form.addRow("&Reading:", self.reading)
        form.addRow("&Threads:", self.threads)
        form.addRow("&Answer threshold:", self.threshold)
        form.addRow("", self.automatic_threshold)
        form.addRow("T&heme:", self.theme)
        note = QLabel(
            "<span style='color:gray'>Reading more passages with longer windows finds more answers but takes "
            "longer. Below the threshold an answer is shown as a guess.</span>",
            self,
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

        self.passages.setValue(settings.passages_to_read)
        self._select_data(self.window_length, settings.max_length if settings.max_length in WINDOW_LENGTHS else 384)
        self.threads.setValue(settings.threads)
        self._select_data(self.reading, settings.length_budget)
        self.automatic_threshold.setChecked(settings.threshold is None)
        self.threshold.setValue(settings.threshold if settings.threshold is not None else 0.1)
        self.threshold.setEnabled(settings.threshold is not None)
        self._select_data(self.theme, theme)
        self._on_budget_edited()

        self.budget.activated.connect(self._on_budget_chosen)
        self.passages.valueChanged.connect(self._on_budget_edited)
        self.window_length.currentIndexChanged.connect(self._on_budget_edited)
        self.automatic_threshold.toggled.connect(lambda automatic: self.threshold.setEnabled(not automatic))

    @staticmethod
    def _select_data(combo: QComboBox, value: object) -> None:
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)

    @Slot(int)
    def _on_budget_chosen(self, index: int) -> None:
        preset = next((b for b in BUDGETS if _budget_key(b[1], b[2]) == self.budget.itemData(index)), None)
        if preset is None:
            return
        _, passages, length, reading = preset
        reading_index = self.reading.findData(reading)
        self.reading.setCurrentIndex(reading_index if reading_index >= 0 else 0)
        self.passages.blockSignals(True)
        self.passages.setValue(passages)
        self.passages.blockSignals(False)
        self._select_data(self.window_length, length)

    @Slot()
    def _on_budget_edited(self) -> None:
        index = self.budget.findData(_budget_key(self.passages.value(), self.window_length.currentData()))
        self.budget.setCurrentIndex(index if index >= 0 else self.budget.count() - 1)

    def chosen(self) -> tuple[config.Settings, str]:
        """The edited settings and theme."""
        settings = dataclasses.replace(
            self._settings,
            passages_to_read=self.passages.value(),
            max_length=int(self.window_length.currentData()),
            threads=self.threads.value(),
            length_budget=str(self.reading.currentData()),
            threshold=None if self.automatic_threshold.isChecked() else round(self.threshold.value(), 3),
        )
        return settings, str(self.theme.currentData())
