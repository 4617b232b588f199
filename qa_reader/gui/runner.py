"""Work on one long-lived thread that owns a resource (the engine, or a library connection of its own).

`Runner.submit(op, done=..., failed=...)` queues `op`, a plain function of the resource, and returns a
`Request` at once. The op runs on the runner's thread; its callbacks run on the GUI thread, bound to the
request that made them, so a result never has to be matched to its asker by an id.

- Lanes give "latest wins": a newer submission in a `Lane` cancels the older one not yet started, and the
  result of one already running is dropped. Each window keeps lanes of its own, so two windows never
  replace each other's questions.
- Background requests (indexing a file, one cell of a batch) run only when no other request waits, so a
  question asked during a long batch of files runs between two files instead of after all of them. A long
  background op calls `Runner.serve_waiting()` between its steps (the pages of a big PDF), so that a question
  asked meanwhile runs there instead of after the whole file.
- `Request.cancel()` withdraws a request that has not started and sets its cancel event, which a long op
  (indexing) watches to stop early. Requests may share one event, so that setting it cancels them all.
- `Runner.on_gui_thread(fn)` gives an op a callable that runs `fn` on the GUI thread (progress reports).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import SIGNAL, QObject, Qt, QThread, Signal, Slot

from qa_reader.errors import UserError
from qa_reader.memory import release_free_memory

log = logging.getLogger(__name__)

STOP_WAIT_MS = 10_000
RELEASE_AFTER_S = 0.05  # an op this long may leave freed memory behind (a PDF read, passages scored)

Op = Callable[[Any], Any]


def describe_error(error: BaseException) -> str:
    """A sentence for people: the UserError's own, or a plain admission that this is our bug."""
    if isinstance(error, UserError):
        return str(error)
    return (
        f"Something went wrong inside QA Reader ({type(error).__name__}: {error}). "
        "Please try again; if it keeps happening, report it with the log."
    )


