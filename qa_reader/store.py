"""The SQLite library (sqlite-utils, WAL): documents, pages, passages with FTS5, geometry, answer cache
and question history. Every write that changes a document happens in one transaction."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import sqlite_utils

from qa_reader.errors import UserError
from qa_reader.passages import looks_like_contents
from qa_reader.types import Document, DocumentRecord, DocumentStatus, FailureReason, Page, Passage

log = logging.getLogger(__name__)

# How long a write waits for another process's write lock before it gives up ("the library is busy"): longer
# than saving the biggest document takes.
BUSY_TIMEOUT_SECONDS = 60.0
# The answer cache and the history are worth less than an answer: they wait this long, then are skipped.
OPTIONAL_WRITE_WAIT_SECONDS = 2.0
_WAL_ATTEMPTS = 600
_RETRY_PAUSE_SECONDS = 0.05


def _v1(db: sqlite_utils.Database) -> None:
    db["documents"].create(
        {
            "id": int,
            "path": str,
            "title": str,
            "format": str,
            "sha256": str,
            "size": int,
            "mtime": float,
            "page_count": int,
            "passage_count": int,
            "status": str,
            "error": str,
            "warnings": str,
            "indexed_at": float,
        },
        pk="id",
        not_null={"path"},
    )
    db["documents"].create_index(["path"], unique=True)
    db["documents"].create_index(["sha256"])
    db["document_text"].create(
        {"document_id": int, "text": str}, pk="document_id", foreign_keys=[("document_id", "documents", "id")]
    )
    db["pages"].create(
        {
            "document_id": int,
            "page_index": int,
            "char_start": int,
            "char_end": int,
            "width": float,
            "height": float,
            "label": str,
        },
        pk=("document_id", "page_index"),
        foreign_keys=[("document_id", "documents", "id")],
    )
    db["geometry"].create(
        {"document_id": int, "page_index": int, "char_start": int, "boxes": bytes},
        pk=("document_id", "page_index"),
        foreign_keys=[("document_id", "documents", "id")],
    )
    db["passages"].create(
        {"id": int, "document_id": int, "idx": int, "char_start": int, "char_end": int, "contents": int, "text": str},
        pk="id",
        foreign_keys=[("document_id", "documents", "id")],
    )
    db["passages"].create_index(["document_id", "idx"], unique=True)
    db["passages"].enable_fts(["text"], tokenize="porter", create_triggers=False)
    db["answer_cache"].create({"key": str, "question": str, "payload": str, "created": float}, pk="key")
    db["history"].create({"id": int, "question": str, "scope": str, "best_answer": str, "asked_at": float}, pk="id")


def _v2(db: sqlite_utils.Database) -> None:
    # Size and mtime alone missed edits that keep both; documents indexed before this have none (re-hashed).
    db["documents"].add_column("sample_sha256", str)


def _v3(db: sqlite_utils.Database) -> None:
    # Why a document failed is a code (the message is for people), and a partial PDF names its scanned pages.
    db["documents"].add_column("reason", str, not_null_default="")
    db["documents"].add_column("scanned_pages", str, not_null_default="[]")
    failed = db.execute("SELECT id, error FROM documents WHERE status = ?", [DocumentStatus.FAILED.value])
    for document_id, message in failed.fetchall():
        db["documents"].update(document_id, {"reason": _reason_from_message(message or "")})


# How the messages of failures recorded before reason codes were stored begin, after the file's name. Read once,
# by the migration; from then on the code is stored with the failure.
_OLD_MESSAGES: tuple[tuple[tuple[str, ...], FailureReason], ...] = (
    ((" is scanned:",), FailureReason.SCANNED),
    ((" is encrypted:", " is protected by drm"), FailureReason.ENCRYPTED),
    ((" is damaged", " is not a valid epub", "not a pdf at all"), FailureReason.DAMAGED),
    ((" contains no text",), FailureReason.NO_TEXT),
    (
        (" holds binary data", " is a zip-based file", " is a folder", " is not a regular file"),
        FailureReason.UNSUPPORTED,
    ),
    ((" expands to more than",), FailureReason.TOO_LARGE),
)


def _reason_from_message(message: str) -> FailureReason:
    lowered = message.lower()
    for phrases, reason in _OLD_MESSAGES:
        if any(phrase in lowered for phrase in phrases):
            return reason
    return FailureReason.UNREADABLE


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2, _v3)


def _make_folder(folder: Path) -> None:
    """Create the library's folder (and its parents). Raises UserError saying why it cannot be made."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise UserError(
            f"The library folder {folder} cannot be made: {blocker} is a file, not a folder "
            "(check QA_READER_HOME or --library)."
        ) from None
    except PermissionError:
        raise UserError(
            f"The library folder {folder} cannot be made: permission denied (its parent folder is read-only)."
        ) from None
    except OSError as error:
        raise UserError(f"The library folder {folder} cannot be made ({error.strerror}).") from None


