"""Answering while typing: the estimate from the passages a question reads and the speed measured here."""

from __future__ import annotations

from types import SimpleNamespace

from qa_reader import config
from qa_reader.gui.live import FIRST_MS_PER_PASSAGE, LIVE_BUDGET_MS, LiveBudget
from qa_reader.types import AnswerSet

SETTINGS = config.Settings(passages_to_read=12, neighbours_of=2, read_whole_below=16)


def documents(*passage_counts: int) -> list:
    return [SimpleNamespace(passage_count=count) for count in passage_counts]


def test_small_documents_are_read_whole_and_large_ones_to_a_budget() -> None:
    assert LiveBudget.passages_read(documents(3, 16), SETTINGS) == 19
    assert LiveBudget.passages_read(documents(3, 17, 900), SETTINGS) == 3 + 12 + 2 * 2  # one budget for all large


def test_only_a_question_well_under_100_ms_is_asked_live() -> None:
    budget = LiveBudget()
    fits = int(LIVE_BUDGET_MS // FIRST_MS_PER_PASSAGE)
    assert budget.allows(documents(fits), SETTINGS)
    assert not budget.allows(documents(fits + 1), SETTINGS)
    assert not budget.allows([], SETTINGS)  # nothing to read: nothing to answer


def test_the_speed_learns_from_timed_questions_only() -> None:
    budget = LiveBudget()
    budget.learn(AnswerSet("q", (), (), 0.5, from_cache=True, elapsed_ms=1.0), documents(4), SETTINGS)
    assert budget.ms_per_passage == FIRST_MS_PER_PASSAGE
    budget.learn(AnswerSet("q", (), (), 0.5, elapsed_ms=20.0), documents(4), SETTINGS)  # 5 ms a passage
    assert budget.ms_per_passage == (FIRST_MS_PER_PASSAGE + 5.0) / 2


def test_the_status_says_when_answers_while_typing_are_off(qtbot, window, life_cycle_file) -> None:
    from tests.gui.conftest import open_and_wait

    open_and_wait(qtbot, window, life_cycle_file)
    window.live_budget.ms_per_passage = 1000.0  # as slow as a long PDF on a slow laptop
    window.question.paused.emit("What are the phases?")
    message = window.statusBar().currentMessage()
    assert "off" in message and "Enter" in message
    assert window.answers.result is None  # nothing was asked live
