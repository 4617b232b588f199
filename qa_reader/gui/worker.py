"""The one long-lived worker thread that owns the engine (its ONNX session and its SQLite connection).

The GUI talks to it through `EngineClient`: every request returns at once with an id, and the result comes
back later as a signal. Questions travel in lanes (the main window's, the quick lookup's): within a lane only
the latest pending question runs and answers to its older requests are dropped before they reach the GUI,
while a question in one lane never replaces or drops one in another. Indexing jobs report progress and can be cancelled.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from qa_reader import config
from qa_reader.errors import UserError
from qa_reader.memory import release_free_memory
from qa_reader.types import AnswerSet, Page

if TYPE_CHECKING:  # the store (sqlite-utils) is loaded on the worker threads, not while the window opens
    from qa_reader.store import DocumentRecord, Library

log = logging.getLogger(__name__)

STOP_WAIT_MS = 10_000


@dataclass(frozen=True)
class LibraryEntry:
    """A document of the library and how its file on disk compares with what was indexed."""

    record: DocumentRecord
    stale: bool  # the file changed since it was indexed
    missing: bool  # the file is gone


BOXES_KEPT = 32  # pages of character boxes held by an open PDF (a page of dense text is about 60 KB)


class PageBoxes:
    """A PDF's character boxes, read from the library one page at a time when first needed; the pages used
    most recently stay in memory. A 247-page PDF's boxes were 10 MB, all held while it was open.

    Reads go through a read-only SQLite connection of its own (any thread, one at a time). A page whose
    stored boxes no longer start where the shown text's page starts (the file was indexed again meanwhile)
    reads as None. `boxes` given up front (an in-memory library, tests) are held in full instead.
    """

    def __init__(
        self,
        library_path: Path | None,
        document_id: int,
        pages: Sequence[Page],
        with_boxes: set[int],
        boxes: dict[int, tuple[int, np.ndarray]] | None = None,
        kept: int = BOXES_KEPT,
    ) -> None:
        self._library_path = library_path
        self._document_id = document_id
        self._starts = {page.page_index: page.char_start for page in pages}
        self._with_boxes = set(with_boxes) if boxes is None else set(boxes)
        self._kept = kept if boxes is None else max(kept, len(boxes))
        self._held: OrderedDict[int, tuple[int, np.ndarray] | None] = OrderedDict(boxes or {})
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def __bool__(self) -> bool:
        return bool(self._with_boxes)

    def __len__(self) -> int:
        return len(self._with_boxes)

    def __contains__(self, page_index: object) -> bool:
        return page_index in self._with_boxes

    def __getitem__(self, page_index: int) -> tuple[int, np.ndarray]:
        stored = self.get(page_index)
        if stored is None:
            raise KeyError(page_index)
        return stored

    def held(self) -> dict[int, tuple[int, np.ndarray]]:
        """The pages in memory now (for tests and measurements)."""
        with self._lock:
            return {index: stored for index, stored in self._held.items() if stored is not None}

    def get(self, page_index: int) -> tuple[int, np.ndarray] | None:
        """(char_start, float32 (n, 4) boxes) of a page, or None when it has none."""
        if page_index not in self._with_boxes:
            return None
        with self._lock:
            if page_index in self._held:
                self._held.move_to_end(page_index)
                return self._held[page_index]
            stored = self._read(page_index)
            self._held[page_index] = stored
            while len(self._held) > self._kept:
                self._held.popitem(last=False)
            return stored

    def _read(self, page_index: int) -> tuple[int, np.ndarray] | None:
        if self._library_path is None:
            return None
        from qa_reader.store import read_page_boxes

        try:
            if self._connection is None:
                uri = f"{self._library_path.resolve().as_uri()}?mode=ro"
                self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=2)
            stored = read_page_boxes(self._connection, self._document_id, page_index)
        except sqlite3.Error as error:
            log.warning("Character boxes of page %d could not be read: %s", page_index + 1, error)
            return None
        if stored is None or stored[0] != self._starts.get(page_index):
            return None
        return stored


@dataclass(frozen=True, eq=False)
class DocumentContent:
    """What the document view needs to show one document: its text, pages and (PDF) character boxes."""

    record: DocumentRecord
    text: str
    pages: tuple[Page, ...]
    boxes: PageBoxes  # page_index -> (char_start, boxes), read on demand
    headings: tuple[tuple[int, str], ...] = ()  # (level, text) of a Markdown file's headings, in order

    @property
    def is_pdf(self) -> bool:
        return self.record.format == "pdf" and bool(self.boxes)


MAIN_LANE = "main"
LOOKUP_LANE = "lookup"


@dataclass(frozen=True)
class AskRequest:
    request_id: int
    question: str
    document_ids: tuple[int, ...] | None  # None: the whole library
    live: bool = False  # asked while typing: not part of the session
    lane: str = MAIN_LANE  # who asked: a newer request replaces an older one of the same lane only


@dataclass(frozen=True)
class AskResult:
    """An answered request: the request it answers and the engine's answers."""

    request: AskRequest
    answers: AnswerSet