def _means(error: sqlite3.Error, code: str, phrase: str) -> bool:
    """Whether an sqlite3 error has this result code (by name, e.g. SQLITE_FULL) or, when raised without
    one, this phrase in its message."""
    name = getattr(error, "sqlite_errorname", None)
    if name:
        return name.startswith(code)
    return phrase in str(error)


def database_error(path: Path | None, error: sqlite3.Error) -> UserError | None:
    """A sentence for an SQLite error the environment caused (a full disk, a damaged or read-only file, a
    lock held too long), or None for one that is QA Reader's own bug."""
    where = str(path) if path is not None else "in memory"
    folder = path.parent if path is not None else None
    if _means(error, "SQLITE_FULL", "database or disk is full"):
        return UserError(f"The disk is full: the library {where} cannot grow; free some space, then try again.")
    if _means(error, "SQLITE_CORRUPT", "malformed"):
        return UserError(f"The library {where} is damaged ({error}): move it aside and QA Reader starts a new one.")
    if _means(error, "SQLITE_NOTADB", "not a database"):
        return UserError(
            f"The library {where} is not a usable database ({error}): move it aside and QA Reader starts a new one."
        )
    read_only_folder = folder is not None and folder.is_dir() and not os.access(folder, os.W_OK)
    if _means(error, "SQLITE_READONLY", "readonly database") or (
        read_only_folder and _means(error, "SQLITE_CANTOPEN", "unable to open")
    ):
        place = f"its folder {folder}" if read_only_folder else "the file"
        return UserError(f"The library {where} is read-only ({place}): QA Reader needs to write to it.")
    if _means(error, "SQLITE_BUSY", "database is locked") or _means(error, "SQLITE_LOCKED", "is locked"):
        return UserError(f"The library {where} is busy: another QA Reader held it too long; try again.")
    if _means(error, "SQLITE_IOERR", "disk I/O error") or _means(error, "SQLITE_CANTOPEN", "unable to open"):
        return UserError(f"The library {where} cannot be read or written ({error}).")
    return None


