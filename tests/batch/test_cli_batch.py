"""`qa-reader batch` on the command line: the summary, the output folder, and one line for each mistake."""

from __future__ import annotations

import sys

import pytest

import qa_reader.batch
from qa_reader.batch.output import read_rows
from qa_reader.cli import main
from tests.batch.conftest import QUESTIONS


@pytest.fixture
def run(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QA_READER_HOME", str(tmp_path / "home"))

    def invoke(*argv):
        code = main(["--model", str(tiny_model_dir), "batch", *map(str, argv)])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return invoke


def test_a_batch_prints_its_summary_and_writes_the_folder(run, documents, questions_file, tmp_path):
    out = tmp_path / "answers.jsonl"
    code, printed, _ = run(documents, "--questions", questions_file, "--out", out, "--top-k", "2")
    assert code == 0
    assert printed.splitlines()[0] == "7 documents: 4 read, 3 failed, 0 already written"
    assert printed.splitlines()[-1] == f"Written to {out}"
    assert {row["question"] for row in read_rows(out)} == {*QUESTIONS, None}
    assert not (tmp_path / "home").exists()  # a batch never touches the user's library


def test_a_question_line_that_cannot_be_asked_is_skipped_and_named(run, documents, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{QUESTIONS[0]}\n{'x' * 1001}\n", encoding="utf-8")
    code, _, err = run(documents / "life-cycle.txt", "--questions", questions, "--out", tmp_path / "a.jsonl")
    assert code == 1 and "questions.txt, line 2" in err
    assert {row["question"] for row in read_rows(tmp_path / "a.jsonl")} == {QUESTIONS[0]}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--top-k", "0"], "--top-k must be at least 1."),
        (["--ray-cpus", "2"], "--ray-cpus takes a whole number from 1, with --ray auto."),
        (["--out", "answers.csv"], "name it OUT.parquet or OUT.jsonl"),
        (["MISSING/*.pdf"], "matches no file."),
    ],
)
def test_a_mistake_is_one_line(run, documents, questions_file, tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    argv = [documents, "--questions", questions_file, "--out", "answers.jsonl"]
    argv = [*argv, *arguments] if arguments[0].startswith("--") else [*arguments, *argv[1:]]
    code, _, err = run(*argv)
    assert code == 1 and message in err and len(err.splitlines()) == 1


def test_ray_without_the_scale_extra_says_how_to_install_it(run, documents, questions_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.delitem(sys.modules, "qa_reader.batch.cluster", raising=False)
    monkeypatch.delattr(qa_reader.batch, "cluster", raising=False)
    code, _, err = run(documents, "--questions", questions_file, "--out", tmp_path / "a.parquet", "--ray", "auto")
    assert code == 1 and "pip install 'qa-reader[scale]'" in err and len(err.splitlines()) == 1


def test_parquet_without_pyarrow_says_how_to_get_it(run, documents, questions_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, _, err = run(documents, "--questions", questions_file, "--out", tmp_path / "a.parquet")
    assert code == 1 and "pip install 'qa-reader[scale]', or write --out OUT.jsonl" in err
