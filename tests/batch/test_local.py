"""The in-process batch: every document and question into the output, and a job killed part-way resumed without
reading again what it wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa_reader.batch import local
from qa_reader.batch.local import run_local
from qa_reader.batch.output import SUMMARY_FILE, read_rows
from tests.batch.conftest import QUESTIONS, READABLE, UNREADABLE, folder_job, ordered

# Stops itself with SIGKILL (no cleanup, as a crash or `kill -9`) once `after` documents are done.
KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from qa_reader.batch.inputs import expand_documents
from qa_reader.batch.job import Job
from qa_reader.batch.local import run_local
folder, out, model, after = sys.argv[1:5]
questions = tuple(sys.argv[5:])

def progress(tally):
    if tally.seen == int(after):
        os.kill(os.getpid(), signal.SIGKILL)

job = Job(tuple(expand_documents([folder])), questions, Path(out), model_dir=Path(model), part_documents=2)
run_local(job, progress=progress)
"""


@pytest.fixture
def spy_reads(monkeypatch):
    """The paths of the documents the batch reads (prepared and handed to the model)."""
    paths: list[str] = []
    real = local.read

    def read(engine, prepared, questions, top_k):
        if prepared.document is not None:
            paths.append(Path(prepared.path).name)
        return real(engine, prepared, questions, top_k)

    monkeypatch.setattr(local, "read", read)
    return paths


def test_every_document_gets_a_row_per_answer_or_one_with_its_reason(documents, tmp_path, tiny_model_dir):
    out = tmp_path / "answers.jsonl"
    summary = run_local(folder_job(documents, out, tiny_model_dir, top_k=2))
    rows = read_rows(out)
    assert summary.documents == len(READABLE) + len(UNREADABLE)
    assert (summary.answered, summary.failed, summary.errors, summary.skipped) == (len(READABLE), 3, 0, 0)
    assert summary.pairs == len(READABLE) * len(QUESTIONS) and summary.rows == len(rows)
    assert summary.pages == len(READABLE)  # one page each
    for name in READABLE:
        mine = [row for row in rows if row["document"] == str(documents / name)]
        assert {row["question"] for row in mine} == set(QUESTIONS)
        for row in mine:
            assert row["status"] == "answered" and row["error"] is None
            assert row["rank"] in (1, 2, None) and (row["answer"] is None) == (row["rank"] is None)
    for name, phrase in UNREADABLE.items():
        (row,) = [row for row in rows if row["document"] == str(documents / name)]
        assert row["status"] == "failed" and phrase in row["error"]
    assert json.loads((out / SUMMARY_FILE).read_text())["answered"] == len(READABLE)


def test_a_second_run_skips_what_the_first_wrote_and_reads_what_is_new(documents, tmp_path, tiny_model_dir, spy_reads):
    out = tmp_path / "answers.jsonl"
    run_local(folder_job(documents, out, tiny_model_dir))
    parts, rows = sorted(out.glob("part-*")), ordered(read_rows(out))
    spy_reads.clear()
    again = run_local(folder_job(documents, out, tiny_model_dir))
    assert spy_reads == []
    assert (again.answered, again.failed, again.skipped) == (0, 0, len(READABLE) + len(UNREADABLE))
    assert sorted(out.glob("part-*")) == parts and ordered(read_rows(out)) == rows

    (documents / "sub" / "new.txt").write_text("The new phase is preparation and analysis.", encoding="utf-8")
    (documents / "notes.md").write_text("# Notes\n\nEdited: the weather is sunny.", encoding="utf-8")
    third = run_local(folder_job(documents, out, tiny_model_dir))
    assert sorted(spy_reads) == ["new.txt", "notes.md"]  # new content, whatever its path
    assert (third.answered, third.skipped) == (2, len(READABLE) + len(UNREADABLE) - 1)


@pytest.mark.slow
def test_a_killed_job_loses_at_most_the_part_in_flight_and_resumes(documents, tmp_path, tiny_model_dir, spy_reads):
    reference = folder_job(documents, tmp_path / "reference.jsonl", tiny_model_dir)
    run_local(reference)
    paths = reference.paths
    out = tmp_path / "answers.jsonl"
    command = [sys.executable, "-c", KILLED_RUN, str(documents), str(out), str(tiny_model_dir), "5", *QUESTIONS]
    killed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    # Parts of two documents: the first four are written, the fifth was in flight.
    written = {Path(row["document"]).name for row in read_rows(out)}
    assert written == {Path(path).name for path in paths[:4]}

    spy_reads.clear()
    resumed = run_local(folder_job(documents, out, tiny_model_dir))
    assert resumed.skipped == 4 and resumed.answered + resumed.failed == len(paths) - 4
    assert set(spy_reads) == {Path(path).name for path in paths[4:]} - set(UNREADABLE)
    assert ordered(read_rows(out)) == ordered(read_rows(reference.out))


def test_an_interrupted_run_writes_the_documents_it_finished(documents, tmp_path, tiny_model_dir):
    out = tmp_path / "answers.jsonl"

    def stop(tally):
        if tally.seen == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_local(folder_job(documents, out, tiny_model_dir), progress=stop)
    assert len({row["document"] for row in read_rows(out)}) == 3