def _user_errors(method: Callable) -> Callable:
    """Wrap a Library method so that SQLite errors the environment caused become UserErrors."""

    @functools.wraps(method)
    def wrapped(self: Library, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            user_error = database_error(self.path, error)
            if user_error is None:
                raise
            raise user_error from error

    return wrapped


def _public_methods_raise_user_errors(cls: type) -> type:
    """Class decorator: every public method of the Library turns environmental SQLite errors into UserErrors,
    so a damaged, full, read-only or locked library is a sentence for people wherever it shows up."""
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_"):
            setattr(cls, name, _user_errors(value))
    return cls


@_public_methods_raise_user_errors
class Library:
    """One connection to the library database. Not thread-safe: one Library per thread."""

    def __init__(self, path: str | Path | None) -> None:
        """Open (creating and migrating) the library at `path`, or an in-memory one for None.

        Raises UserError when the file is not a usable SQLite database.
        """
        self.path = Path(path) if path is not None else None
        try:
            if self.path is None:
                self.db = sqlite_utils.Database(memory=True)
            else:
                _make_folder(self.path.parent)
                # Other processes (a second window, the command line) share the file: wait for their locks.
                self.db = sqlite_utils.Database(sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_SECONDS))
                self._enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise database_error(self.path, error) or UserError(
                f"The library {path} is not a usable database ({error})."
            ) from error

    def _enable_wal(self) -> None:
        # Several processes opening a new library at once all try to switch it to WAL; the switch needs the
        # database to themselves, and SQLite reports "locked" at once rather than waiting for it.
        for attempt in range(_WAL_ATTEMPTS):
            try:
                self.db.enable_wal()
                return
            except sqlite3.OperationalError as error:
                if not _means(error, "SQLITE_BUSY", "database is locked") or attempt == _WAL_ATTEMPTS - 1:
                    raise
                time.sleep(_RETRY_PAUSE_SECONDS)

    def _migrate(self) -> None:
        if self.db.execute("PRAGMA user_version").fetchone()[0] >= len(MIGRATIONS):
            return
        # Under the write lock, reading the version again: another process may have migrated meanwhile.
        with self._writing():
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                migration(self.db)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction that takes the write lock as it starts (BEGIN IMMEDIATE), waiting up to
        BUSY_TIMEOUT_SECONDS for another process's. A deferred transaction that reads first would fail with
        "database is locked" when another process wrote in between, however long it was willing to wait.
        Nested: a savepoint inside the open transaction."""
        if self.db.conn.in_transaction:
            with self._writing():
                yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        try:
            self.db.execute("COMMIT")
        except BaseException:
            self.db.rollback()
            raise

    def close(self) -> None:
        self.db.close()

    # --- documents -----------------------------------------------------------------------------

    def document_by_path(self, path: str) -> DocumentRecord | None:
        rows = list(self.db["documents"].rows_where("path = ?", [path]))
        return _record(rows[0]) if rows else None

    def document(self, document_id: int) -> DocumentRecord:
        """Raises UserError when no such document is in the library."""
        rows = list(self.db["documents"].rows_where("id = ?", [document_id]))
        if not rows:
            raise UserError(f"Document {document_id} is not in the library.")
        return _record(rows[0])

    def documents(self) -> list[DocumentRecord]:
        return [_record(row) for row in self.db["documents"].rows_where(order_by="id")]

    def document_text(self, document_id: int) -> str:
        row = self.db.execute("SELECT text FROM document_text WHERE document_id = ?", [document_id]).fetchone()
        return row[0] if row else ""

    def pages(self, document_id: int) -> list[Page]:
        rows = self.db.execute(
            "SELECT page_index, char_start, char_end, width, height, label FROM pages "
            "WHERE document_id = ? ORDER BY page_index",
            [document_id],
        ).fetchall()
        return [Page(*row) for row in rows]

    def page_boxes(self, document_id: int, page_index: int) -> tuple[int, np.ndarray] | None:
        """(char_start, float32 (n, 4) boxes) of one page, or None for flowing text."""
        return read_page_boxes(self.db.conn, document_id, page_index)

    def character_boxes(self, document_id: int, pages: Sequence[Page]) -> PageBoxes:
        """A document's character boxes (none for flowing text), read page by page when first needed; an
        in-memory library, which no other connection can read, hands them all over at once."""
        with_boxes = self.pages_with_boxes(document_id)
        if self.path is None:
            stored = {index: self.page_boxes(document_id, index) for index in with_boxes}
            held = {index: boxes for index, boxes in stored.items() if boxes is not None}
            return PageBoxes(None, document_id, pages, with_boxes, held)
        return PageBoxes(self.path, document_id, pages, with_boxes)

    def pages_with_boxes(self, document_id: int) -> set[int]:
        """The pages of a document that have character boxes (none for flowing text)."""
        rows = self.db.execute("SELECT page_index FROM geometry WHERE document_id = ?", [document_id])
        return {int(row[0]) for row in rows.fetchall()}

    def touch(self, document_id: int, mtime: float, size: int, sample_sha256: str = "") -> None:
        """Record that the file, hashed in full just now, still has the indexed content."""
        with self._writing():
            self.db["documents"].update(
                document_id, {"mtime": mtime, "size": size, "sample_sha256": sample_sha256, "indexed_at": time.time()}
            )

    def save_document(
        self, document: Document, passages: Iterable[Passage], mtime: float, size: int, sample_sha256: str = ""
    ) -> int:
        """Insert or replace a document and everything derived from it in one transaction; return its id."""
        passages = list(passages)
        status = DocumentStatus.PARTIAL if document.scanned_pages else DocumentStatus.READY
        with self._writing():
            existing = self.document_by_path(document.path)
            if existing is not None:
                self._delete_rows(existing.id)
            values = {
                "path": document.path,
                "title": document.title,
                "format": document.format,
                "sha256": document.sha256,
                "size": size,
                "mtime": mtime,
                "sample_sha256": sample_sha256,
                "page_count": len(document.pages),
                "passage_count": len(passages),
                "status": status.value,
                "error": "",
                "reason": FailureReason.NONE.value,
                "scanned_pages": json.dumps(list(document.scanned_pages)),
                "warnings": json.dumps(list(document.warnings)),
                "indexed_at": time.time(),
            }
            document_id = self._write_document_row(existing, values)
            self.db["document_text"].insert({"document_id": document_id, "text": document.text})
            self.db["pages"].insert_all(
                {
                    "document_id": document_id,
                    "page_index": page.page_index,
                    "char_start": page.char_start,
                    "char_end": page.char_end,
                    "width": page.width,
                    "height": page.height,
                    "label": page.label,
                }
                for page in document.pages
            )
            if document.char_boxes is not None:
                self.db["geometry"].insert_all(
                    {
                        "document_id": document_id,
                        "page_index": page.page_index,
                        "char_start": page.char_start,
                        "boxes": np.ascontiguousarray(
                            document.char_boxes[page.char_start : page.char_end], dtype=np.float32
                        ).tobytes(),
                    }
                    for page in document.pages
                )
            first_id = self._next_passage_id()
            self.db["passages"].insert_all(
                {
                    "id": first_id + passage.index,
                    "document_id": document_id,
                    "idx": passage.index,
                    "char_start": passage.char_start,
                    "char_end": passage.char_end,
                    "contents": int(looks_like_contents(passage.text)),
                    "text": passage.text,
                }
                for passage in passages
            )
            self.db.execute(
                "INSERT INTO passages_fts (rowid, text) SELECT id, text FROM passages WHERE document_id = ?",
                [document_id],
            )
        return int(document_id)

    def _write_document_row(self, existing: DocumentRecord | None, values: dict) -> int:
        if existing is None:
            return int(self.db["documents"].insert(values).last_pk)
        self.db["documents"].update(existing.id, values)
        return existing.id

    def _next_passage_id(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM passages").fetchone()
        return int(row[0])

    def _delete_rows(self, document_id: int) -> None:
        # passages_fts is an external-content index: rows leave it through its 'delete' command.
        self.db.execute(
            "INSERT INTO passages_fts (passages_fts, rowid, text) "
            "SELECT 'delete', id, text FROM passages WHERE document_id = ?",
            [document_id],
        )
        for table in ("passages", "geometry", "pages", "document_text"):
            self.db.execute(f"DELETE FROM {table} WHERE document_id = ?", [document_id])

    def record_failure(
        self,
        path: str,
        message: str,
        reason: FailureReason = FailureReason.UNREADABLE,
        sha256: str = "",
        mtime: float = 0.0,
        size: int = 0,
    ) -> int:
        """Remember that a file could not be indexed, why (`reason`) and the sentence saying so, keeping nothing
        stale of it; return its id."""
        with self._writing():
            existing = self.document_by_path(path)
            if existing is not None:
                self._delete_rows(existing.id)
            values = {
                "path": path,
                "title": Path(path).name,
                "format": Path(path).suffix.lstrip(".").lower(),
                "sha256": sha256,
                "size": size,
                "mtime": mtime,
                "sample_sha256": "",
                "page_count": 0,
                "passage_count": 0,
                "status": DocumentStatus.FAILED.value,
                "error": message,
                "reason": reason.value,
                "scanned_pages": "[]",
                "warnings": "[]",
                "indexed_at": time.time(),
            }
            return self._write_document_row(existing, values)

    def remove(self, document_id: int) -> None:
        with self._writing():
            self._delete_rows(document_id)
            self.db.execute("DELETE FROM documents WHERE id = ?", [document_id])

    # --- passages and search -------------------------------------------------------------------

    def passages(self, document_id: int) -> list[Passage]:
        rows = self.db.execute(
            "SELECT idx, char_start, char_end, text FROM passages WHERE document_id = ? ORDER BY idx", [document_id]
        ).fetchall()
        return [Passage(*row) for row in rows]

    def passage_rows(self, passage_ids: Iterable[int]) -> dict[int, tuple[int, Passage]]:
        """{passage id: (document id, passage)} for the given ids."""
        ids = list(passage_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, document_id, idx, char_start, char_end, text FROM passages WHERE id IN ({marks})", ids
        ).fetchall()
        return {row[0]: (row[1], Passage(*row[2:])) for row in rows}

    def total_passages(self) -> int:
        """How many passages the library's full-text index holds (BM25's document count)."""
        return int(self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    def contents_flags(self, passage_ids: Iterable[int]) -> dict[int, bool]:
        """{passage id: whether it was stored as a table of contents} for the given ids."""
        ids = list(passage_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, contents FROM passages WHERE id IN ({marks})", ids).fetchall()
        return {int(row[0]): bool(row[1]) for row in rows}

    def passage_ids(self, document_ids: Iterable[int]) -> list[tuple[int, int, int]]:
        """(passage id, document id, idx) of every passage of the documents, in document order."""
        ids = list(document_ids)
        marks = ",".join("?" * len(ids))
        return [
            tuple(row)
            for row in self.db.execute(
                f"SELECT id, document_id, idx FROM passages WHERE document_id IN ({marks}) ORDER BY document_id, idx",
                ids,
            )
        ]

    def bm25(self, match: str, document_ids: Iterable[int], limit: int) -> list[tuple[int, int, int, float]]:
        """(passage id, document id, idx, bm25 rank; lower is better) of the best passages for an FTS5 query.

        Table-of-contents passages are left out.
        """
        ids = list(document_ids)
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT passages.id, passages.document_id, passages.idx, bm25(passages_fts) AS rank "
            "FROM passages_fts JOIN passages ON passages.id = passages_fts.rowid "
            f"WHERE passages_fts MATCH ? AND passages.document_id IN ({marks}) AND passages.contents = 0 "
            "ORDER BY rank LIMIT ?"
        )
        return [tuple(row) for row in self.db.execute(sql, [match, *ids, limit])]

    def bm25_scores(self, match: str, passage_ids: Iterable[int]) -> dict[int, float]:
        """How well each of these passages matches an FTS5 query: -bm25, so higher is better and a
        passage that matches no term (or is a table of contents) is left out."""
        ids = list(passage_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT passages.id, bm25(passages_fts) FROM passages_fts "
            "JOIN passages ON passages.id = passages_fts.rowid "
            f"WHERE passages_fts MATCH ? AND passages.id IN ({marks}) AND passages.contents = 0"
        )
        return {int(row[0]): -float(row[1]) for row in self.db.execute(sql, [match, *ids])}

    def passage_id(self, document_id: int, idx: int) -> int | None:
        row = self.db.execute(
            "SELECT id FROM passages WHERE document_id = ? AND idx = ?", [document_id, idx]
        ).fetchone()
        return int(row[0]) if row else None

    # --- cache and history ---------------------------------------------------------------------

    def cached(self, key: str) -> str | None:
        row = self.db.execute("SELECT payload FROM answer_cache WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def cache(self, key: str, question: str, payload: str) -> None:
        """Remember an answer. Never fails: a library that is busy, full or read-only just caches nothing."""
        try:
            with self._short_wait(), self._writing():
                self.db["answer_cache"].insert(
                    {"key": key, "question": question, "payload": payload, "created": time.time()}, replace=True
                )
        except sqlite3.OperationalError as error:
            log.warning("The answer was not cached (%s)", error)

    def add_history(self, question: str, scope: str, best_answer: str) -> None:
        """Remember a question. Never fails, as `cache`: the answer matters more than its history."""
        try:
            with self._short_wait(), self._writing():
                self.db["history"].insert(
                    {"question": question, "scope": scope, "best_answer": best_answer, "asked_at": time.time()}
                )
        except sqlite3.OperationalError as error:
            log.warning("The question was not added to the history (%s)", error)

    def import_history(self, questions: Iterable[str]) -> None:
        """Add questions remembered elsewhere, most recent first, as asked before every question here."""
        row = self.db.execute("SELECT MIN(asked_at) FROM history").fetchone()
        oldest = row[0] if row and row[0] is not None else time.time()
        with self._writing():
            self.db["history"].insert_all(
                {"question": question, "scope": "", "best_answer": "", "asked_at": oldest - position}
                for position, question in enumerate(questions, start=1)
            )

    @contextlib.contextmanager
    def _short_wait(self) -> Iterator[None]:
        """Wait at most OPTIONAL_WRITE_WAIT_SECONDS for the write lock (another process indexing a big file
        may hold it for seconds), then the connection's usual patience again."""
        self.db.execute(f"PRAGMA busy_timeout = {int(OPTIONAL_WRITE_WAIT_SECONDS * 1000)}")
        try:
            yield
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")

    def history(self, limit: int = 200) -> list[str]:
        """Distinct past questions, most recent first."""
        rows = self.db.execute(
            "SELECT question FROM history GROUP BY question ORDER BY MAX(asked_at) DESC LIMIT ?", [limit]
        ).fetchall()
        return [row[0] for row in rows]


