"""Launching: the single-instance hand-over, the quick lookup, settings, batch sheets and exports."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt

from qa_reader import config
from qa_reader.gui.app import message_from
from qa_reader.gui.export import batch_csv, batch_markdown, session_csv, session_markdown
from qa_reader.gui.instance import InstanceServer, hand_over, server_name
from qa_reader.gui.preferences import Preferences
from qa_reader.gui.settings_dialog import SettingsDialog
from qa_reader.types import Answer, AnswerSet
from tests.conftest import LIFE_CYCLE
from tests.gui.conftest import ask_and_wait, open_and_wait

ROOT = Path(__file__).resolve().parents[2]


def _answer(text: str = "preparation", score: float = 0.8) -> Answer:
    return Answer(text, score, 1, "Guide", "/docs/guide.pdf", 3, 10, 10 + len(text), f"Begin with {text}.", 0)


def test_a_second_call_hands_its_files_to_the_running_app(qtbot, window, gui_home: Path, life_cycle_file: Path):
    server = InstanceServer(server_name(config.library_path()))
    assert server.listen()
    server.received.connect(window.handle_message)
    try:
        environment = {**os.environ, "QA_READER_HOME": str(gui_home), "QT_QPA_PLATFORM": "offscreen"}
        second = subprocess.Popen(
            [sys.executable, "-m", "qa_reader", "open", str(life_cycle_file), "--question", "What are the phases?"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=20000)
        output = second.stdout.read()
        second.stdout.close()
        assert second.returncode == 0, output
        assert "handed over" in output
        # The answer and the document's page come back from two threads, in either order.
        qtbot.waitUntil(
            lambda: window.answers.result is not None and window.document.content is not None, timeout=10000
        )
        assert window.document.content.record.path == str(life_cycle_file)
        assert window.answers.answers()[0].text == "preparation, detection and analysis"
    finally:
        server.close()


def test_hand_over_finds_nobody_when_no_app_runs(qtbot) -> None:
    assert hand_over("qa-reader-test-nobody-listens", {"command": "open"}) is False


def test_messages_carry_absolute_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(command="open", files=[Path("a.pdf")], question="Why?", library=None, model=None)
    assert message_from(args) == {"command": "open", "files": [str(tmp_path / "a.pdf")], "question": "Why?"}
    lookup = argparse.Namespace(command="lookup", question="Who?", library=None, model=None)
    assert message_from(lookup) == {"command": "lookup", "files": [], "question": "Who?"}


def test_quick_lookup_answers_and_shows_the_answer_in_the_app(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    window.handle_message({"command": "lookup", "question": "What are the phases?"})
    lookup = window.lookup
    assert lookup.isVisible()
    qtbot.waitUntil(lambda: lookup.current_answer is not None, timeout=5000)
    assert "<b>preparation, detection and analysis</b>" in lookup.answer.text()
    assert "life-cycle, p. 1" in lookup.where.text()
    lookup.show_button.click()
    assert window.answers.current_answer() == lookup.current_answer


def test_settings_dialog_edits_the_budget_threshold_and_theme(qtbot) -> None:
    dialog = SettingsDialog(config.Settings(), "system")
    qtbot.addWidget(dialog)
    assert dialog.budget.currentText().startswith("Balanced")
    dialog.budget.setCurrentIndex(0)
    dialog.budget.activated.emit(0)
    dialog.automatic_threshold.setChecked(False)
    dialog.threshold.setValue(0.3)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    settings, theme = dialog.chosen()
    assert (settings.passages_to_read, settings.max_length, settings.threshold, theme) == (6, 256, 0.3, "dark")
    dialog.passages.setValue(7)
    assert dialog.budget.currentText() == "Custom"


def test_settings_dialog_offers_the_models_length_budgets(qtbot) -> None:
    budgets = [
        {"name": "balanced", "keep_ratios": [0.9], "speedup": 1.6, "held_out_f1": 74.1},
        {"name": "fastest", "keep_ratios": [0.5], "speedup": 3.2, "held_out_f1": 70.0},
    ]
    dialog = SettingsDialog(config.Settings(length_budget="fastest"), "system", length_budgets=budgets)
    qtbot.addWidget(dialog)
    assert dialog.reading.isEnabled()
    assert [dialog.reading.itemText(i) for i in range(3)] == [
        "Every token",
        "Balanced — 1.6× faster, F1 74.1 on held-out questions",
        "Fastest — 3.2× faster, F1 70 on held-out questions",
    ]
    assert dialog.chosen()[0].length_budget == "fastest"
    dialog.reading.setCurrentIndex(1)
    assert dialog.chosen()[0].length_budget == "balanced"
    # A preset brings the model's budget of its name along, and every token when the model has none such.
    for preset, reading in (("Thorough", ""), ("Balanced", "balanced"), ("Fast", "")):
        index = next(i for i in range(dialog.budget.count()) if dialog.budget.itemText(i).startswith(preset))
        dialog.budget.setCurrentIndex(index)
        dialog.budget.activated.emit(index)
        assert dialog.chosen()[0].length_budget == reading
    plain = SettingsDialog(config.Settings(), "system")
    qtbot.addWidget(plain)
    assert not plain.reading.isEnabled() and plain.chosen()[0].length_budget == ""


def test_preferences_round_trip(qtbot, gui_home: Path) -> None:
    preferences = Preferences()
    preferences.set_engine_settings(config.Settings(passages_to_read=20, threshold=0.25))
    preferences.add_recent_file("/a.pdf")
    preferences.add_recent_file("/b.pdf")
    preferences.add_recent_file("/a.pdf")
    preferences.sync()
    again = Preferences()
    assert again.engine_settings().passages_to_read == 20 and again.engine_settings().threshold == 0.25
    assert again.recent_files() == ["/a.pdf", "/b.pdf"]


def test_preferences_keep_every_setting_declared_saved(qtbot, gui_home: Path) -> None:
    chosen = config.Settings(passages_to_read=7, max_length=256, threads=2, threshold=0.3, top_k=9)
    assert set(chosen.saved()) == set(config.Settings.names("saved"))
    preferences = Preferences()
    preferences.set_engine_settings(chosen)
    preferences.sync()
    again = Preferences().engine_settings()
    assert again == config.Settings(passages_to_read=7, max_length=256, threads=2, threshold=0.3)  # top_k: unsaved


def run_batch(qtbot, window, questions: str):
    """A batch sheet over the window's library, run on `questions` until every cell is in."""
    from qa_reader.gui.batch import BatchDialog

    dialog = BatchDialog(window.runner, window.library.rows())
    qtbot.addWidget(dialog)
    dialog.questions.setPlainText(questions)
    with qtbot.waitSignal(dialog.completed, timeout=10000):
        dialog.run_button.click()
    return dialog


