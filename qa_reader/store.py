"""The SQLite library (sqlite-utils, WAL): documents, pages, passages with FTS5, geometry, answer cache
and question history. Every write that changes a document happens in one transaction."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from qa_reader.errors import UserError
from qa_reader.passages import looks_like_contents
from qa_reader.types import Document, Page, Passage


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the library knows it."""

    id: int
    path: str
    title: str
    format: str
    sha256: str
    size: int
    mtime: float
    page_count: int
    passage_count: int
    status: str  # "ready", "partial" (some pages scanned), "failed"
    error: str
    warnings: tuple[str, ...]
    indexed_at: float


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


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1,)


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
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite_utils.Database(self.path)
                self.db.enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise UserError(f"The library {path} is not a usable database ({error}).") from error

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.db.atomic():
                migration(self.db)
                self.db.execute(f"PRAGMA user_version = {number}")

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
        row = self.db.execute(
            "SELECT char_start, boxes FROM geometry WHERE document_id = ? AND page_index = ?", [document_id, page_index]
        ).fetchone()
        if row is None:
            return None
        return int(row[0]), np.frombuffer(row[1], dtype=np.float32).reshape(-1, 4)

    def touch(self, document_id: int, mtime: float, size: int) -> None:
        with self.db.atomic():
            self.db["documents"].update(document_id, {"mtime": mtime, "size": size})

    def save_document(self, document: Document, passages: Iterable[Passage], mtime: float, size: int) -> int:
        """Insert or replace a document and everything derived from it in one transaction; return its id."""
        passages = list(passages)
        status = "partial" if document.scanned_pages else "ready"
        with self.db.atomic():
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
                "page_count": len(document.pages),
                "passage_count": len(passages),
                "status": status,
                "error": "",
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

    def record_failure(self, path: str, message: str, sha256: str = "", mtime: float = 0.0, size: int = 0) -> int:
        """Remember that a file could not be indexed (keeping nothing stale of it); return its id."""
        with self.db.atomic():
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
                "page_count": 0,
                "passage_count": 0,
                "status": "failed",
                "error": message,
                "warnings": "[]",
                "indexed_at": time.time(),
            }
            return self._write_document_row(existing, values)

    def remove(self, document_id: int) -> None:
        with self.db.atomic():
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
        with self.db.atomic():
            self.db["answer_cache"].insert(
                {"key": key, "question": question, "payload": payload, "created": time.time()}, replace=True
            )

    def add_history(self, question: str, scope: str, best_answer: str) -> None:
        with self.db.atomic():
            self.db["history"].insert(
                {"question": question, "scope": scope, "best_answer": best_answer, "asked_at": time.time()}
            )

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
        status=row["status"],
        error=row["error"] or "",
        warnings=tuple(json.loads(row["warnings"] or "[]")),
        indexed_at=row["indexed_at"] or 0.0,
    )