def _record(row: dict) -> DocumentRecord:
    return DocumentRecord(
        id=row["id"],
        path=row["path"],
        title=row["title"],
        format=row["format"],
        sha256=row["sha256"] or "",
        size=row["size"] or 0,
        mtime=row["mtime"] or 0.0,
        page_count=row["page_count"] or 0,
        passage_count=row["passage_count"] or 0,
        status=DocumentStatus(row["status"]),
        error=row["error"] or "",
        warnings=tuple(json.loads(row["warnings"] or "[]")),
        indexed_at=row["indexed_at"] or 0.0,
        sample_sha256=row["sample_sha256"] or "",
        # NOT NULL since version 3, with a default for the rows written before it.
        reason=FailureReason(row["reason"]),
        scanned_pages=tuple(json.loads(row["scanned_pages"])),
    )


def read_page_boxes(connection: sqlite3.Connection, document_id: int, page_index: int) -> tuple[int, np.ndarray] | None:
    """(char_start, float32 (n, 4) boxes) of one page read through any connection to a library, or None."""
    row = connection.execute(
        "SELECT char_start, boxes FROM geometry WHERE document_id = ? AND page_index = ?", [document_id, page_index]
    ).fetchone()
    if row is None:
        return None
    return int(row[0]), np.frombuffer(row[1], dtype=np.float32).reshape(-1, 4)


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