def test_batch_sheet_fills_a_table_and_exports_it(qtbot, window, life_cycle_file: Path, pets_file: Path) -> None:

    open_and_wait(qtbot, window, pets_file)
    open_and_wait(qtbot, window, life_cycle_file)
    dialog = run_batch(qtbot, window, "What are the phases?\nWho likes weather?\n")
    titles = [title for _, title in dialog.chosen_documents()]
    lines = dialog.csv_text().splitlines()
    assert lines[0] == ",".join(["question", *titles])
    life_column = titles.index("life-cycle")
    assert dialog.sheet.item(0, life_column).text().startswith("preparation, detection and analysis\np. 1")
    assert '"preparation, detection and analysis (p. 1' in lines[1]
    assert dialog.export_button.isEnabled()


def test_exports_name_every_answer_with_its_page() -> None:
    found = AnswerSet("What first?", (_answer(),), (), 0.1)
    missing = AnswerSet("What never?", (), (_answer("a guess", 0.01),), 0.1)
    markdown = session_markdown([found, missing], when=datetime(2026, 1, 2, 3, 4))
    assert "## 1. What first?" in markdown and "- **preparation** — Guide, p. 3 (80%)" in markdown
    assert "*Not found in the document(s).* Best guesses:" in markdown
    rows = session_csv([found, missing]).splitlines()
    assert rows[1].startswith("What first?,1,preparation,0.8000,yes,Guide,3,")
    assert rows[2].startswith("What never?,1,a guess,0.0100,no,")
    sheet = batch_csv(["Q1", "Q2"], ["Guide"], {(0, 0): _answer(), (1, 0): None}).splitlines()
    assert sheet == ["question,Guide", 'Q1,"preparation (p. 3, 80%)"', "Q2,"]


def test_the_sample_document_and_icon_are_bundled() -> None:
    sample = config.resources_dir() / "sample" / "welcome.md"
    words = len(sample.read_text("utf-8").split())
    assert 400 <= words <= 800
    assert (config.resources_dir() / "qa-reader.svg").read_text("utf-8").lstrip().startswith("<?xml")


