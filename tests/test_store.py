"""The library: migrations, the file's own constraints, replace-in-one-transaction, FTS5 kept in step, cache and
history, and the sentences for what goes wrong opening it."""

import dataclasses
import os
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from qa_reader.engine import Engine
from qa_reader.errors import UserError
from qa_reader.ingest.files import sha256_file
from qa_reader.passages import split_passages
from qa_reader.store import MIGRATIONS, Library, database_error
from qa_reader.types import Document, DocumentRecord, DocumentStatus, FailureReason, Page, Passage
from tests.conftest import LIFE_CYCLE, paged_document, text_document
from tests.ingest.builders import paragraph_lines, write_pdf


def _pdf_like(path="/virtual/a.pdf"):
    text = "First page text.\n\nSecond page text."
    boxes = np.arange(len(text) * 4, dtype=np.float32).reshape(-1, 4)
    pages = (Page(0, 0, 18, 600, 800), Page(1, 18, len(text), 600, 800))
    return Document(path, "a", "pdf", "sha-a", text, pages, char_boxes=boxes)


def test_save_and_read_back_a_document():
    library = Library(None)
    document = _pdf_like()
    document_id = library.save_document(document, split_passages(document.text), mtime=1.0, size=10)
    record = library.document(document_id)
    assert (record.title, record.status, record.page_count) == ("a", "ready", 2)
    assert library.document_text(document_id) == document.text
    assert library.pages(document_id) == list(document.pages)
    start, boxes = library.page_boxes(document_id, 1)
    assert start == 18
    np.testing.assert_array_equal(boxes, document.char_boxes[18:])


def test_reindexing_replaces_rows_and_the_search_index():
    library = Library(None)
    document_id = library.save_document(text_document(LIFE_CYCLE), split_passages(LIFE_CYCLE), 1.0, 1)
    assert library.bm25('"preparation"', [document_id], 5)
    changed = text_document("Completely different words about cats and dogs.", sha256="sha-2")
    same_id = library.save_document(changed, split_passages(changed.text), 2.0, 1)
    assert same_id == document_id
    assert library.bm25('"preparation"', [document_id], 5) == []
    assert library.bm25('"cats"', [document_id], 5)
    library.db.execute("INSERT INTO passages_fts(passages_fts) VALUES('integrity-check')")


def test_a_failed_save_leaves_the_library_as_it_was(monkeypatch):
    library = Library(None)
    document_id = library.save_document(text_document(LIFE_CYCLE), split_passages(LIFE_CYCLE), 1.0, 1)

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(library, "_next_passage_id", broken)
    with pytest.raises(UserError, match="disk I/O error"):
        library.save_document(
            text_document("New text entirely.", sha256="sha-3"), split_passages("New text entirely."), 2.0, 1
        )
    assert library.document_text(document_id) == LIFE_CYCLE
    assert library.document(document_id).sha256 == "sha-life-cycle"
    assert library.bm25('"preparation"', [document_id], 5)


def test_remove_deletes_everything_of_a_document():
    library = Library(None)
    document_id = library.save_document(_pdf_like(), split_passages(_pdf_like().text), 1.0, 1)
    library.remove(document_id)
    assert library.documents() == []
    for table in ("passages", "pages", "geometry", "document_text"):
        assert library.db[table].count == 0


def test_failure_is_recorded_with_its_reason():
    library = Library(None)
    document_id = library.record_failure("/virtual/bad.pdf", "bad.pdf is encrypted.")
    record = library.document(document_id)
    assert (record.status, record.error) == ("failed", "bad.pdf is encrypted.")


def test_file_library_is_migrated_once_and_uses_wal(tmp_path):
    path = tmp_path / "library.sqlite3"
    Library(path).close()
    library = Library(path)
    assert library.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 3
    assert library.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_is_not_a_database_is_a_user_error(tmp_path):
    path = tmp_path / "library.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError) as raised:
        Library(path)
    assert str(raised.value) == (
        f"The library {path} is not a usable database (file is not a database): move it aside and QA Reader "
        "starts a new one."
    )


