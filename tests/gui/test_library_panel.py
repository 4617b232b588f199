"""The sidebar's lines: their status comes from the record's status and reason code, never from the words of
its message."""

from __future__ import annotations

from qa_reader.gui.library_panel import RowStatus, row_for
from qa_reader.types import DocumentRecord, DocumentStatus, FailureReason


def record(status: DocumentStatus, **values) -> DocumentRecord:
    fields = dict(
        id=1,
        path="/docs/a.pdf",
        title="a",
        format="pdf",
        sha256="s",
        size=1,
        mtime=1.0,
        page_count=6,
        passage_count=9,
        status=status,
        error="",
        warnings=(),
        indexed_at=2.0,
    )
    return DocumentRecord(**{**fields, **values})


def test_a_failure_is_shown_by_its_reason_code() -> None:
    # The message may say anything (or be in another language): the code decides.
    scanned = record(DocumentStatus.FAILED, error="a.pdf n'a pas de texte.", reason=FailureReason.SCANNED)
    damaged = record(DocumentStatus.FAILED, error="scanned.pdf is damaged.", reason=FailureReason.DAMAGED)
    assert row_for(scanned).status is RowStatus.SCANNED and row_for(scanned).detail == scanned.error
    assert row_for(damaged).status is RowStatus.FAILED


def test_a_partly_scanned_pdf_names_its_pages_without_text() -> None:
    partial = record(DocumentStatus.PARTIAL, scanned_pages=(2, 4), warnings=("Something else entirely.",))
    row = row_for(partial)
    assert row.status is RowStatus.PARTIAL and row.searchable
    assert row.detail == "PDF · 6 pages · pages 3, 5 are scanned, without text"
    assert row_for(record(DocumentStatus.PARTIAL)).detail.endswith("some pages are scanned, without text")


def test_stale_and_missing_files_say_so() -> None:
    ready = record(DocumentStatus.READY)
    assert row_for(ready).status is RowStatus.READY
    assert row_for(ready, stale=True).status is RowStatus.STALE and row_for(ready, stale=True).searchable
    assert row_for(ready, missing=True).status is RowStatus.MISSING and not row_for(ready, missing=True).searchable
