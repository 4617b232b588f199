"""The engine's thread: `EngineRunner` is the one long-lived thread that owns the engine (its ONNX session
and its SQLite connection); windows submit plain functions of the engine to it (see runner.py). Opening a
document for display goes to a second engine on a thread of its own, which never loads the model, so that
it never waits behind a long PDF being indexed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from qa_reader import config
from qa_reader.gui.runner import Lane, Request, Runner
from qa_reader.types import DocumentContent

# The engine (and with it the store, ingest and the reader) is loaded on the runners' threads, not while the
# window opens.
if TYPE_CHECKING:
    from qa_reader.engine import Engine


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

        super().__init__(make_engine, close=_close, name="qa-reader-engine", parent=parent)
        # An in-memory library exists only on the engine's connection, so the engine loads its documents.
        self._documents: Runner | None = None
        if library_path is not None:
            self._documents = Runner(make_engine, close=_close, name="qa-reader-documents", parent=self)

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
        runner = self._documents or self
        return runner.submit(lambda engine: engine.document_content(document_id), done=done, failed=failed, lane=lane)


def _close(engine: Engine) -> None:
    engine.close()