def test_settings_reach_the_engine(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    window.apply_settings(config.Settings(threshold=0.99))
    result = ask_and_wait(qtbot, window, "What are the phases?")
    assert not result.found and result.threshold == 0.99
    assert window.preferences.engine_settings().threshold == 0.99


def test_the_lookup_command_starts_with_only_the_lookup_window(qtbot, tiny_model_dir: Path) -> None:
    from qa_reader.gui.app import application, start

    args = argparse.Namespace(command="lookup", question=None, library=None, model=tiny_model_dir)
    running = start(args, application())
    try:
        qtbot.addWidget(running.window)
        assert running.window.lookup is not None and running.window.lookup.isVisible()
        assert not running.window.isVisible()
        qtbot.waitUntil(lambda: running.window.first_listing.is_settled, timeout=5000)
        # A second `qa-reader open` reaches this instance rather than starting another.
        assert hand_over(running.server.name, {"command": "open", "files": [], "question": None})
        qtbot.waitUntil(running.window.isVisible, timeout=5000)
    finally:
        running.window.shutdown()
        running.server.close()
        if running.window.lookup is not None:
            running.window.lookup.close()


def _labels_show_no_ampersand(dialog) -> None:
    from PySide6.QtWidgets import QLabel

    for label in dialog.findChildren(QLabel):
        if "&" in label.text() and label.textFormat() != Qt.TextFormat.RichText:
            assert label.buddy() is not None, f"{label.text()!r} shows its '&'"


def test_batch_sheet_columns_are_readable_with_many_documents(qtbot, window, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QHeaderView

    from qa_reader.gui.batch import MIN_COLUMN_WIDTH, BatchDialog

    for number in range(6):
        path = tmp_path / "many" / f"copy-{number}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(LIFE_CYCLE, encoding="utf-8")
        open_and_wait(qtbot, window, path)
    dialog = BatchDialog(window.runner, window.library.rows())
    qtbot.addWidget(dialog)
    dialog.show()
    _labels_show_no_ampersand(dialog)
    dialog.questions.setPlainText("What are the phases?\n")
    with qtbot.waitSignal(dialog.completed, timeout=20000):
        dialog.run_button.click()
    sheet = dialog.sheet
    assert sheet.columnCount() == 6 and sheet.wordWrap()
    assert MIN_COLUMN_WIDTH >= 160
    for column in range(sheet.columnCount()):
        assert sheet.columnWidth(column) >= MIN_COLUMN_WIDTH
        item = sheet.item(0, column)
        assert "preparation, detection and analysis" in item.toolTip()
        assert "four phases" in item.toolTip()  # the sentence around it
        # Tall enough for every wrapped line of the cell.
        needed = sheet.fontMetrics().boundingRect(
            0, 0, sheet.columnWidth(column) - 8, 10_000, Qt.TextFlag.TextWordWrap, item.text()
        )
        assert sheet.rowHeight(0) >= needed.height()
    header = sheet.horizontalHeader()
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Interactive or header.stretchLastSection()
    assert sheet.horizontalHeaderItem(0).toolTip()


def test_batch_sheet_exports_markdown_too(qtbot, window, life_cycle_file: Path, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog

    open_and_wait(qtbot, window, life_cycle_file)
    dialog = run_batch(qtbot, window, "What are the phases?\n")
    assert dialog.markdown_button.isEnabled()
    target = tmp_path / "sheet.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "Markdown (*.md)"))
    dialog.markdown_button.click()
    assert "| What are the phases? | preparation, detection and analysis (p. 1, " in target.read_text("utf-8")


def test_batch_markdown_is_a_table_with_citations() -> None:
    table = {(0, 0): _answer("a | b"), (1, 0): None}
    text = batch_markdown(["Q1?", "Q2?"], ["Guide"], table)
    lines = text.splitlines()
    assert lines[0] == "| Question | Guide |"
    assert lines[1] == "| --- | --- |"
    assert lines[2] == "| Q1? | a \\| b (p. 3, 80%) |"
    assert lines[3] == "| Q2? | — |"


def test_settings_dialog_labels_and_threshold_box_are_whole(qtbot) -> None:
    dialog = SettingsDialog(config.Settings(threshold=0.3), "system")
    qtbot.addWidget(dialog)
    dialog.show()
    _labels_show_no_ampersand(dialog)
    # The box has a row of its own, as wide as the other fields, instead of squeezed beside the check box.
    assert dialog.threshold.width() == dialog.passages.width()


def test_a_batch_can_be_stopped_and_lets_a_question_in_between(
    qtbot, window, life_cycle_file: Path, pets_file: Path, monkeypatch
) -> None:
    import threading

    from qa_reader.engine import Engine
    from qa_reader.gui.batch import BatchDialog

    open_and_wait(qtbot, window, pets_file)
    open_and_wait(qtbot, window, life_cycle_file)
    # The first cell holds the engine's thread until the test has asked its question and pressed Stop.
    first_cell = threading.Event()
    go_on = threading.Event()
    ask = Engine.ask

    def gated_ask(self, question, *args, **kwargs):
        if question.startswith("Batch") and not first_cell.is_set():
            first_cell.set()
            go_on.wait(10)
        return ask(self, question, *args, **kwargs)

    monkeypatch.setattr(Engine, "ask", gated_ask)
    dialog = BatchDialog(window.runner, window.library.rows())
    qtbot.addWidget(dialog)
    dialog.questions.setPlainText("\n".join(f"Batch question {n}?" for n in range(5)))
    dialog.run_button.click()
    assert first_cell.wait(10)
    question = window.ask("What are the phases?")
    dialog.stop_button.click()
    with qtbot.waitSignal(dialog.completed, timeout=10000):
        go_on.set()
    qtbot.waitUntil(lambda: question.is_settled, timeout=10000)
    assert window.answers.answers()[0].text == "preparation, detection and analysis"
    assert dialog.sheet.item(0, 0) is not None and dialog.sheet.item(4, 1) is None  # only the first cell
    assert dialog.status.text().startswith("Stopped after 1 of 10 questions")
    assert dialog.run_button.isEnabled() and not dialog.stop_button.isEnabled()
