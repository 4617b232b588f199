"""The runner on its own, with a plain object for a resource: callbacks bound to their request, lanes,
background requests, cancelling, progress reported across threads, failures as sentences, stopping."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from functools import partial

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThread

from qa_reader.errors import UserError
from qa_reader.gui.runner import Lane, Request, RequestState, Runner, when_settled

WAIT_MS = 5000


class Resource:
    """Stands in for the engine: made and closed on the runner's thread, remembering what ran, in order."""

    def __init__(self) -> None:
        self.thread = QThread.currentThread()
        self.ran: list[str] = []
        self.closed_on: QThread | None = None

    def close(self) -> None:
        self.closed_on = QThread.currentThread()


class Gate:
    """An op that holds the runner's thread until the test opens the gate, so that what is submitted
    meanwhile waits, whatever the speed of the machine."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self, resource: Resource) -> str:
        self.entered.set()
        self.opened.wait(WAIT_MS / 1000)
        resource.ran.append("gate")
        return "gate"


def named(name: str):
    def op(resource: Resource) -> str:
        resource.ran.append(name)
        return name

    return op


@pytest.fixture
def made() -> list[Resource]:
    return []


@pytest.fixture
def runner(qtbot, made: list[Resource]):
    def make() -> Resource:
        made.append(Resource())
        return made[-1]

    runner = Runner(make, close=Resource.close, name="qa-reader-test-runner")
    runner.start()
    yield runner
    runner.stop()


def settle(qtbot, *requests: Request) -> None:
    qtbot.waitUntil(lambda: all(request.is_settled for request in requests), timeout=WAIT_MS)


def hold(qtbot, runner: Runner) -> Gate:
    """Occupy the runner's thread until the returned gate is opened."""
    gate = Gate()
    runner.submit(gate)
    assert gate.entered.wait(WAIT_MS / 1000)
    return gate


def test_done_runs_on_the_gui_thread_with_the_ops_result(qtbot, runner: Runner, made: list[Resource]) -> None:
    seen = []
    request = runner.submit(
        lambda resource: (resource.thread, QThread.currentThread()),
        done=lambda result: seen.append((result, QThread.currentThread())),
    )
    assert request.state == RequestState.WAITING or request.state == RequestState.RUNNING
    settle(qtbot, request)
    (resource_thread, op_thread), callback_thread = seen[0]
    assert request.state == RequestState.DONE and request.result == (resource_thread, op_thread)
    assert op_thread is resource_thread and op_thread is not QThread.currentThread()
    assert callback_thread is QThread.currentThread()
    assert len(made) == 1  # made once, on first use


def test_failures_come_back_as_sentences(qtbot, runner: Runner) -> None:
    def refuse(resource: Resource) -> None:
        raise UserError("That file is not a PDF.")

    def crash(resource: Resource) -> None:
        raise KeyError("page")

    messages = []
    requests = [runner.submit(op, failed=messages.append) for op in (refuse, crash)]
    settle(qtbot, *requests)
    assert [request.state for request in requests] == [RequestState.FAILED, RequestState.FAILED]
    assert messages[0] == "That file is not a PDF."
    assert "Something went wrong inside QA Reader (KeyError" in messages[1] and "Traceback" not in messages[1]
    assert requests[1].error == messages[1]


def test_a_newer_request_replaces_the_waiting_one_of_its_lane(qtbot, runner: Runner, made) -> None:
    lane = Lane("questions")
    gate = hold(qtbot, runner)
    answered, cancelled = [], []
    requests = [
        runner.submit(named(f"q{n}"), done=answered.append, cancelled=lambda n=n: cancelled.append(n), lane=lane)
        for n in range(3)
    ]
    assert lane.busy and lane.current is requests[-1]
    gate.opened.set()
    settle(qtbot, *requests)
    assert answered == ["q2"] and cancelled == [0, 1]
    assert made[0].ran == ["gate", "q2"]  # the replaced ones never ran
    assert not lane.busy


