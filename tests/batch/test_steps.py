"""One document's batch work: prepared and read alone, bad input as a row with its reason, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_reader import ingest
from qa_reader.batch import steps
from qa_reader.batch.steps import Outcome, prepare, read, reading_engine
from qa_reader.engine import Engine
from tests.batch.conftest import QUESTIONS, UNREADABLE
from tests.conftest import LIFE_CYCLE


@pytest.fixture
def reader(tiny_model_dir):
    engine = reading_engine(tiny_model_dir)
    yield engine
    engine.close()


def test_a_document_is_answered_as_the_engine_answers_it_alone(documents, reader, tiny_model_dir):
    path = documents / "report.pdf"
    result = read(reader, prepare(str(path)), QUESTIONS, top_k=3)

    reference = Engine(None, tiny_model_dir)  # the app's way in: index the file, then ask
    record = reference.index(path)
    expected = reference.ask_many(QUESTIONS, [record.id], top_k=3)
    text = reference.library.document_text(record.id)
    reference.close()
    assert result.outcome is Outcome.ANSWERED and result.pages == 1
    assert result.sha256 == ingest.sha256_file(path)
    found = [(r.question, r.answer, r.score, r.page, r.char_start, r.char_end, r.sentence) for r in result.rows]
    assert found == [
        (answer_set.question, a.text, a.score, a.page_number, a.char_start, a.char_end, a.sentence)
        for answer_set in expected
        for a in answer_set.answers
    ]
    first = result.rows[0]
    assert first.rank == 1 and first.answer == text[first.char_start : first.char_end]
    assert first.answer.startswith("preparation") and first.answer.endswith("analysis")
    assert {r.document for r in result.rows} == {str(path)}


def test_a_question_not_found_is_a_row_without_an_answer(documents, reader):
    result = read(reader, prepare(str(documents / "sub" / "pets.txt")), QUESTIONS, top_k=3)
    assert result.outcome is Outcome.ANSWERED
    assert [(r.question, r.rank, r.answer, r.score, r.error) for r in result.rows] == [
        (question, None, None, None, None) for question in QUESTIONS
    ]


def test_answers_do_not_depend_on_what_the_engine_read_before(documents, reader, tiny_model_dir):
    alone = reading_engine(tiny_model_dir)
    first = read(alone, prepare(str(documents / "life-cycle.txt")), QUESTIONS, top_k=2)
    alone.close()
    for name in ("notes.md", "report.pdf", "sub/pets.txt"):
        read(reader, prepare(str(documents / name)), QUESTIONS, top_k=2)
    after_others = read(reader, prepare(str(documents / "life-cycle.txt")), QUESTIONS, top_k=2)
    assert after_others.rows == first.rows
    assert reader.documents() == []  # each document leaves the library once read


@pytest.mark.parametrize(("name", "phrase"), sorted(UNREADABLE.items()))
def test_a_file_that_cannot_be_read_becomes_one_row_with_its_reason(documents, reader, name, phrase):
    result = read(reader, prepare(str(documents / name)), QUESTIONS, top_k=1)
    assert result.outcome is Outcome.FAILED and result.pages == 0
    (row,) = result.rows
    assert row.status == "failed" and row.question is None and row.answer is None
    assert phrase in row.error and name in row.error


def test_a_missing_file_and_a_folder_are_rows_too(tmp_path, reader):
    for path, phrase in ((tmp_path / "gone.pdf", "does not exist"), (tmp_path, "is a folder")):
        (row,) = read(reader, prepare(str(path)), QUESTIONS, top_k=1).rows
        assert row.status == "failed" and phrase in row.error and row.sha256 == ""


def test_a_document_already_written_is_skipped_without_loading(documents, reader, monkeypatch):
    path = documents / "life-cycle.txt"
    monkeypatch.setattr(ingest, "load", lambda *args, **kwargs: pytest.fail("a written document was loaded"))
    prepared = prepare(str(path), written={ingest.sha256_file(path)})
    assert prepared.outcome is Outcome.SKIPPED and prepared.document is None
    result = read(reader, prepared, QUESTIONS, top_k=1)
    assert result.outcome is Outcome.SKIPPED and result.rows == ()


def test_a_file_that_could_not_be_hashed_is_known_by_its_path(documents):
    empty = str(documents / "empty.txt")
    assert prepare(empty, written={steps.path_key(str(documents / "corrupt.pdf"))}).outcome is Outcome.FAILED
    assert prepare(empty, written={steps.path_key(empty)}).outcome is Outcome.SKIPPED
    (documents / "empty.txt").write_text(LIFE_CYCLE, encoding="utf-8")  # it has content now: read it
    assert prepare(empty, written={steps.path_key(empty)}).outcome is Outcome.ANSWERED


def test_an_unexpected_exception_becomes_an_error_row_and_the_engine_stays_usable(documents, reader, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the reader broke")

    prepared = prepare(str(documents / "life-cycle.txt"))
    with monkeypatch.context() as patch:
        patch.setattr(reader, "ask_many", broken)
        result = read(reader, prepared, QUESTIONS, top_k=1)
    assert result.outcome is Outcome.ERROR
    (row,) = result.rows
    assert row.status == "error" and row.error == "unexpected RuntimeError: the reader broke"
    assert reader.documents() == []
    assert read(reader, prepared, QUESTIONS, top_k=1).outcome is Outcome.ANSWERED

    monkeypatch.setattr(ingest, "load", broken)
    prepared = prepare(str(documents / "notes.md"))
    assert prepared.outcome is Outcome.ERROR and prepared.sha256  # hashed before the loader broke
    assert "the reader broke" in prepared.reason


def test_a_file_name_that_is_not_utf8_is_a_row_that_any_output_can_hold(tmp_path, reader):
    name = Path(tmp_path / b"caf\xe9.txt".decode("utf-8", "surrogateescape"))
    name.write_text("Some text.", encoding="utf-8")
    (row,) = read(reader, prepare(str(name)), QUESTIONS, top_k=1).rows
    assert row.status == "failed" and "not UTF-8" in row.error
    assert row.document.endswith("caf\ufffd.txt")
    row.document.encode("utf-8")


def test_the_columns_are_the_rows_fields():
    assert steps.COLUMNS[:4] == ("document", "sha256", "status", "question")
    assert "score" in steps.COLUMNS and "error" in steps.COLUMNS
