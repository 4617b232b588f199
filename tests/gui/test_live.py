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
