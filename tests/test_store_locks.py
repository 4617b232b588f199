"""The library shared with other processes: WAL, how long a write waits for another's lock and what gives up,
and a crash in the middle of a write. A second connection in this process stands in for the other process
(SQLite locks the file per connection)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from qa_reader.errors import UserError
from qa_reader.passages import split_passages
from qa_reader.store import _RETRY_PAUSE_SECONDS, BUSY_TIMEOUT_SECONDS, MIGRATIONS, Library
from tests.conftest import LIFE_CYCLE, text_document

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def another_process(path: Path, begin: str) -> Iterator[sqlite3.Connection]:
    """A second connection to the library holding a lock: a read transaction ("BEGIN" and a read, which a
    switch to WAL must wait for) or the write lock ("BEGIN IMMEDIATE")."""
    other = sqlite3.connect(path, check_same_thread=False)
    try:
        other.execute(begin)
        other.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        yield other
    finally:
        other.rollback()
        other.close()


def _busy_timeout(library: Library) -> float:
    return library.db.execute("PRAGMA busy_timeout").fetchone()[0] / 1000


def test_a_file_library_waits_for_another_process_s_write_lock_as_long_as_saving_takes(tmp_path):
    library = Library(tmp_path / "library.sqlite3")
    assert library.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert _busy_timeout(library) == BUSY_TIMEOUT_SECONDS
    library.cache("key", "question?", "[1]")  # waits less for itself, then the usual patience again
    assert _busy_timeout(library) == BUSY_TIMEOUT_SECONDS
    library.close()


def test_a_new_library_switches_to_wal_once_another_process_stops_reading_it(tmp_path, monkeypatch):
    # The switch needs the file to itself: while another connection reads, it fails as "locked", and is tried again.
    path = tmp_path / "library.sqlite3"
    monkeypatch.setattr("qa_reader.store.BUSY_TIMEOUT_SECONDS", 0.05)
    pauses: list[float] = []
    sleep = time.sleep
    with another_process(path, "BEGIN") as other:

        def pause(seconds: float) -> None:
            pauses.append(seconds)
            if len(pauses) == 2:
                other.rollback()  # the other process is done reading while the library waits a second time
            sleep(seconds)

        monkeypatch.setattr("qa_reader.store.time.sleep", pause)
        library = Library(path)
    assert pauses == [_RETRY_PAUSE_SECONDS, _RETRY_PAUSE_SECONDS]
    assert library.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert library.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    library.close()


def test_opening_gives_up_switching_to_wal_after_so_many_tries_and_says_the_library_is_busy(tmp_path, monkeypatch):
    path = tmp_path / "library.sqlite3"
    monkeypatch.setattr("qa_reader.store.BUSY_TIMEOUT_SECONDS", 0.01)
    monkeypatch.setattr("qa_reader.store._WAL_ATTEMPTS", 3)
    pauses: list[float] = []
    monkeypatch.setattr("qa_reader.store.time.sleep", pauses.append)
    with another_process(path, "BEGIN"), pytest.raises(UserError) as raised:
        Library(path)
    assert str(raised.value).startswith(f"The library {path} is busy")
    assert pauses == [_RETRY_PAUSE_SECONDS, _RETRY_PAUSE_SECONDS]  # three tries


def _enable_wal_failing_with(monkeypatch, *errors: sqlite3.OperationalError) -> list[str]:
    """Make the switch to WAL raise `errors` one by one, then succeed; returns the log of tries."""
    tries: list[str] = []
    real = sqlite_utils.Database.enable_wal

    def enable_wal(db: sqlite_utils.Database) -> None:
        tries.append("try")
        if len(tries) <= len(errors):
            raise errors[len(tries) - 1]
        real(db)

    monkeypatch.setattr(sqlite_utils.Database, "enable_wal", enable_wal)
    return tries


def _error(message: str, code_name: str | None) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    if code_name is not None:
        error.sqlite_errorname = code_name
    return error


def test_a_busy_switch_to_wal_is_tried_again_whether_sqlite_names_its_code_or_not(tmp_path, monkeypatch):
    tries = _enable_wal_failing_with(
        monkeypatch, _error("database is locked", "SQLITE_BUSY"), _error("database is locked", None)
    )
    pauses: list[float] = []
    monkeypatch.setattr("qa_reader.store.time.sleep", pauses.append)
    library = Library(tmp_path / "library.sqlite3")
    assert len(tries) == 3 and pauses == [_RETRY_PAUSE_SECONDS, _RETRY_PAUSE_SECONDS]
    assert library.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    library.close()


def test_another_error_while_switching_to_wal_is_not_tried_again(tmp_path, monkeypatch):
    tries = _enable_wal_failing_with(monkeypatch, _error("disk I/O error", "SQLITE_IOERR_WRITE"))
    pauses: list[float] = []
    monkeypatch.setattr("qa_reader.store.time.sleep", pauses.append)
    path = tmp_path / "library.sqlite3"
    with pytest.raises(UserError) as raised:
        Library(path)
    assert str(raised.value) == f"The library {path} cannot be read or written (disk I/O error)."
    assert (len(tries), pauses) == (1, [])


def test_opening_an_up_to_date_library_does_not_wait_for_another_process_s_write(tmp_path, monkeypatch):
    # A second window opens while the first one is saving a big file: nothing to migrate, nothing to wait for.
    path = tmp_path / "library.sqlite3"
    Library(path).close()
    monkeypatch.setattr("qa_reader.store.BUSY_TIMEOUT_SECONDS", 0.05)
    with another_process(path, "BEGIN IMMEDIATE"):
        library = Library(path)
        assert library.documents() == []
    library.close()


def test_answers_and_history_are_skipped_not_waited_for_while_another_process_writes(tmp_path, monkeypatch, caplog):
    path = tmp_path / "library.sqlite3"
    library = Library(path)
    monkeypatch.setattr("qa_reader.store.OPTIONAL_WRITE_WAIT_SECONDS", 0.05)
    with another_process(path, "BEGIN IMMEDIATE"), caplog.at_level(logging.WARNING, logger="qa_reader.store"):
        library.cache("key", "question?", "[1]")
        library.add_history("question?", "1", "answer")
        assert library.cached("key") is None and library.history() == []
    assert [record.getMessage() for record in caplog.records] == [
        "The answer was not cached (database is locked)",
        "The question was not added to the history (database is locked)",
    ]
    assert _busy_timeout(library) == BUSY_TIMEOUT_SECONDS
    library.cache("key", "question?", "[1]")
    library.add_history("question?", "1", "answer")
    assert library.cached("key") == "[1]" and library.history() == ["question?"]
    library.close()


# A process that saves a new version of the document and dies (no cleanup, no rollback) in the middle of it:
# after the document's row, its text and its pages, before its passages.
CRASH_WHILE_SAVING = """
import os, sys
from qa_reader.store import Library
from qa_reader.types import Document, Page, Passage

library = Library(sys.argv[1])
library._next_passage_id = lambda: os._exit(9)
text = "A new version that never made it to the disk."
document = Document("/virtual/life-cycle.txt", "life-cycle", "txt", "sha-new", text, (Page(0, 0, len(text)),))
library.save_document(document, [Passage(0, 0, len(text), text)], 2.0, 2)
"""


def test_a_process_killed_in_the_middle_of_saving_leaves_the_library_as_it_was(tmp_path):
    path = tmp_path / "library.sqlite3"
    library = Library(path)
    document_id = library.save_document(text_document(LIFE_CYCLE), split_passages(LIFE_CYCLE), 1.0, 1)
    library.close()
    crashed = subprocess.run([sys.executable, "-c", CRASH_WHILE_SAVING, str(path)], cwd=ROOT, timeout=60)
    assert crashed.returncode == 9
    library = Library(path)
    assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [record] = library.documents()
    assert (record.id, record.sha256, record.mtime) == (document_id, "sha-life-cycle", 1.0)
    assert library.document_text(document_id) == LIFE_CYCLE
    assert library.bm25('"preparation"', [document_id], 5)
    library.close()
