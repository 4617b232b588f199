"""One document's batch work, the same in-process and on a Ray cluster: `prepare` (hash, load) and `read` (every
question over that document alone, on a reading engine), each returning plain frozen records.

A document is read alone, in an engine whose in-memory library holds only it while its questions are asked, so
its answers do not depend on which other documents share the job, the order they come in or the worker that
reads them: the local loop and the Ray pipeline give identical rows.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Container, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path

from qa_reader import config, ingest
from qa_reader.engine import Engine
from qa_reader.errors import UserError
from qa_reader.ingest.files import check_file
from qa_reader.types import AnswerSet, Document

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What became of one document in a batch (every row's `status`)."""

    ANSWERED = "answered"  # read: a row per answer, and one without an answer for a question not found
    FAILED = "failed"  # the input's fault (corrupt, encrypted, empty, scanned, missing): one row with the reason
    ERROR = "error"  # QA Reader's bug or the machine's trouble: one row with the reason
    SKIPPED = "skipped"  # an earlier run of the same output already wrote this content: not read, not written

    @property
    def final(self) -> bool:
        """Whether a document written with this outcome is done for good: a resumed batch skips it (an ERROR is
        tried again)."""
        return self in (Outcome.ANSWERED, Outcome.FAILED)


@dataclass(frozen=True)
class AnswerRow:
    """One output row: an answer to a question in a document, a question not found there (`answer` None) or a
    document that could not be read (`question` None, `error` its reason). The fields are the output's columns."""

    document: str  # the file's absolute path
    sha256: str  # of the file's bytes ("" when it could not even be read)
    status: str  # an Outcome
    question: str | None = None
    rank: int | None = None  # 1 for the best answer
    answer: str | None = None
    score: float | None = None  # the calibrated probability that the answer is right (Answer.score)
    page: int | None = None  # 1-based
    page_label: str | None = None  # the page's printed number in a PDF that has them, else ""
    char_start: int | None = None  # offsets of the answer in the document's text
    char_end: int | None = None
    sentence: str | None = None
    error: str | None = None


COLUMNS: tuple[str, ...] = tuple(column.name for column in fields(AnswerRow))


@dataclass(frozen=True)
class Prepared:
    """A document loaded and ready to read, or (`document` None) the outcome and reason why it will not be read."""

    path: str
    sha256: str = ""
    document: Document | None = None
    outcome: Outcome = Outcome.ANSWERED
    reason: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class DocumentResult:
    """Everything a batch keeps of one document: its rows and what it cost."""

    path: str
    sha256: str
    outcome: Outcome
    pages: int  # 0 for a document that was not read
    rows: tuple[AnswerRow, ...]
    ingest_seconds: float
    read_seconds: float


def shown_path(path: str) -> str:
    """The path as text that any output can hold (bytes of a non-UTF-8 file name become U+FFFD)."""
    return os.fsencode(path).decode("utf-8", errors="replace")


def path_key(path: str) -> str:
    """What keys a document written without a sha256 (one that could not be read at all: missing, empty)."""
    return f"path:{shown_path(path)}"


def prepare(path: str, written: Container[str] = frozenset()) -> Prepared:
    """Hash and load one file; skip it (unloaded) when its sha256 is in `written`, or when it cannot be hashed
    and its `path_key` is.

    Never raises for the input: a file that cannot be read comes back with outcome FAILED and the reason, and
    an unexpected exception with outcome ERROR, so one bad file cannot end a job over a million.
    """
    started = time.perf_counter()
    sha256 = ""
    try:
        if shown_path(path) != path:
            raise UserError(f"{shown_path(path)}: the file's name is not UTF-8 text; rename it.")
        file = Path(path)
        check_file(file)  # before anything opens it: a FIFO would block and a link to /dev/zero never ends
        sha256 = ingest.sha256_file(file)
        if sha256 in written:
            return Prepared(path, sha256, outcome=Outcome.SKIPPED, seconds=time.perf_counter() - started)
        document = ingest.load(file, sha256=sha256)
    except UserError as error:
        seconds = time.perf_counter() - started
        if not sha256 and path_key(path) in written:  # written as unreadable before, and unreadable still
            return Prepared(path, outcome=Outcome.SKIPPED, seconds=seconds)
        return Prepared(path, sha256, None, Outcome.FAILED, str(error), seconds)
    except Exception as error:  # a parser's bug: this file's row says so, the job goes on
        log.exception("Preparing %s failed", shown_path(path))
        return Prepared(path, sha256, None, Outcome.ERROR, _unexpected(error), time.perf_counter() - started)
    return Prepared(path, sha256, document, seconds=time.perf_counter() - started)


