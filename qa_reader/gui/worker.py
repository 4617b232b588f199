"""The engine's thread and what the GUI shows of the library.

`EngineRunner` is the one long-lived thread that owns the engine (its ONNX session and its SQLite
connection): windows submit plain functions of the engine to it (see runner.py). Opening a document for
display goes to a second thread with a read-only connection of its own, so that it never waits behind a
long PDF being indexed. The rest are the plain values those threads hand to the GUI.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from qa_reader import config
from qa_reader.gui.runner import Lane, Request, Runner
from qa_reader.types import Page

# The engine and the store (sqlite-utils) are loaded on the runners' threads, not while the window opens.
if TYPE_CHECKING:
    from qa_reader.engine import Engine
    from qa_reader.store import DocumentRecord, Library

log = logging.getLogger(__name__)


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


def list_library(engine: Engine) -> list[LibraryEntry]:
    """An op: every document of the library, with how its file on disk compares with what was indexed."""
    entries = []
    for record in engine.documents():
        missing = not Path(record.path).exists()
        stale = not missing and record.status != "failed" and engine.is_stale(record)
        entries.append(LibraryEntry(record, stale, missing))
    return entries


def load_model(engine: Engine, settings: config.Settings | None = None) -> str:
    """An op: apply `settings` (when given), load the model and return its name. Raises UserError for a
    missing or damaged model."""
    if settings is not None:
        engine.update_settings(settings)
    return engine.load_model().name


class EngineRunner(Runner):
    """The engine's thread, and a document reader's beside it for a library on disk."""

    def __init__(
        self,
        library_path: Path | None,
        model_dir: Path | None = None,
        settings: config.Settings | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`library_path` None: an in-memory library; `model_dir` None: $QA_READER_MODEL or the bundled one."""

        def make_engine() -> Engine:
            from qa_reader.engine import Engine

            return Engine(library_path, model_dir, settings or config.Settings())

        super().__init__(make_engine, close=lambda engine: engine.close(), name="qa-reader-engine", parent=parent)
        # An in-memory library exists only on the engine's connection, so the engine loads its documents.
        self._documents: Runner | None = None
        if library_path is not None:

            def make_library() -> Library:
                from qa_reader.store import Library

                return Library(library_path)

            self._documents = Runner(
                make_library, close=lambda library: library.close(), name="qa-reader-documents", parent=self
            )

    def start(self) -> None:
        super().start()
        if self._documents is not None:
            self._documents.start()

    def stop(self) -> bool:
        stopped = super().stop()
        return (self._documents.stop() if self._documents is not None else True) and stopped

    def open_document(
        self,
        document_id: int,
        *,
        done: Callable[[DocumentContent], None],
        failed: Callable[[str], None] | None = None,
        lane: Lane | None = None,
    ) -> Request:
        """Load a document for display; `done` gets its DocumentContent."""
        if self._documents is None:
            return self.submit(
                lambda engine: load_content(engine.library, document_id), done=done, failed=failed, lane=lane
            )
        return self._documents.submit(
            lambda library: load_content(library, document_id), done=done, failed=failed, lane=lane
        )
