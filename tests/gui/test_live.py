"""Answering while typing: the engine says whether a question is quick enough, and a question asked with
Enter is never replaced by one typed after it."""

from __future__ import annotations

import threading

from tests.gui.conftest import open_and_wait


def test_the_status_says_when_answers_while_typing_are_off(qtbot, window, life_cycle_file) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    # As slow as a long PDF on a slow laptop.
    slowed = window.runner.submit(lambda engine: setattr(engine.speed, "ms_per_passage", 1000.0))
    qtbot.waitUntil(lambda: slowed.is_settled, timeout=5000)
    with qtbot.waitSignal(window.questions.liveDeclined, timeout=5000) as declined:
        window.question.paused.emit("What are the phases?")
    message = window.statusBar().currentMessage()
    assert "off" in message and "Enter" in message and f"{declined.args[0]:.0f} ms" in message
    assert window.answers.result is None  # nothing was read live


def test_a_question_typed_live_never_replaces_one_asked_with_enter(qtbot, window, life_cycle_file) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    gate = threading.Event()
    busy = window.runner.submit(lambda engine: gate.wait(10))  # the engine is busy until the test goes on
    asked = window.ask("What are the phases?")
    window.question.paused.emit("What are the phases of")  # typed on while the question waited
    gate.set()
    qtbot.waitUntil(lambda: busy.is_settled and asked.is_settled, timeout=10000)
    assert asked.state == "done"
    assert window.answers.result.question == "What are the phases?"


def test_nothing_is_asked_live_of_an_empty_library(qtbot, window) -> None:
    window.question.set_whole_library(True)
    window.question.paused.emit("What are the phases?")
    assert not window.questions.busy


def test_a_length_adaptive_model_answers_live_at_its_fastest_budget_and_enter_reads_every_token(
    qtbot, make_window, life_cycle_file, tmp_path
) -> None:
    from tests.conftest import VOCABULARY
    from tests.support.tiny_model import build_model_folder

    # The stand-in scales its start logits by the first keep ratio: the fastest budget shows a lower score.
    model = build_model_folder(
        tmp_path / "adaptive",
        VOCABULARY,
        answer_starts={"preparation": 9.0},
        answer_ends={"analysis": 9.0},
        length_budgets={"fast": [0.5, 1.0], "fastest": [0.25, 1.0]},
    )
    window = make_window(model)
    qtbot.waitUntil(lambda: window.questions.model_ready, timeout=5000)
    assert [b["name"] for b in window.questions.length_budgets] == ["fast", "fastest"]
    open_and_wait(qtbot, window, life_cycle_file)
    with qtbot.waitSignal(window.questions.answered, timeout=5000) as live:
        window.question.paused.emit("What are the phases?")
    asked = window.ask("What are the phases?")
    qtbot.waitUntil(lambda: asked.is_settled, timeout=5000)
    live_set, entered = live.args[0], window.answers.result
    best = [(s.answers or s.guesses)[0] for s in (live_set, entered)]
    assert best[0].text == best[1].text == "preparation, detection and analysis"
    assert best[0].score < best[1].score
