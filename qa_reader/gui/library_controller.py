"""The library's work in flight for the main window: listing, indexing (with the sidebar's waiting and
progress lines), files changed on disk, removal. The window reacts to what it says through signals and
keeps to layout, answers and the document on show."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from qa_reader.gui.indexing import Indexer
from qa_reader.gui.library_panel import LibraryPanel
from qa_reader.gui.runner import Request, Runner
from qa_reader.gui.watcher import FileWatcher
from qa_reader.types import DocumentRecord, LibraryEntry

if TYPE_CHECKING:
    from qa_reader.engine import Engine


class LibraryController(QObject):
    """Keeps the sidebar and the records in step with the library on the engine's thread."""

    listed = Signal(list)  # [LibraryEntry], after the sidebar shows them
    indexedAgain = Signal(object)  # DocumentRecord whose file changed on disk and was indexed again
    fileChanged = Signal(object)  # DocumentRecord whose file changed on disk (its answers are stale now)
    removed = Signal(int, object)  # document id, its DocumentRecord (None when it was not listed)
    failed = Signal(str)  # a sentence for people

    def __init__(self, runner: Runner, panel: LibraryPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._panel = panel
        self._records: dict[int, DocumentRecord] = {}
        self.indexing = Indexer(runner, self)
        self.indexing.progressed.connect(self._on_progressed)
        self.indexing.indexed.connect(self._on_indexed)
        self.indexing.failed.connect(self._on_index_failed)
        self.indexing.cancelled.connect(self._on_cancelled)
        self.watcher = FileWatcher(self)
        self.watcher.changed.connect(self._on_file_changed)
        self.watcher.settled.connect(self._on_files_settled)

    def record(self, document_id: int) -> DocumentRecord | None:
        """The library's record of a document, as last listed or indexed."""
        return self._records.get(document_id)

    def refresh(self) -> Request:
        """List the library again (with staleness); files changed since they were indexed are indexed again.
        The request's result is the engine's [LibraryEntry]."""
        return self._runner.submit(_library_entries, done=self._on_listed, failed=self._on_failed)

    def add(self, paths: Iterable[str]) -> list[Request]:
        """Index files (absolute paths), each shown as waiting in the sidebar until its request settles."""
        requests = []
        for path in paths:
            self._panel.mark_waiting(path)
            requests.append(self.indexing.index(path))
        return requests

    def remove(self, document_id: int) -> Request:
        """Remove a document from the library (the file stays on disk)."""
        return self._runner.submit(
            lambda engine: engine.remove(document_id),
            done=partial(self._on_removed, document_id),
            failed=self._on_failed,
        )

    def stop(self) -> None:
        self.watcher.stop()

    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)

    def _on_listed(self, entries: list[LibraryEntry]) -> None:
        self._records = {entry.record.id: entry.record for entry in entries}
        self._panel.set_entries(entries)
        self.watcher.watch([entry.record.path for entry in entries if not entry.missing])
        self.add(
            entry.record.path for entry in entries if entry.stale and not self.indexing.is_indexing(entry.record.path)
        )
        self.listed.emit(entries)

    @Slot(str, str, float)
    def _on_progressed(self, path: str, stage: str, fraction: float) -> None:
        if stage != "unchanged":
            self._panel.set_progress(path, stage, fraction)

    @Slot(str, object)
    def _on_indexed(self, path: str, record: DocumentRecord) -> None:
        previous = self._records.get(record.id)
        self._records[record.id] = record
        self._panel.set_record(record)
        self.watcher.watch([record.path])
        if previous is not None and previous.sha256 != record.sha256:
            self.indexedAgain.emit(record)

    @Slot(str, str)
    def _on_index_failed(self, path: str, message: str) -> None:
        # The engine records the failure; the line stays, with the reason, instead of flickering away.
        self._panel.mark_failed(path, message)
        self.refresh()

    @Slot(str)
    def _on_cancelled(self, path: str) -> None:
        self._panel.drop_pending(path)

    @Slot(str)
    def _on_file_changed(self, path: str) -> None:
        record = next((r for r in self._records.values() if r.path == path), None)
        if record is not None:
            self.fileChanged.emit(record)

    @Slot(list, bool)
    def _on_files_settled(self, existing: list[str], some_gone: bool) -> None:
        self.add(path for path in existing if not self.indexing.is_indexing(path))
        if some_gone:
            self.refresh()

    def _on_removed(self, document_id: int, _: None = None) -> None:
        record = self._records.pop(document_id, None)
        self._panel.remove_document(document_id)
        if record is not None:
            self.watcher.unwatch(record.path)
        self.removed.emit(document_id, record)


def _library_entries(engine: Engine) -> list[LibraryEntry]:
    return engine.library_entries()