class _AskMailbox:
    """Holds the latest question not yet taken by the worker in each lane: a newer one replaces an older one
    of its own lane; lanes are taken in the order their waiting questions arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, AskRequest] = {}

    def put(self, request: AskRequest) -> None:
        with self._lock:
            self._latest.pop(request.lane, None)  # a replaced question waits at the back, as a new one does
            self._latest[request.lane] = request

    def take(self) -> AskRequest | None:
        """The oldest waiting lane's question, or None when none waits."""
        with self._lock:
            if not self._latest:
                return None
            lane = next(iter(self._latest))
            return self._latest.pop(lane)

    def drop(self, lane: str) -> None:
        """Forget the question waiting in a lane, if any."""
        with self._lock:
            self._latest.pop(lane, None)


@dataclass(frozen=True)
class IndexJob:
    job_id: int
    path: str
    cancel: threading.Event


class _JobQueue:
    """Indexing jobs waiting for the worker. The worker takes one job per turn of its event loop, so a
    question or an open request posted meanwhile runs between two files instead of after all of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: deque[IndexJob] = deque()
        self._scheduled = False

    def put(self, job: IndexJob) -> bool:
        """Queue a job; True when the worker must be woken (it is not already working through the queue)."""
        with self._lock:
            self._jobs.append(job)
            wake = not self._scheduled
            self._scheduled = True
            return wake

    def take(self) -> IndexJob | None:
        """The next job, or None (and the worker counts as idle until the next `put`)."""
        with self._lock:
            if self._jobs:
                return self._jobs.popleft()
            self._scheduled = False
            return None


def load_content(library: Library, document_id: int) -> DocumentContent:
    """Everything the document view shows of one document. Raises UserError when it is not in the library."""
    record = library.document(document_id)
    pages = tuple(library.pages(document_id))
    with_boxes = library.pages_with_boxes(document_id)
    if library.path is None:  # an in-memory library cannot be read from another connection: hold them all
        stored = {index: library.page_boxes(document_id, index) for index in with_boxes}
        boxes = PageBoxes(None, document_id, pages, with_boxes, {i: b for i, b in stored.items() if b is not None})
    else:
        boxes = PageBoxes(library.path, document_id, pages, with_boxes)
    headings: tuple[tuple[int, str], ...] = ()
    if record.format == "md":
        from qa_reader.ingest.text import headings_of_markdown

        headings = tuple(headings_of_markdown(Path(record.path)))
    return DocumentContent(record, library.document_text(document_id), pages, boxes, headings)


def describe_error(error: BaseException) -> str:
    """A sentence for people: the UserError's own, or a plain admission that this is our bug."""
    if isinstance(error, UserError):
        return str(error)
    return (
        f"Something went wrong inside QA Reader ({type(error).__name__}: {error}). "
        "Please try again; if it keeps happening, report it with the log."
    )