def test_a_folder_where_the_library_file_should_be_is_a_user_error(tmp_path):
    path = tmp_path / "library.sqlite3"
    path.mkdir()
    with pytest.raises(UserError) as raised:
        Library(path)
    assert str(raised.value) == f"The library {path} cannot be read or written (unable to open database file)."


def test_another_programs_database_is_a_user_error_not_a_traceback(tmp_path):
    # A valid SQLite file whose tables are not a library's: migrating it fails in a way no sentence above names.
    path = tmp_path / "other.sqlite3"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE documents (x)")
    other.commit()
    other.close()
    with pytest.raises(UserError) as raised:
        Library(path)
    # sqlite-utils quotes the table's name as "documents" (4.x) or [documents] (3.x).
    assert re.fullmatch(
        rf"The library {re.escape(str(path))} is not a usable database \(table .documents. already exists\)\.",
        str(raised.value),
    )


def test_cache_and_history():
    library = Library(None)
    assert library.cached("k") is None
    library.cache("k", "q", "[1]")
    assert library.cached("k") == "[1]"
    library.add_history("first?", "1", "a")
    library.add_history("second?", "1", "b")
    library.add_history("first?", "1", "a")
    assert library.history() == ["first?", "second?"]


def test_a_full_disk_while_indexing_is_a_user_error_saying_so(tmp_path, tiny_model_dir):
    engine = Engine(tmp_path / "library.sqlite3", tiny_model_dir)
    # SQLite answers "database or disk is full" (SQLITE_FULL) when the file may not grow: the same error a
    # full disk gives, without filling one.
    pages = engine.library.db.execute("PRAGMA page_count").fetchone()[0]
    engine.library.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    big = tmp_path / "big.txt"
    big.write_text((LIFE_CYCLE + "\n\n") * 300, encoding="utf-8")
    with pytest.raises(UserError, match="The disk is full"):
        engine.index(big)
    assert engine.documents() == []
    engine.close()