@pytest.mark.parametrize("replaced_by", ["a newer request", "forget"])
def test_the_answer_to_a_running_request_is_dropped_once_replaced(qtbot, runner: Runner, replaced_by: str) -> None:
    lane = Lane("questions")
    gate = Gate()
    answered = []
    running = runner.submit(gate, done=answered.append, lane=lane)
    assert gate.entered.wait(WAIT_MS / 1000)
    if replaced_by == "forget":
        lane.forget()
        later = []
    else:
        later = [runner.submit(named("newer"), done=answered.append, lane=lane)]
    gate.opened.set()
    settle(qtbot, running, *later)
    assert running.state == RequestState.CANCELLED
    assert answered == (["newer"] if later else [])


def test_two_lanes_do_not_replace_each_other(qtbot, runner: Runner) -> None:
    main, lookup = Lane("main window"), Lane("lookup")
    gate = hold(qtbot, runner)
    answered = []
    requests = [
        runner.submit(named("main"), done=answered.append, lane=main),
        runner.submit(named("lookup"), done=answered.append, lane=lookup),
    ]
    gate.opened.set()
    settle(qtbot, *requests)
    assert sorted(answered) == ["lookup", "main"]


def test_background_requests_wait_for_the_others(qtbot, runner: Runner, made) -> None:
    gate = hold(qtbot, runner)
    requests = [runner.submit(named(f"file {n}"), background=True) for n in range(3)]
    requests.append(runner.submit(named("question")))
    gate.opened.set()
    settle(qtbot, *requests)
    assert made[0].ran == ["gate", "question", "file 0", "file 1", "file 2"]


def test_a_cancelled_request_never_runs(qtbot, runner: Runner, made) -> None:
    gate = hold(qtbot, runner)
    cancelled = []
    request = runner.submit(named("never"), done=pytest.fail, cancelled=lambda: cancelled.append(True))
    request.cancel()
    assert cancelled == []  # later, on the GUI thread, never inside cancel()
    gate.opened.set()
    settle(qtbot, request)
    assert cancelled == [True] and request.state == RequestState.CANCELLED
    assert "never" not in made[0].ran


def test_a_running_op_sees_its_cancel_event(qtbot, runner: Runner) -> None:
    started = threading.Event()
    # The op watches the event it was given: it may start before `submit` has returned the request.
    cancel = threading.Event()

    def long_job(resource: Resource) -> None:
        started.set()
        while not cancel.wait(0.01):
            pass
        raise RuntimeError("stopped half way")  # what an op that honours its event raises

    request = runner.submit(long_job, failed=pytest.fail, cancel=cancel)
    assert started.wait(WAIT_MS / 1000)
    assert request.state == RequestState.RUNNING
    request.cancel()
    settle(qtbot, request)
    assert request.state == RequestState.CANCELLED


def test_one_event_cancels_a_whole_batch(qtbot, runner: Runner, made) -> None:
    gate = hold(qtbot, runner)
    cancel = threading.Event()
    cells = [runner.submit(named(f"cell {n}"), cancel=cancel, background=True) for n in range(5)]
    question = runner.submit(named("question"))
    cancel.set()
    gate.opened.set()
    settle(qtbot, question, *cells)
    assert [cell.state for cell in cells] == [RequestState.CANCELLED] * 5
    assert made[0].ran == ["gate", "question"]


def test_progress_reaches_the_gui_thread_in_order_before_done(qtbot, runner: Runner) -> None:
    events = []
    report = runner.on_gui_thread(lambda stage, fraction: events.append((stage, fraction, QThread.currentThread())))

    def job(resource: Resource) -> str:
        for step in range(3):
            report("reading", step / 3)
        return "read"

    request = runner.submit(job, done=lambda result: events.append((result, None, QThread.currentThread())))
    settle(qtbot, request)
    assert [event[:2] for event in events] == [("reading", 0.0), ("reading", 1 / 3), ("reading", 2 / 3), ("read", None)]
    assert all(event[2] is QThread.currentThread() for event in events)