def reading_engine(model_dir: str | Path | None = None, threads: int = 0) -> Engine:
    """An engine on an empty in-memory library with its model loaded (`threads` 0: onnxruntime's choice).

    Raises UserError for a missing or damaged model: nothing could be read, so the job stops before it starts.
    """
    engine = Engine(None, model_dir, config.Settings(threads=threads))
    try:
        engine.load_model()
    except BaseException:
        engine.close()
        raise
    return engine


def read(engine: Engine, prepared: Prepared, questions: Sequence[str], top_k: int) -> DocumentResult:
    """Ask every question of one prepared document, alone in `engine`'s library (empty again afterwards).

    The questions' windows are read in shared batches (`Engine.ask_many`). Returns a row per answer above the
    threshold (at most `top_k` per question, best first) and a row without an answer for each question not
    found; a document that was not prepared, or fails here, gives its one failure row instead.
    """
    document = prepared.document
    if document is None:
        skipped = prepared.outcome is Outcome.SKIPPED
        rows = () if skipped else (_failure_row(prepared, prepared.outcome, prepared.reason),)
        return DocumentResult(prepared.path, prepared.sha256, prepared.outcome, 0, rows, prepared.seconds, 0.0)
    started = time.perf_counter()
    try:
        document_id = engine.add_document(document)
        try:
            answer_sets = engine.ask_many(questions, [document_id], top_k=top_k)
        finally:
            engine.remove(document_id)
    except UserError as error:
        outcome, rows = Outcome.FAILED, (_failure_row(prepared, Outcome.FAILED, str(error)),)
    except Exception as error:  # a bug, or the machine (out of memory): this document's row says so
        log.exception("Reading %s failed", shown_path(prepared.path))
        outcome, rows = Outcome.ERROR, (_failure_row(prepared, Outcome.ERROR, _unexpected(error)),)
    else:
        outcome = Outcome.ANSWERED
        rows = tuple(row for answer_set in answer_sets for row in _answer_rows(prepared, answer_set))
    pages = len(document.pages) if outcome is Outcome.ANSWERED else 0
    return DocumentResult(
        prepared.path, prepared.sha256, outcome, pages, rows, prepared.seconds, time.perf_counter() - started
    )


def _answer_rows(prepared: Prepared, answer_set: AnswerSet) -> list[AnswerRow]:
    document, sha256, status = shown_path(prepared.path), prepared.sha256, str(Outcome.ANSWERED)
    if not answer_set.answers:
        return [AnswerRow(document, sha256, status, question=answer_set.question)]
    return [
        AnswerRow(
            document,
            sha256,
            status,
            question=answer_set.question,
            rank=rank,
            answer=answer.text,
            score=answer.score,
            page=answer.page_number,
            page_label=answer.page_label,
            char_start=answer.char_start,
            char_end=answer.char_end,
            sentence=answer.sentence,
        )
        for rank, answer in enumerate(answer_set.answers, start=1)
    ]


def _failure_row(prepared: Prepared, outcome: Outcome, reason: str) -> AnswerRow:
    return AnswerRow(shown_path(prepared.path), prepared.sha256, str(outcome), error=reason)


def _unexpected(error: BaseException) -> str:
    return f"unexpected {type(error).__name__}: {error}"
