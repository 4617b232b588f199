"""The output folder: whole parts only, rows that read back as written, the keys a resumed batch skips."""

from __future__ import annotations

import sys

import pytest

from qa_reader.batch.output import PartWriter, Summary, Tally, read_rows
from qa_reader.batch.steps import AnswerRow, DocumentResult, Outcome
from qa_reader.errors import UserError

ANSWER = AnswerRow(
    "/docs/a.pdf",
    "a" * 64,
    "answered",
    question="Who?",
    rank=1,
    answer="Ada Lindqvist",
    score=0.8125,
    page=3,
    page_label="iii",
    char_start=120,
    char_end=133,
    sentence="The first keeper was Ada Lindqvist.",
)
NOT_FOUND = AnswerRow("/docs/a.pdf", "a" * 64, "answered", question="When?")
FAILURE = AnswerRow("/docs/b.pdf", "b" * 64, "failed", error="b.pdf is damaged: no page of it can be read.")


def result(outcome: Outcome, sha256: str, *rows: AnswerRow) -> DocumentResult:
    pages = 3 if outcome is Outcome.ANSWERED else 0
    return DocumentResult(f"/docs/{sha256[:1]}.pdf", sha256, outcome, pages, rows, 0.5, 1.5)


@pytest.fixture(params=["parquet", "jsonl"])
def out(request, tmp_path):
    if request.param == "parquet":
        pytest.importorskip("pyarrow", reason="Parquet needs the scale extra")
    return tmp_path / f"answers.{request.param}"


def test_rows_read_back_as_written_with_their_types(out):
    writer = PartWriter(out)
    writer.add(result(Outcome.ANSWERED, "a" * 64, ANSWER, NOT_FOUND))
    writer.add(result(Outcome.FAILED, "b" * 64, FAILURE))
    writer.flush()
    rows = read_rows(out)
    assert rows == [vars(ANSWER), vars(NOT_FOUND), vars(FAILURE)]
    assert isinstance(rows[0]["rank"], int) and isinstance(rows[0]["score"], float)


def test_a_part_is_written_whole_when_enough_documents_have_gathered(out):
    (out / ".part-from-a-killed-run.tmp").parent.mkdir(parents=True)
    (out / ".part-from-a-killed-run.tmp").write_text("half a part")
    writer = PartWriter(out, part_documents=2)
    assert list(out.iterdir()) == []  # what a killed run left half-written is gone
    writer.add(result(Outcome.ANSWERED, "a" * 64, ANSWER))
    assert writer.parts() == []
    writer.add(result(Outcome.ANSWERED, "c" * 64, NOT_FOUND))
    assert len(writer.parts()) == 1
    writer.add(result(Outcome.SKIPPED, "d" * 64))
    writer.flush()
    assert len(writer.parts()) == 1  # a skipped document writes nothing
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in writer.parts()]


def test_a_part_is_written_when_enough_time_has_passed(out):
    writer = PartWriter(out, part_documents=1000, part_seconds=0.0)
    writer.add(result(Outcome.ANSWERED, "a" * 64, ANSWER))
    assert len(writer.parts()) == 1


def test_written_holds_the_documents_done_for_good(out):
    writer = PartWriter(out)
    writer.add(result(Outcome.ANSWERED, "a" * 64, ANSWER))
    writer.add(result(Outcome.FAILED, "b" * 64, FAILURE))
    writer.add(result(Outcome.ERROR, "e" * 64, AnswerRow("/docs/e.pdf", "e" * 64, "error", error="unexpected")))
    writer.add(result(Outcome.FAILED, "", AnswerRow("/docs/gone.pdf", "", "failed", error="gone")))
    writer.flush()
    # An error is tried again; a file that could not be hashed is known by its path.
    assert PartWriter(out).written() == {"a" * 64, "b" * 64, "path:/docs/gone.pdf"}


@pytest.mark.parametrize(
    ("name", "phrase"), [("answers.csv", "OUT.parquet or OUT.jsonl"), ("answers", "OUT.parquet or OUT.jsonl")]
)
def test_an_output_of_another_kind_is_refused(tmp_path, name, phrase):
    with pytest.raises(UserError, match=phrase):
        PartWriter(tmp_path / name)


def test_an_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "answers.jsonl").write_text("{}\n")
    with pytest.raises(UserError, match="is a file"):
        PartWriter(tmp_path / "answers.jsonl")


def test_a_damaged_part_is_named(tmp_path):
    out = tmp_path / "answers.jsonl"
    out.mkdir()
    (out / "part-1.jsonl").write_text('{"sha256": "a"\n')
    with pytest.raises(UserError, match="part-1.jsonl is damaged"):
        PartWriter(out).written()


def test_parquet_without_pyarrow_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UserError, match=r"pip install 'qa-reader\[scale\]', or write --out OUT.jsonl"):
        PartWriter(tmp_path / "answers.parquet")


def test_the_summary_counts_each_outcome():
    tally = Tally(documents=5, questions=3)
    tally.add(result(Outcome.ANSWERED, "a" * 64, ANSWER, NOT_FOUND))
    tally.add(result(Outcome.FAILED, "b" * 64, FAILURE))
    tally.add(DocumentResult("/docs/s.pdf", "s" * 64, Outcome.SKIPPED, 0, (), 0.1, 0.0))
    summary = tally.summary(seconds=2.0)
    assert summary == Summary(
        documents=5,
        answered=1,
        failed=1,
        errors=0,
        skipped=1,
        lost=2,
        pages=3,
        questions=3,
        pairs=3,
        rows=3,
        seconds=2.0,
        ingest_seconds=1.1,
        read_seconds=3.0,
    )
    assert summary.pages_per_second == 1.5 and summary.pairs_per_second == 1.5
    assert summary.lines()[-1] == "2 documents not done for good: run the same command again."