def test_a_resource_that_cannot_be_made_fails_every_request(qtbot) -> None:
    attempts = []

    def make() -> Resource:
        attempts.append(1)
        raise UserError("The library is damaged.")

    runner = Runner(make, name="qa-reader-test-broken")
    runner.start()
    try:
        requests = [runner.submit(named("a")), runner.submit(named("b"))]
        settle(qtbot, *requests)
        assert [request.error for request in requests] == ["The library is damaged."] * 2
        assert attempts == [1]
    finally:
        runner.stop()


def test_stop_closes_the_resource_on_its_thread(qtbot, runner: Runner, made) -> None:
    settle(qtbot, runner.submit(named("first")))
    assert runner.stop() is True
    assert not runner.running
    assert made[0].closed_on is made[0].thread
    assert runner.stop() is True  # twice is harmless
    late = runner.submit(named("late"), cancelled=pytest.fail)
    assert late.state == RequestState.CANCELLED  # at once, and without a callback into a closing window


def test_nothing_comes_back_once_stopped(qtbot, runner: Runner) -> None:
    gate = hold(qtbot, runner)
    answered = []
    request = runner.submit(named("queued"), done=answered.append)
    gate.opened.set()
    assert runner.stop() is True
    qtbot.wait(50)
    assert answered == [] and not request.is_settled


def test_callbacks_of_a_deleted_receiver_are_skipped(qtbot, runner: Runner) -> None:
    class Receiver(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.results: list[str] = []

        def on_done(self, result: str) -> None:
            self.results.append(result)

    receiver = Receiver()
    gate = hold(qtbot, runner)
    request = runner.submit(named("late"), done=receiver.on_done)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(receiver), timeout=WAIT_MS)
    gate.opened.set()
    settle(qtbot, request)  # no "already deleted" error from the callback
    assert request.state == RequestState.DONE


def test_when_settled_waits_for_every_request(qtbot, runner: Runner) -> None:
    gate = hold(qtbot, runner)
    requests = [runner.submit(named(f"r{n}")) for n in range(3)]
    requests[1].cancel()
    called = []
    when_settled(requests, lambda: called.append([request.state for request in requests]))
    qtbot.wait(50)
    assert called == []
    gate.opened.set()
    qtbot.waitUntil(lambda: bool(called), timeout=WAIT_MS)
    assert called == [[RequestState.DONE, RequestState.CANCELLED, RequestState.DONE]]
    when_settled(requests, lambda: called.append("again"))  # all settled already: at once
    assert called[-1] == "again"


def test_a_settled_request_is_not_kept_alive_by_what_waits_on_it(qtbot, runner: Runner) -> None:
    request = runner.submit(named("once"))
    request.settled.connect(partial(len, [request]))
    when_settled([request], partial(len, [request]))
    settle(qtbot, request)
    qtbot.wait(10)  # the queued call that settled it is gone too
    gone = weakref.ref(request)
    del request
    gc.collect()
    assert gone() is None


def test_tests_can_wait_on_the_settled_signal(qtbot, runner: Runner) -> None:
    request = runner.submit(named("signalled"))
    with qtbot.waitSignal(request.settled, timeout=WAIT_MS):
        pass  # it settles on a later turn of the event loop, never inside submit
    assert request.result == "signalled" and request.is_settled


def test_stop_waits_for_an_op_that_outlasts_the_stop_wait(qtbot, runner: Runner, monkeypatch) -> None:
    # Closing the app while an op that does not watch its cancel event runs: its thread must still have ended
    # when stop returns, because Qt aborts the process when a running QThread is destroyed.
    monkeypatch.setattr("qa_reader.gui.runner.STOP_WAIT_MS", 50)
    started = threading.Event()

    def stubborn(resource: Resource) -> None:
        started.set()
        time.sleep(0.5)

    runner.submit(stubborn)
    assert started.wait(WAIT_MS / 1000)
    assert runner.stop() is False  # it took longer than the wait
    assert not runner.running