class Worker(QObject):
    """Lives on the worker thread; creates the engine there. Slots run one at a time, in order."""

    listed = Signal(list)  # [LibraryEntry]
    progressed = Signal(int, str, str, float)  # job id, path, stage, fraction
    indexed = Signal(int, object)  # job id, DocumentRecord
    cancelled = Signal(int, str)  # job id, path
    answered = Signal(object)  # AskResult
    failed = Signal(int, str, str)  # request or job id (0: none), what failed, a sentence for people
    modelLoaded = Signal(str)  # the model's name
    documentLoaded = Signal(int, object)  # request id, DocumentContent
    removed = Signal(int)  # document id
    batchAnswered = Signal(int, int, int, object)  # job id, question row, document column, Answer | None
    batchFinished = Signal(int)
    _indexNext = Signal()

    def __init__(
        self,
        library_path: Path | None,
        model_dir: Path | None,
        settings: config.Settings,
        mailbox: _AskMailbox,
        jobs: _JobQueue,
        stopping: threading.Event,
    ) -> None:
        super().__init__()
        self._library_path = library_path
        self._model_dir = model_dir
        self._settings = settings
        self._mailbox = mailbox
        self._jobs = jobs
        self._stopping = stopping
        self._engine = None
        self._indexNext.connect(self._on_index_posted, Qt.ConnectionType.QueuedConnection)

    # --- life cycle ---------------------------------------------------------------------------------

    @Slot()
    def _on_started(self) -> None:
        from qa_reader.engine import Engine

        try:
            self._engine = Engine(self._library_path, self._model_dir, self._settings)
        except Exception as error:
            log.exception("The library could not be opened")
            self.failed.emit(0, "library", describe_error(error))
            return
        self._on_list()
        self._load_model()

    def _load_model(self) -> None:
        if self._engine is None or self._stopping.is_set():
            return
        try:
            model = self._engine.load_model()
        except Exception as error:
            if not isinstance(error, UserError):
                log.exception("The model could not be loaded")
            self.failed.emit(0, "model", describe_error(error))
            return
        self.modelLoaded.emit(model.name)

    @Slot()
    def _on_stop(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        QThread.currentThread().quit()

    def _usable(self) -> bool:
        return self._engine is not None and not self._stopping.is_set()

    # --- library ------------------------------------------------------------------------------------

    @Slot()
    def _on_list(self) -> None:
        if not self._usable():
            return
        entries = []
        for record in self._engine.documents():
            missing = not Path(record.path).exists()
            stale = not missing and record.status != "failed" and self._engine.is_stale(record)
            entries.append(LibraryEntry(record, stale, missing))
        self.listed.emit(entries)

    @Slot()
    def _on_index_posted(self) -> None:
        job = self._jobs.take()
        if job is None:
            return
        self._index(job.job_id, job.path, job.cancel)
        release_free_memory()  # parsing a long PDF leaves a lot freed but still resident
        # Back of the line: what was posted while this file was read runs before the next file.
        self._indexNext.emit()

    def _index(self, job_id: int, path: str, cancel: threading.Event) -> None:
        if not self._usable():
            self.cancelled.emit(job_id, path)
            return
        if cancel.is_set():
            self.cancelled.emit(job_id, path)
            return
        from qa_reader.engine import Cancelled

        def report(stage: str, fraction: float) -> None:
            self.progressed.emit(job_id, path, stage, fraction)

        try:
            record = self._engine.index(path, progress=report, cancel=cancel, remember_failure=True)
        except Cancelled:
            self.cancelled.emit(job_id, path)
            return
        except Exception as error:
            if not isinstance(error, UserError):
                log.exception("Indexing %s failed", path)
            self.failed.emit(job_id, "index", describe_error(error))
            self._on_list()
            return
        self.indexed.emit(job_id, record)

    @Slot(int)
    def _on_remove(self, document_id: int) -> None:
        if not self._usable():
            return
        try:
            self._engine.remove(document_id)
        except Exception as error:
            self.failed.emit(0, "remove", describe_error(error))
            return
        self.removed.emit(document_id)

    @Slot(int, int)
    def _on_open(self, request_id: int, document_id: int) -> None:
        if not self._usable():
            return
        try:
            content = load_content(self._engine.library, document_id)
        except Exception as error:
            self.failed.emit(request_id, "open", describe_error(error))
            return
        self.documentLoaded.emit(request_id, content)

    # --- questions ----------------------------------------------------------------------------------

    @Slot()
    def _on_ask_posted(self) -> None:
        request = self._mailbox.take()
        if request is None or not self._usable():
            return  # a later post already took it, or we are closing
        ids = list(request.document_ids) if request.document_ids is not None else None
        try:
            # Live answers while typing stay out of the question history.
            answers = self._engine.ask(request.question, ids, remember=not request.live)
        except Exception as error:
            if not isinstance(error, UserError):
                log.exception("Asking %r failed", request.question)
            self.failed.emit(request.request_id, "ask", describe_error(error))
            return
        self.answered.emit(AskResult(request, answers))
        release_free_memory()

    @Slot(int, list, list)
    def _on_batch(self, job_id: int, questions: list[str], document_ids: list[int]) -> None:
        for row, question in enumerate(questions):
            for column, document_id in enumerate(document_ids):
                if not self._usable():
                    return
                try:
                    answers = self._engine.ask(question, [document_id], top_k=1, remember=False)
                except Exception as error:
                    self.failed.emit(job_id, "batch", describe_error(error))
                    self.batchFinished.emit(job_id)
                    return
                best = answers.answers[0] if answers.answers else None
                self.batchAnswered.emit(job_id, row, column, best)
        self.batchFinished.emit(job_id)

    @Slot(object)
    def _on_settings(self, settings: config.Settings) -> None:
        self._settings = settings
        if not self._usable():
            return
        self._engine.update_settings(settings)
        self._load_model()


class DocumentReader(QObject):
    """Loads documents for display on its own thread and SQLite connection, so that opening a document
    never waits behind the worker (a long PDF being indexed, a question being read)."""

    documentLoaded = Signal(int, object)  # request id, DocumentContent
    failed = Signal(int, str, str)

    def __init__(self, library_path: Path) -> None:
        super().__init__()
        self._library_path = library_path
        self._library: Library | None = None

    @Slot(int, int)
    def _on_open(self, request_id: int, document_id: int) -> None:
        try:
            if self._library is None:
                from qa_reader.store import Library

                self._library = Library(self._library_path)
            content = load_content(self._library, document_id)
        except Exception as error:
            self.failed.emit(request_id, "open", describe_error(error))
            return
        self.documentLoaded.emit(request_id, content)

    @Slot()
    def _on_stop(self) -> None:
        if self._library is not None:
            self._library.close()
            self._library = None
        QThread.currentThread().quit()


class EngineClient(QObject):
    """The GUI thread's handle on the worker: requests return at once, results arrive as signals."""

    listed = Signal(list)
    progressed = Signal(int, str, str, float)
    indexed = Signal(int, object)
    cancelled = Signal(int, str)
    answered = Signal(object)  # AskResult, only for the latest question of its lane
    failed = Signal(int, str, str)
    modelLoaded = Signal(str)
    documentLoaded = Signal(int, object)
    removed = Signal(int)
    batchAnswered = Signal(int, int, int, object)
    batchFinished = Signal(int)
    jobsChanged = Signal(int)  # how many indexing jobs are waiting or running

    _indexPosted = Signal()
    _askPosted = Signal()
    _openRequested = Signal(int, int)
    _removeRequested = Signal(int)
    _listRequested = Signal()
    _settingsChanged = Signal(object)
    _batchRequested = Signal(int, list, list)
    _stopRequested = Signal()

    def __init__(
        self,
        library_path: Path | None,
        model_dir: Path | None = None,
        settings: config.Settings | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`library_path` None: an in-memory library; `model_dir` None: $QA_READER_MODEL or the bundled one."""
        super().__init__(parent)
        self._next_id = 0
        self._latest_ask: dict[str, int] = {}  # lane -> the request whose answer is still wanted
        self._latest_open = 0
        self._jobs: dict[int, threading.Event] = {}
        self._mailbox = _AskMailbox()
        self._queue = _JobQueue()
        self._stopping = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("qa-reader-engine")
        self._worker = Worker(
            library_path, model_dir, settings or config.Settings(), self._mailbox, self._queue, self._stopping
        )
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker._on_started)
        self._thread.finished.connect(self._worker.deleteLater)

        # An in-memory library exists only on the worker's connection, so the worker loads its documents.
        self._reader_thread: QThread | None = None
        if library_path is not None:
            self._reader_thread = QThread()
            self._reader_thread.setObjectName("qa-reader-documents")
            self._reader = DocumentReader(library_path)
            self._reader.moveToThread(self._reader_thread)
            self._reader_thread.finished.connect(self._reader.deleteLater)
            self._openRequested.connect(self._reader._on_open)
            self._stopRequested.connect(self._reader._on_stop)
            self._reader.documentLoaded.connect(self._on_document_loaded)
            self._reader.failed.connect(self._on_failed)
        else:
            self._openRequested.connect(self._worker._on_open)

        self._indexPosted.connect(self._worker._on_index_posted)
        self._askPosted.connect(self._worker._on_ask_posted)
        self._removeRequested.connect(self._worker._on_remove)
        self._listRequested.connect(self._worker._on_list)
        self._settingsChanged.connect(self._worker._on_settings)
        self._batchRequested.connect(self._worker._on_batch)
        self._stopRequested.connect(self._worker._on_stop)

        self._worker.listed.connect(self.listed)
        self._worker.progressed.connect(self.progressed)
        self._worker.indexed.connect(self._on_indexed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.answered.connect(self._on_answered)
        self._worker.failed.connect(self._on_failed)
        self._worker.modelLoaded.connect(self.modelLoaded)
        self._worker.documentLoaded.connect(self._on_document_loaded)
        self._worker.removed.connect(self.removed)
        self._worker.batchAnswered.connect(self.batchAnswered)
        self._worker.batchFinished.connect(self.batchFinished)

    def start(self) -> None:
        self._thread.start()
        if self._reader_thread is not None:
            self._reader_thread.start()

    def stop(self) -> bool:
        """Cancel what can be cancelled, close the engine on its thread and wait for it; False on timeout."""
        threads = [t for t in (self._thread, self._reader_thread) if t is not None and t.isRunning()]
        if not threads:
            return True
        self._stopping.set()
        for cancel in self._jobs.values():
            cancel.set()
        self._stopRequested.emit()
        stopped = all(thread.wait(STOP_WAIT_MS) for thread in threads)
        if not stopped:
            log.warning("The engine thread did not stop within %d ms", STOP_WAIT_MS)
        return stopped

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- requests -----------------------------------------------------------------------------------

    def index(self, path: str | Path) -> int:
        """Queue a file for indexing; returns the job id used by progressed / indexed / failed / cancelled."""
        job_id = self._new_id()
        cancel = threading.Event()
        self._jobs[job_id] = cancel
        self.jobsChanged.emit(len(self._jobs))
        if self._queue.put(IndexJob(job_id, str(path), cancel)):
            self._indexPosted.emit()
        return job_id

    def cancel_indexing(self) -> int:
        """Cancel every waiting or running indexing job; returns how many there were."""
        for cancel in self._jobs.values():
            cancel.set()
        return len(self._jobs)

    @property
    def indexing_jobs(self) -> int:
        return len(self._jobs)

    def ask(
        self, question: str, document_ids: list[int] | None = None, live: bool = False, lane: str = MAIN_LANE
    ) -> int:
        """Ask on the worker, replacing any question of the same lane not yet started (and dropping the answer
        to any it already started); returns the request id."""
        request_id = self._new_id()
        self._latest_ask[lane] = request_id
        ids = tuple(document_ids) if document_ids is not None else None
        self._mailbox.put(AskRequest(request_id, question, ids, live, lane))
        self._askPosted.emit()
        return request_id

    def forget_asks(self, lane: str = MAIN_LANE) -> None:
        """Drop the answers of every question asked so far in a lane (they would be stale)."""
        self._latest_ask.pop(lane, None)
        self._mailbox.drop(lane)

    def _wanted(self, request_id: int) -> bool:
        return request_id in self._latest_ask.values()

    def open_document(self, document_id: int) -> int:
        request_id = self._new_id()
        self._latest_open = request_id
        self._openRequested.emit(request_id, document_id)
        return request_id

    def remove(self, document_id: int) -> None:
        self._removeRequested.emit(document_id)

    def refresh(self) -> None:
        """Ask for the library list again (with staleness)."""
        self._listRequested.emit()

    def update_settings(self, settings: config.Settings) -> None:
        self._settingsChanged.emit(settings)

    def run_batch(self, questions: list[str], document_ids: list[int]) -> int:
        job_id = self._new_id()
        self._batchRequested.emit(job_id, list(questions), list(document_ids))
        return job_id

    # --- results ------------------------------------------------------------------------------------

    def _finish_job(self, job_id: int) -> None:
        if self._jobs.pop(job_id, None) is not None:
            self.jobsChanged.emit(len(self._jobs))

    @Slot(int, object)
    def _on_indexed(self, job_id: int, record: DocumentRecord) -> None:
        self._finish_job(job_id)
        self.indexed.emit(job_id, record)

    @Slot(int, str)
    def _on_cancelled(self, job_id: int, path: str) -> None:
        self._finish_job(job_id)
        self.cancelled.emit(job_id, path)

    @Slot(object)
    def _on_answered(self, result: AskResult) -> None:
        if self._latest_ask.get(result.request.lane) != result.request.request_id:
            log.debug("Dropped the stale answer to request %d", result.request.request_id)
            return
        self.answered.emit(result)

    @Slot(int, str, str)
    def _on_failed(self, request_id: int, what: str, message: str) -> None:
        if what == "index":
            self._finish_job(request_id)
        if what == "ask" and not self._wanted(request_id):
            return
        if what == "open" and request_id != self._latest_open:
            return
        self.failed.emit(request_id, what, message)

    @Slot(int, object)
    def _on_document_loaded(self, request_id: int, content: DocumentContent) -> None:
        if request_id == self._latest_open:
            self.documentLoaded.emit(request_id, content)
