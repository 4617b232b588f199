"""Which document is on its way to the main window's view: the latest one opened wins, an answer to jump to
waits for its document, and the first of the files just opened opens once it is indexed."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal

from qa_reader.gui.runner import Lane, Request, RequestState, when_settled
from qa_reader.gui.worker import EngineRunner
from qa_reader.types import Answer, DocumentContent


class DocumentOpener(QObject):
    """Loads documents for the view on the runner's document thread; `loaded` with each one's content."""

    loaded = Signal(object)  # DocumentContent
    failed = Signal(str)  # a sentence for people
    indexed = Signal(int)  # the document made from the first of the files just opened, to be opened now

    def __init__(self, runner: EngineRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._opens = Lane("the main window's documents")
        self._opening: int | None = None
        self._jump: Answer | None = None
        self._after_indexing: Request | None = None

    @property
    def opening(self) -> int | None:
        """The id of the document on its way, if any."""
        return self._opening

    @property
    def busy(self) -> bool:
        """Whether a document is on its way, or will be once a file is indexed."""
        return self._opening is not None or self._after_indexing is not None

    def open(self, document_id: int, force: bool = False) -> None:
        """Load a document (again with `force`, even when it is already on its way), replacing any other."""
        if self._opening == document_id and not force:
            return
        self._opening = document_id
        self._runner.open_document(document_id, done=self._on_loaded, failed=self._on_failed, lane=self._opens)

    def jump_when_open(self, answer: Answer) -> None:
        """Keep an answer to jump to once its document is shown (see `take_jump`)."""
        self._jump = answer

    def take_jump(self, document_id: int) -> Answer | None:
        """The answer kept to jump to in this document, handed over once."""
        if self._jump is None or self._jump.document_id != document_id:
            return None
        answer, self._jump = self._jump, None
        return answer

    def open_when_indexed(self, request: Request) -> None:
        """Say `indexed` once this indexing request is done, unless files opened later replace it."""
        self._after_indexing = request
        when_settled([request], partial(self._on_indexed, request))

    def _on_indexed(self, request: Request) -> None:
        if request is not self._after_indexing:
            return
        self._after_indexing = None
        if request.state == RequestState.DONE:
            self.indexed.emit(request.result.id)

    def _on_loaded(self, content: DocumentContent) -> None:
        self._opening = None
        self.loaded.emit(content)

    def _on_failed(self, message: str) -> None:
        self._opening = None
        self.failed.emit(message)
