"""Indexing files on the engine's thread: one background request per file, so that a question asked
meanwhile runs between two files (or between two pages of a big PDF), each with its own cancel event (Esc
cancels them all); and which files a dropped or opened folder contributes."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from qa_reader.gui.runner import Request, Runner

if TYPE_CHECKING:
    from qa_reader.engine import Engine
    from qa_reader.types import DocumentRecord

FOLDER_FILES_LIMIT = 500


def supported_suffixes() -> tuple[str, ...]:
    """The suffixes of the files a folder contributes (the engine thread has imported ingest already)."""
    from qa_reader.ingest import SUPPORTED_SUFFIXES

    return SUPPORTED_SUFFIXES


def files_in(paths: Iterable[str | Path]) -> list[Path]:
    """The files to add for dropped or opened paths: files as they are, folders walked for documents."""
    found: list[Path] = []
    for path in paths:
        path = Path(path).expanduser()
        if path.is_dir():
            suffixes = supported_suffixes()
            for root, folders, names in os.walk(path):
                folders[:] = sorted(f for f in folders if not f.startswith("."))
                for name in sorted(names):
                    if Path(name).suffix.lower() in suffixes and not name.startswith("."):
                        found.append(Path(root) / name)
                        if len(found) >= FOLDER_FILES_LIMIT:
                            return found
        else:
            found.append(path)
    return found


class Indexer(QObject):
    """The files waiting or being indexed; their outcomes come back as signals carrying the path."""

    countChanged = Signal(int)  # how many files are waiting or being indexed
    progressed = Signal(str, str, float)  # path, stage, fraction
    indexed = Signal(str, object)  # path, DocumentRecord
    failed = Signal(str, str)  # path, a sentence for people
    cancelled = Signal(str)  # path

    def __init__(self, runner: Runner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._requests: dict[Request, str] = {}  # waiting or running, with the path each indexes

    @property
    def count(self) -> int:
        return len(self._requests)

    def is_indexing(self, path: str) -> bool:
        return path in self._requests.values()

    def index(self, path: str) -> Request:
        """Queue one file; its request settles once the file is indexed, has failed or was cancelled."""
        cancel = threading.Event()
        report = self._runner.on_gui_thread(partial(self._on_progressed, path))

        def op(engine: Engine) -> DocumentRecord:
            return engine.index(
                path, progress=report, cancel=cancel, remember_failure=True, between_steps=self._runner.serve_waiting
            )

        request = self._runner.submit(
            op,
            done=partial(self._on_indexed, path),
            failed=partial(self._on_failed, path),
            cancelled=partial(self._on_cancelled, path),
            cancel=cancel,
            background=True,
        )
        self._requests[request] = path
        self.countChanged.emit(self.count)
        return request

    def index_all(self, paths: Iterable[str]) -> list[Request]:
        return [self.index(path) for path in paths]

    def cancel_all(self) -> int:
        """Cancel every file waiting or being indexed; returns how many there were."""
        requests = list(self._requests)
        for request in requests:
            request.cancel()
        return len(requests)

    def _on_progressed(self, path: str, stage: str, fraction: float) -> None:
        self.progressed.emit(path, stage, fraction)

    def _finish(self, path: str) -> None:
        for request, indexed_path in list(self._requests.items()):
            if indexed_path == path and request.is_settled:
                del self._requests[request]
        self.countChanged.emit(self.count)

    def _on_indexed(self, path: str, record: DocumentRecord) -> None:
        self._finish(path)
        self.indexed.emit(path, record)

    def _on_failed(self, path: str, message: str) -> None:
        self._finish(path)
        self.failed.emit(path, message)

    def _on_cancelled(self, path: str) -> None:
        self._finish(path)
        self.cancelled.emit(path)