def _receiver_alive(callback: Callable[..., None]) -> bool:
    """False when `callback` is a method (or a partial of one) of a Qt object deleted since (a closed dialog)."""
    target: object = callback
    while isinstance(target, partial):
        target = target.func
    owner = getattr(target, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


class _Broken(Exception):
    """The runner's resource could not be made; the message is for people."""


class RequestState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Lane:
    """The requests of one kind from one asker: only the latest one reports back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.current: Request | None = None

    @property
    def busy(self) -> bool:
        """Whether the latest request is still waiting or running."""
        return self.current is not None and not self.current.is_settled

    def forget(self) -> None:
        """Cancel the latest request (its result is dropped even when it has already started)."""
        request, self.current = self.current, None
        if request is not None:
            request.cancel()


class Request(QObject):
    """One submitted op: its state, its result once done, and the callbacks it carries."""

    settled = Signal()  # once, after its done / failed / cancelled callback ran

    def __init__(
        self,
        runner: Runner,
        op: Op,
        done: Callable[[Any], None] | None,
        failed: Callable[[str], None] | None,
        cancelled: Callable[[], None] | None,
        lane: Lane | None,
        cancel: threading.Event,
        background: bool,
    ) -> None:
        super().__init__()
        self.op: Op | None = op
        self.lane = lane
        self.background = background
        self.cancel_event = cancel
        self.result: Any = None  # what the op returned, once done
        self.error = ""  # a sentence for people, once failed
        self._runner: Runner | None = runner
        self._done = done
        self._failed = failed
        self._cancelled = cancelled
        self._started = False  # these two change under the queue's lock
        self._withdrawn = False
        self._outcome: RequestState | None = None  # set on the GUI thread when it settles
        self._then: list[Callable[[], None]] = []  # see when_settled

    @property
    def state(self) -> RequestState:
        if self._outcome is not None:
            return self._outcome
        return RequestState.RUNNING if self._started else RequestState.WAITING

    @property
    def is_settled(self) -> bool:
        """Whether its callback has run (`settled` was emitted)."""
        return self._outcome is not None

    def cancel(self) -> None:
        """Never start it; if it is running, set its cancel event. A result that comes all the same is kept
        (a file indexed in full is in the library), unless a newer request of its lane replaced it."""
        if self._outcome is not None:
            return
        self.cancel_event.set()
        runner = self._runner
        if runner is not None and runner._queue.withdraw(self):
            runner._outbox.put(partial(self._settle, RequestState.CANCELLED))
            runner._woken.emit()

    def _settle(self, outcome: RequestState, value: Any = None) -> None:
        """On the GUI thread: record the outcome, run the matching callback, then say so."""
        if self._outcome is not None:
            return
        if self._runner is not None:
            self._runner._unsettled.discard(self)
        if self.lane is not None:
            if self.lane.current is self:
                self.lane.current = None
            else:
                outcome = RequestState.CANCELLED  # a newer request of its lane (or `forget`) replaced it
        self._outcome = outcome
        if outcome == RequestState.DONE:
            self.result = value
            callback, arguments = self._done, (value,)
        elif outcome == RequestState.FAILED:
            self.error = value
            callback, arguments = self._failed, (value,)
        else:
            callback, arguments = self._cancelled, ()
        if callback is not None and _receiver_alive(callback):
            callback(*arguments)
        then, self._then = self._then, []
        for call in then:
            if _receiver_alive(call):
                call()
        self.settled.emit()
        # It fires once: a connection to a callable that holds this request would keep it alive for good.
        if self.receivers(SIGNAL("settled()")):
            self.settled.disconnect()
        self._release()

    def _release(self) -> None:
        """Let go of the op and the callbacks. A cycle through a window (its lane, this request, a method of
        the window) would otherwise wait for the garbage collector, which may run on the runner's thread and
        destroy Qt objects there."""
        self.op = None
        self._done = self._failed = self._cancelled = None
        self._then = []
        self._runner = None


class _Outbox:
    """Calls for the GUI thread. The runner's thread puts a call here and lets go of it before it wakes the
    GUI thread, so that the GUI thread always drops the last reference to a request: a QObject must be
    destroyed on its own thread, and a signal argument would still be held by the emitting thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: deque[Callable[[], None]] = deque()

    def put(self, call: Callable[[], None]) -> None:
        with self._lock:
            self._calls.append(call)

    def take_all(self) -> list[Callable[[], None]]:
        with self._lock:
            calls = list(self._calls)
            self._calls.clear()
            return calls


class _Queue:
    """Requests waiting for the runner's thread, the others before the background ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: deque[Request] = deque()
        self._background: deque[Request] = deque()

    def put(self, request: Request) -> None:
        with self._lock:
            (self._background if request.background else self._first).append(request)

    def take(self, background: bool = True) -> Request | None:
        """The next request waiting (now running), or None; a background one only with `background`."""
        with self._lock:
            for waiting in (self._first, self._background) if background else (self._first,):
                if waiting:
                    request = waiting.popleft()
                    request._started = True
                    return request
            return None

    def withdraw(self, request: Request) -> bool:
        """Take a waiting request out (on the GUI thread) so that it never runs; False when it has started."""
        with self._lock:
            if request._started or request._withdrawn:
                return False
            request._withdrawn = True
            (self._background if request.background else self._first).remove(request)
            return True


class _Executor(QObject):
    """Lives on the runner's thread: creates the resource on first use and runs one request per post."""

    woke = Signal()  # calls for the GUI thread wait in the outbox

    def __init__(
        self,
        make: Callable[[], Any],
        close: Callable[[Any], None] | None,
        queue: _Queue,
        stopping: threading.Event,
        outbox: _Outbox,
    ) -> None:
        super().__init__()
        self._make = make
        self._close = close
        self._queue = queue
        self._stopping = stopping
        self._outbox = outbox
        self._resource: Any = None
        self._broken = ""  # why the resource could not be made: every request says so, none tries again

    def _ready_resource(self) -> Any:
        if self._broken:
            raise _Broken(self._broken)
        if self._resource is None:
            try:
                self._resource = self._make()
            except Exception as error:
                log.exception("The runner's resource could not be made")
                self._broken = describe_error(error)
                raise _Broken(self._broken) from None
        return self._resource

    @Slot()
    def _on_posted(self) -> None:
        if self._stopping.is_set():
            return
        request = self._queue.take()
        if request is not None:
            self._finish(request)

    def serve_waiting(self) -> None:
        """Run every request waiting now but the background ones, inside the op that calls this."""
        while not self._stopping.is_set():
            request = self._queue.take(background=False)
            if request is None:
                return
            self._finish(request)

    def _finish(self, request: Request) -> None:
        outcome = self._run(request)
        self._outbox.put(partial(request._settle, *outcome))
        del request, outcome  # see _Outbox
        self.woke.emit()

    def _run(self, request: Request) -> tuple[RequestState, Any]:
        if request.cancel_event.is_set():
            return RequestState.CANCELLED, None
        started = time.perf_counter()
        try:
            value = request.op(self._ready_resource())
        except Exception as error:
            if request.cancel_event.is_set():  # the engine's Cancelled, or whatever a half-done op raised
                return RequestState.CANCELLED, None
            if isinstance(error, _Broken):
                return RequestState.FAILED, str(error)
            if not isinstance(error, UserError):
                log.exception("A request failed")
            return RequestState.FAILED, describe_error(error)
        finally:
            if time.perf_counter() - started > RELEASE_AFTER_S:
                release_free_memory()
        return RequestState.DONE, value

    @Slot()
    def _on_stop(self) -> None:
        if self._resource is not None and self._close is not None:
            self._close(self._resource)
        self._resource = None
        QThread.currentThread().quit()


class Runner(QObject):
    """The GUI thread's side of a worker thread: `submit` returns at once, callbacks come back later."""

    _posted = Signal()
    _stopRequested = Signal()
    _woken = Signal()  # calls for the GUI thread wait in the outbox

    def __init__(
        self,
        make: Callable[[], Any],
        close: Callable[[Any], None] | None = None,
        name: str = "qa-reader-runner",
        parent: QObject | None = None,
    ) -> None:
        """`make` builds the resource on the runner's thread (at the first request); `close` ends it there."""
        super().__init__(parent)
        self._queue = _Queue()
        self._stopping = threading.Event()
        self._unsettled: set[Request] = set()
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._outbox = _Outbox()
        self._executor = _Executor(make, close, self._queue, self._stopping, self._outbox)
        self._executor.woke.connect(self._on_woken)  # queued: the executor lives on the runner's thread
        self._executor.moveToThread(self._thread)
        self._thread.finished.connect(self._executor.deleteLater)
        self._posted.connect(self._executor._on_posted)
        self._stopRequested.connect(self._executor._on_stop)
        self._woken.connect(self._on_woken, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def stop(self) -> bool:
        """Cancel every request, close the resource on its thread and wait until the thread has ended;
        False when that took longer than STOP_WAIT_MS. No callback runs after this, and requests submitted
        later are cancelled at once."""
        self._stopping.set()
        for request in self._unsettled:
            request.cancel_event.set()
        stopped = True
        if self._thread.isRunning():
            self._stopRequested.emit()
            stopped = self._thread.wait(STOP_WAIT_MS)
            if not stopped:
                # An op that does not watch its cancel event is still running. Its thread must end before
                # this runner can go: Qt aborts the process when a running QThread is destroyed.
                log.warning(
                    "The thread %s did not stop within %d ms; waiting for its op",
                    self._thread.objectName(),
                    STOP_WAIT_MS,
                )
                self._thread.wait()
        for request in self._unsettled:  # they never settle now
            request._release()
        self._unsettled.clear()
        return stopped

    def submit(
        self,
        op: Op,
        *,
        done: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
        cancelled: Callable[[], None] | None = None,
        lane: Lane | None = None,
        cancel: threading.Event | None = None,
        background: bool = False,
    ) -> Request:
        """Queue `op(resource)`; returns its request. `done(result)`, `failed(sentence)` and `cancelled()`
        run on the GUI thread. `cancel` is the event the op watches (one of its own when None)."""
        request = Request(self, op, done, failed, cancelled, lane, cancel or threading.Event(), background)
        if self._stopping.is_set():
            request._withdrawn = True
            request._outcome = RequestState.CANCELLED  # and no callback: the asker is closing
            return request
        if lane is not None:
            older, lane.current = lane.current, request
            if older is not None:
                older.cancel()
        self._unsettled.add(request)
        self._queue.put(request)
        self._posted.emit()
        return request

    def serve_waiting(self) -> None:
        """For a long background op, between two of its steps: run the requests waiting now (but background
        ones) before it goes on. Only on the runner's thread, inside an op, where the resource is between
        steps and free for others (the engine says where: `Engine.index`'s `between_steps`)."""
        if QThread.currentThread() is not self._thread:
            raise RuntimeError("serve_waiting is called by an op, on the runner's thread")
        self._executor.serve_waiting()

    def on_gui_thread(self, fn: Callable[..., None]) -> Callable[..., None]:
        """A callable for any thread that calls `fn` with the same arguments on the GUI thread, later
        (never once `fn`'s Qt object, when it is a method of one, has been deleted)."""

        def call(*args: Any) -> None:
            self._outbox.put(partial(fn, *args))
            self._woken.emit()

        return call

    @Slot()
    def _on_woken(self) -> None:
        for call in self._outbox.take_all():
            # Once stopped, nothing comes back: the window that asked has closed (or is closing).
            if not self._stopping.is_set() and _receiver_alive(call):
                call()


def when_settled(requests: Iterable[Request], callback: Callable[[], None]) -> None:
    """Call `callback` on the GUI thread once every one of `requests` has settled (at once when all have;
    never when it is a method of a Qt object deleted meanwhile)."""
    waiting = [request for request in requests if not request.is_settled]
    if not waiting:
        callback()
        return
    left = {id(request) for request in waiting}

    def one_settled(request_id: int) -> None:
        left.discard(request_id)
        if not left and _receiver_alive(callback):
            callback()

    for request in waiting:
        request._then.append(partial(one_settled, id(request)))