def test_a_damaged_library_is_a_user_error_not_a_traceback(tmp_path):
    path = tmp_path / "library.sqlite3"
    library = Library(path)
    library.save_document(text_document(LIFE_CYCLE), split_passages(LIFE_CYCLE), 1.0, 1)
    library.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    library.close()
    with path.open("r+b") as handle:
        for page in range(2, path.stat().st_size // 4096):
            handle.seek(page * 4096)
            handle.write(b"\xa5" * 4096)
    library = Library(path)
    with pytest.raises(UserError, match="is damaged"):
        library.cached("some key")
    library.close()


def test_a_library_from_before_sample_hashes_is_migrated_and_rehashes_its_files(tmp_path, tiny_model_dir, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text(LIFE_CYCLE, encoding="utf-8")
    library_path = tmp_path / "library.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr("qa_reader.store.MIGRATIONS", MIGRATIONS[:1])
        old = Library(library_path)
        stat = notes.stat()
        old.db["documents"].insert(  # what the version-1 library kept of an indexed file
            {
                "path": str(notes),
                "title": "notes",
                "format": "txt",
                "sha256": sha256_file(notes),
                "size": stat.st_size,
                "mtime": stat.st_mtime,
                "status": "ready",
                "indexed_at": stat.st_mtime + 60,
            }
        )
        old.close()
    engine = Engine(library_path, tiny_model_dir)
    [record] = engine.documents()
    assert record.sample_sha256 == ""
    assert not engine.is_stale(record)  # not flagged as changed just for having no sample yet
    assert engine.index(notes).sample_sha256  # same content: hashed in full, kept, now with its sample
    assert engine.documents()[0].id == record.id
    engine.close()


# What version 2 stored of failed files: the reason only in the sentence (after the file's name).
OLD_FAILURES = {
    "scan.pdf": ("scan.pdf is scanned: it has no text layer; run OCR on it first.", FailureReason.SCANNED),
    "scanned-report.pdf": (
        "scanned-report.pdf is damaged or not a PDF at all: it cannot be opened.",
        FailureReason.DAMAGED,
    ),
    "secret.pdf": (
        "secret.pdf is encrypted: open it in a PDF viewer, save an unprotected copy.",
        FailureReason.ENCRYPTED,
    ),
    "book.epub": ("book.epub is protected by DRM: QA Reader cannot read its text.", FailureReason.ENCRYPTED),
    "empty.txt": ("empty.txt contains no text.", FailureReason.NO_TEXT),
    "data.bin": ("data.bin holds binary data, not text: QA Reader reads PDF, text…", FailureReason.UNSUPPORTED),
    "locked.txt": ("locked.txt cannot be read: permission denied.", FailureReason.UNREADABLE),
}


def test_a_version_2_library_is_migrated_and_its_failures_get_reason_codes(tmp_path, monkeypatch):
    library_path = tmp_path / "library.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr("qa_reader.store.MIGRATIONS", MIGRATIONS[:2])
        old = Library(library_path)
        old.db["documents"].insert(  # what the version-2 library kept of an indexed file
            {"path": "/old/notes.txt", "title": "notes", "format": "txt", "status": "ready", "sample_sha256": "s"}
        )
        for name, (message, _) in OLD_FAILURES.items():
            old.db["documents"].insert(
                {"path": f"/old/{name}", "title": name, "format": "", "status": "failed", "error": message}
            )
        assert old.db.execute("PRAGMA user_version").fetchone()[0] == 2
        old.close()
    library = Library(library_path)
    assert library.db.execute("PRAGMA user_version").fetchone()[0] == 3
    ready = library.document_by_path("/old/notes.txt")
    # What the old version left out reads as empty; the new columns have their defaults.
    assert ready == DocumentRecord(
        id=ready.id,
        path="/old/notes.txt",
        title="notes",
        format="txt",
        sha256="",
        size=0,
        mtime=0.0,
        page_count=0,
        passage_count=0,
        status=DocumentStatus.READY,
        error="",
        warnings=(),
        indexed_at=0.0,
        sample_sha256="s",
        reason=FailureReason.NONE,
        scanned_pages=(),
    )
    failed = {record.title: record for record in library.documents() if record.status is DocumentStatus.FAILED}
    assert {title: record.reason for title, record in failed.items()} == {
        name: reason for name, (_, reason) in OLD_FAILURES.items()
    }
    assert failed["scan.pdf"].error == OLD_FAILURES["scan.pdf"][0]  # the sentence stays, for people
    library.close()


def test_a_failed_file_is_stored_with_its_reason_code_and_a_partial_one_with_its_scanned_pages(
    tmp_path, tiny_model_dir
):
    engine = Engine(None, tiny_model_dir)
    noise = tmp_path / "scanned-report.pdf"
    noise.write_bytes(bytes(range(256)) * 8)
    scan = write_pdf(tmp_path / "scan.pdf", [None, None])
    partial = write_pdf(tmp_path / "partial.pdf", [paragraph_lines(72, 200, ["Readable text."]), None, None])
    for path in (noise, scan):
        with pytest.raises(UserError):
            engine.index(path, remember_failure=True)
    record = engine.index(partial)
    assert (record.status, record.scanned_pages) == (DocumentStatus.PARTIAL, (1, 2))
    reasons = {Path(r.path).name: (r.status, r.reason) for r in engine.documents() if r.status is DocumentStatus.FAILED}
    assert reasons == {
        "scanned-report.pdf": (DocumentStatus.FAILED, FailureReason.DAMAGED),
        "scan.pdf": (DocumentStatus.FAILED, FailureReason.SCANNED),
    }
    engine.close()


def test_history_imported_from_elsewhere_comes_after_the_questions_asked_here(monkeypatch):
    library = Library(None)
    monkeypatch.setattr("qa_reader.store.time.time", lambda: 1000.0)
    library.add_history("asked here?", "1", "a")
    monkeypatch.setattr("qa_reader.store.time.time", lambda: 90_000.0)  # imported a day later
    library.import_history(["newer elsewhere?", "older elsewhere?", "asked here?"])
    assert library.history() == ["asked here?", "newer elsewhere?", "older elsewhere?"]


def test_history_imported_into_a_new_library_keeps_its_order(monkeypatch):
    library = Library(None)
    monkeypatch.setattr("qa_reader.store.time.time", lambda: 1000.0)
    library.import_history(["newest?", "older?", "oldest?"])
    assert library.history() == ["newest?", "older?", "oldest?"]
    library.add_history("asked now?", "1", "a")
    assert library.history() == ["asked now?", "newest?", "older?", "oldest?"]


def test_an_sqlite_error_that_is_our_bug_stays_one():
    library = Library(None)
    document_id = library.save_document(text_document(LIFE_CYCLE), split_passages(LIFE_CYCLE), 1.0, 1)
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        library.bm25("AND AND", [document_id], 5)  # a bad FTS5 query: not a damaged library


def _sqlite_error(message: str, code_name: str | None) -> sqlite3.Error:
    """An error as sqlite3 raises it: with the result code's name, or (from older paths) only a message."""
    error = sqlite3.OperationalError(message)
    if code_name is not None:
        error.sqlite_errorname = code_name
    return error


@pytest.mark.parametrize(
    ("code_name", "message", "sentence"),
    [
        ("SQLITE_FULL", "database or disk is full", "The disk is full: the library {where} cannot grow"),
        ("SQLITE_CORRUPT", "database disk image is malformed", "The library {where} is damaged ("),
        ("SQLITE_NOTADB", "file is not a database", "The library {where} is not a usable database ("),
        ("SQLITE_READONLY", "attempt to write a readonly database", "The library {where} is read-only (the file)"),
        ("SQLITE_BUSY", "database is locked", "The library {where} is busy: another QA Reader held it"),
        ("SQLITE_LOCKED", "database table is locked", "The library {where} is busy"),
        ("SQLITE_IOERR_WRITE", "disk I/O error", "The library {where} cannot be read or written ("),
        ("SQLITE_CANTOPEN", "unable to open database file", "The library {where} cannot be read or written ("),
    ],
)
def test_each_environmental_sqlite_error_is_a_sentence_by_its_code_or_else_its_message(
    tmp_path, code_name, message, sentence
):
    path = tmp_path / "library.sqlite3"
    for where, error in (
        (str(path), _sqlite_error("something went wrong", code_name)),  # the code decides, not the text
        (str(path), _sqlite_error(message, None)),
    ):
        user_error = database_error(path, error)
        assert user_error is not None and str(user_error).startswith(sentence.format(where=where)), (error, user_error)
    in_memory = database_error(None, _sqlite_error(message, code_name))
    assert in_memory is not None and str(in_memory).startswith(sentence.format(where="in memory"))


def test_an_sqlite_error_of_ours_is_no_sentence_even_if_its_message_looks_like_one(tmp_path):
    # A code says what happened; the message is read only when there is no code.
    assert database_error(tmp_path / "l.sqlite3", _sqlite_error("no such table: x", "SQLITE_ERROR")) is None
    assert database_error(tmp_path / "l.sqlite3", _sqlite_error("database or disk is full", "SQLITE_ERROR")) is None
    assert database_error(tmp_path / "l.sqlite3", _sqlite_error("no such table: x", None)) is None


def test_a_failed_file_is_remembered_with_nothing_of_its_content(tmp_path):
    library = Library(None)
    document = text_document(LIFE_CYCLE, path="/virtual/Report.PDF")
    library.save_document(document, split_passages(LIFE_CYCLE), 3.0, 30)
    document_id = library.record_failure(
        "/virtual/Report.PDF", "Report.PDF is encrypted.", FailureReason.ENCRYPTED, "sha-x", 5.0, 50
    )
    record = library.document(document_id)
    assert (record.path, record.title, record.format, record.status, record.error, record.reason) == (
        "/virtual/Report.PDF",
        "Report.PDF",
        "pdf",
        DocumentStatus.FAILED,
        "Report.PDF is encrypted.",
        FailureReason.ENCRYPTED,
    )
    assert (record.sha256, record.size, record.mtime, record.sample_sha256) == ("sha-x", 50, 5.0, "")
    assert (record.page_count, record.passage_count, record.warnings) == (0, 0, ())
    assert library.passage_ids([document_id]) == [] and library.pages(document_id) == []
    assert [r.id for r in library.documents()] == [document_id]
    # Without the file's details, nothing is claimed about it.
    other = library.document(library.record_failure("/virtual/notes", "notes cannot be read."))
    assert (other.format, other.sha256, other.size, other.mtime) == ("", "", 0, 0.0)


def test_touch_records_a_full_hash_and_forgets_an_old_sample(monkeypatch):
    library = Library(None)
    document = text_document(LIFE_CYCLE)
    document_id = library.save_document(document, split_passages(LIFE_CYCLE), 1.0, 10, sample_sha256="old")
    monkeypatch.setattr("qa_reader.store.time.time", lambda: 1234.5)
    library.touch(document_id, 2.0, 20)
    record = library.document(document_id)
    assert (record.mtime, record.size, record.sample_sha256, record.indexed_at) == (2.0, 20, "", 1234.5)
    library.touch(document_id, 3.0, 30, "new")
    assert library.document(document_id).sample_sha256 == "new"


def test_passages_and_pages_with_boxes_read_back_per_document():
    library = Library(None)
    pdf = _pdf_like()
    pdf_id = library.save_document(pdf, split_passages(pdf.text), 1.0, 1)
    text_id = library.save_document(text_document(LIFE_CYCLE), split_passages(LIFE_CYCLE), 1.0, 1)
    assert library.passages(pdf_id) == split_passages(pdf.text)
    assert library.passages(text_id) == split_passages(LIFE_CYCLE)
    assert library.pages_with_boxes(pdf_id) == {0, 1}
    assert library.pages_with_boxes(text_id) == set()


def test_history_keeps_the_two_hundred_most_recent_questions_by_default(monkeypatch):
    library = Library(None)
    clock = iter(range(1000, 2000))
    monkeypatch.setattr("qa_reader.store.time.time", lambda: float(next(clock)))
    for number in range(201):
        library.add_history(f"question {number}?", "1", "")
    history = library.history()
    assert len(history) == 200 and history[0] == "question 200?" and "question 0?" not in history
    assert library.history(limit=2) == ["question 200?", "question 199?"]


def test_a_file_where_the_library_folder_should_be_is_named(tmp_path):
    blocker = tmp_path / "notes"
    blocker.write_text("not a folder")
    for path in (blocker / "library.sqlite3", blocker / "deeper" / "library.sqlite3"):
        with pytest.raises(UserError) as raised:
            Library(path)
        assert str(raised.value) == (
            f"The library folder {path.parent} cannot be made: {blocker} is a file, not a folder "
            "(check QA_READER_HOME or --library)."
        )


def test_a_folder_that_cannot_be_made_for_another_reason_says_why(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError(36, "File name too long")

    monkeypatch.setattr("pathlib.Path.mkdir", refuse)
    with pytest.raises(UserError, match=r"cannot be made \(File name too long\)\.$"):
        Library(tmp_path / "long" / "library.sqlite3")


def test_search_finds_other_forms_of_a_word():
    # The index stems words (porter): a question about "investigating" finds a passage that says "investigated".
    library = Library(None)
    text = "The team investigated every alert.\n\nNothing else happened that week."
    document_id = library.save_document(text_document(text), split_passages(text), 1.0, 1)
    [(_, found_in, idx, _)] = library.bm25('"investigating"', [document_id], 5)
    assert (found_in, idx) == (document_id, 0)


def _passage_per_paragraph(text: str) -> list[Passage]:
    passages, start = [], 0
    for index, paragraph in enumerate(text.split("\n\n")):
        passages.append(Passage(index, start, start + len(paragraph), paragraph))
        start += len(paragraph) + 2
    return passages


# A row of each table that belongs to a document, and what makes it that document's own.
ROWS_OF_A_DOCUMENT = {
    "document_text": {"text": "More text."},
    "pages": {"page_index": 0, "char_start": 0, "char_end": 4, "width": 0.0, "height": 0.0, "label": ""},
    "geometry": {"page_index": 0, "char_start": 0, "boxes": b""},
    "passages": {"id": 1000, "idx": 0, "char_start": 0, "char_end": 4, "contents": 0, "text": "More"},
}


@pytest.mark.parametrize("table", sorted(ROWS_OF_A_DOCUMENT))
def test_the_library_refuses_a_second_copy_of_a_documents_row_or_a_row_of_no_document(table):
    # Whichever process writes, the file itself keeps one text, page, box page and passage per place and none
    # of a document it does not hold.
    library = Library(None)
    document_id = library.save_document(_pdf_like(), split_passages(_pdf_like().text), 1.0, 1)
    row = ROWS_OF_A_DOCUMENT[table]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        library.db[table].insert({**row, "document_id": document_id})
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        library.db[table].insert({**row, "document_id": document_id + 1})


def test_the_library_keeps_one_document_per_path_each_with_a_path_and_passage_ids_unique():
    library = Library(None)
    document_id = library.save_document(_pdf_like(), split_passages(_pdf_like().text), 1.0, 1)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        library.db["documents"].insert({"path": "/virtual/a.pdf", "title": "a", "status": "ready"})
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        library.db["documents"].insert({"title": "nowhere", "status": "ready"})
    [(passage_id, _, _)] = library.passage_ids([document_id])
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        library.db["passages"].insert({**ROWS_OF_A_DOCUMENT["passages"], "id": passage_id, "idx": 7, "document_id": 1})


def test_passages_of_documents_saved_one_after_another_keep_their_own_ids():
    library = Library(None)
    first = paged_document(["First document, page one.", "First document, page two."], "/virtual/first.pdf")
    second = paged_document(["Second document, page one.", "Second document, page two."], "/virtual/second.pdf")
    first_id = library.save_document(first, _passage_per_paragraph(first.text), 1.0, 1)
    second_id = library.save_document(second, _passage_per_paragraph(second.text), 1.0, 1)
    listed = library.passage_ids([first_id, second_id])
    assert [(document, idx) for _, document, idx in listed] == [
        (first_id, 0),
        (first_id, 1),
        (second_id, 0),
        (second_id, 1),
    ]
    rows = library.passage_rows(passage_id for passage_id, _, _ in listed)
    assert [rows[passage_id][1].text for passage_id, _, _ in listed] == [
        "First document, page one.",
        "First document, page two.",
        "Second document, page one.",
        "Second document, page two.",
    ]
    found = library.bm25('"document"', [first_id, second_id], 10)
    assert sorted((document, idx) for _, document, idx, _ in found) == [
        (d, i) for d in (first_id, second_id) for i in (0, 1)
    ]
    assert library.total_passages() == 4


def test_tables_of_contents_are_flagged_and_left_out_of_search():
    library = Library(None)
    contents = "Introduction ........ 1\nMethods ........ 4\nResults ........ 9\nMethods of analysis ........ 12"
    text = contents + "\n\nThe methods section explains how the samples were taken."
    document_id = library.save_document(text_document(text), _passage_per_paragraph(text), 1.0, 1)
    (contents_id, _, _), (body_id, _, _) = library.passage_ids([document_id])
    assert library.contents_flags([contents_id, body_id]) == {contents_id: True, body_id: False}
    assert library.contents_flags([]) == {}
    assert [row[0] for row in library.bm25('"methods"', [document_id], 5)] == [body_id]
    assert set(library.bm25_scores('"methods"', [contents_id, body_id])) == {body_id}


def test_asking_for_what_the_library_does_not_hold():
    library = Library(None)
    with pytest.raises(UserError) as raised:
        library.document(7)
    assert str(raised.value) == "Document 7 is not in the library."
    assert library.document_by_path("/virtual/none.txt") is None
    assert library.document_text(7) == ""
    assert library.pages(7) == [] and library.passages(7) == [] and library.passage_id(7, 0) is None
    assert library.page_boxes(7, 0) is None


def test_a_document_saved_without_a_sample_hash_has_none_and_one_that_failed_before_forgets_its_error():
    library = Library(None)
    library.record_failure("/virtual/life-cycle.txt", "life-cycle.txt cannot be read.", FailureReason.UNREADABLE)
    document_id = library.save_document(text_document(LIFE_CYCLE), split_passages(LIFE_CYCLE), 1.0, 1)
    record = library.document(document_id)
    assert (record.status, record.error, record.reason, record.sample_sha256) == (
        DocumentStatus.READY,
        "",
        FailureReason.NONE,
        "",
    )


def test_character_boxes_are_stored_as_float32_whatever_the_document_held():
    library = Library(None)
    document = _pdf_like()
    wide = dataclasses.replace(document, char_boxes=document.char_boxes.astype(np.float64))
    document_id = library.save_document(wide, split_passages(wide.text), 1.0, 1)
    start, boxes = library.page_boxes(document_id, 1)
    assert (start, boxes.dtype) == (18, np.float32)
    np.testing.assert_array_equal(boxes, document.char_boxes[18:])


@pytest.mark.parametrize(
    ("name", "format"), [("Report.PDF", "pdf"), ("Data.XML", "xml"), ("archive.tar.GZ", "gz"), ("notes", "")]
)
def test_a_failed_files_format_is_its_suffix_in_lower_case(name, format):
    library = Library(None)
    assert library.document(library.record_failure(f"/virtual/{name}", f"{name} cannot be read.")).format == format


def test_caching_an_answer_again_replaces_it():
    library = Library(None)
    library.cache("key", "question?", "[1]")
    library.cache("key", "question?", "[2]")
    assert library.cached("key") == "[2]"


def test_a_library_in_folders_that_do_not_exist_yet_makes_them(tmp_path):
    path = tmp_path / "new" / "deeper" / "library.sqlite3"
    Library(path).close()
    assert path.is_file()


def test_a_link_to_nowhere_where_the_library_folder_should_be_is_named(tmp_path):
    folder = tmp_path / "library"
    folder.symlink_to(tmp_path / "gone")
    with pytest.raises(UserError) as raised:
        Library(folder / "library.sqlite3")
    assert str(raised.value) == (
        f"The library folder {folder} cannot be made: {folder} is a file, not a folder "
        "(check QA_READER_HOME or --library)."
    )


def test_a_folder_without_permission_to_create_the_library_folder_says_so(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pathlib.Path.mkdir", refuse)
    with pytest.raises(UserError) as raised:
        Library(tmp_path / "library" / "library.sqlite3")
    assert str(raised.value) == (
        f"The library folder {tmp_path / 'library'} cannot be made: permission denied (its parent folder is read-only)."
    )


def test_a_library_in_a_folder_it_may_not_write_to_names_the_folder(tmp_path, monkeypatch):
    # As root every folder is writable, so the folder's permission is what os.access answers here.
    path = tmp_path / "library.sqlite3"
    access = os.access

    def no_writing_in_tmp_path(where, mode, **kwargs):
        return not (Path(where) == tmp_path and mode & os.W_OK) and access(where, mode, **kwargs)

    monkeypatch.setattr("os.access", no_writing_in_tmp_path)
    sentence = f"The library {path} is read-only (its folder {tmp_path}): QA Reader needs to write to it."
    for error in (
        _sqlite_error("unable to open database file", "SQLITE_CANTOPEN"),
        _sqlite_error("unable to open database file", None),
        _sqlite_error("attempt to write a readonly database", "SQLITE_READONLY"),
    ):
        assert str(database_error(path, error)) == sentence, error
    # A file it cannot open in a folder it may write to is another matter.
    elsewhere = tmp_path / "sub" / "library.sqlite3"
    elsewhere.parent.mkdir()
    assert str(database_error(elsewhere, _sqlite_error("x", "SQLITE_CANTOPEN"))).startswith(
        f"The library {elsewhere} cannot be read or written ("
    )
