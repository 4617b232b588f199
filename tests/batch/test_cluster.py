"""The batch on a real local Ray cluster (2 CPUs, started once for the module and stopped after): the same rows
as the local engine over sample PDFs and generated documents, bad files as rows, and a resumed job that reads
nothing twice."""

from __future__ import annotations

import os
import shutil

import pytest

from qa_reader.batch.local import run_local
from qa_reader.batch.output import read_rows
from qa_reader.cli import main
from tests.batch.conftest import QUESTIONS, READABLE, UNREADABLE, folder_job, make_documents, ordered
from tests.conftest import shared_file

if os.environ.get("CI") == "true":  # CI installs the scale extra (make test): these must run there
    import ray
else:
    ray = pytest.importorskip("ray", reason="the Ray tests need the scale extra: pip install -e '.[test,scale]'")

pytestmark = [pytest.mark.ray, pytest.mark.slow]
SAMPLE_PDFS = ("nics-background-checks-2015-11.pdf", "liu-schwartz-smith-naacl2019.pdf")


@pytest.fixture(scope="module")
def cluster():
    from qa_reader.batch import cluster

    with cluster.local_cluster(cpus=2):
        assert ray.cluster_resources()["CPU"] == 2
        yield cluster
    assert not ray.is_initialized()


def test_the_pipeline_gives_the_rows_of_the_local_engine(cluster, tmp_path, capsys):
    documents = make_documents(tmp_path / "documents")
    for name in SAMPLE_PDFS:
        shutil.copy(shared_file("pdfs", name), documents / "sub" / name)
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{QUESTIONS[0]}\nWhat is the method for analyzing challenge datasets?\n", encoding="utf-8")
    for out, more in ((tmp_path / "local.jsonl", []), (tmp_path / "ray.parquet", ["--ray", "auto"])):
        arguments = [str(documents), "--questions", str(questions), "--out", str(out), "--top-k", "3", *more]
        assert main(["batch", *arguments]) == 0  # the bundled model
        first = capsys.readouterr().out.splitlines()[0]
        total = len(READABLE) + len(SAMPLE_PDFS)
        assert (
            first == f"{total + len(UNREADABLE)} documents: {total} read, {len(UNREADABLE)} failed, 0 already written"
        )
    local, on_ray = ordered(read_rows(tmp_path / "local.jsonl")), ordered(read_rows(tmp_path / "ray.parquet"))
    assert on_ray == local
    paper = [row for row in local if row["document"].endswith(SAMPLE_PDFS[1]) and row["answer"]]
    assert paper and all(0.0 < row["score"] <= 1.0 and 1 <= row["page"] <= 9 for row in paper)
    assert "Inoculation by Fine-Tuning" in {row["answer"] for row in paper}
    failed = {row["document"].rsplit("/", 1)[-1] for row in local if row["error"]}
    assert failed == set(UNREADABLE)


def test_a_resumed_job_reads_nothing_twice_whichever_way_it_ran(cluster, tmp_path, tiny_model_dir):
    documents = make_documents(tmp_path / "documents")
    out = tmp_path / "answers.parquet"
    job = folder_job(documents, out, tiny_model_dir)
    first = run_local(job)
    parts, rows = sorted(out.glob("part-*")), ordered(read_rows(out))
    again = cluster.run_on_ray(job)
    assert (again.answered, again.failed, again.skipped) == (0, 0, first.documents)
    assert sorted(out.glob("part-*")) == parts and ordered(read_rows(out)) == rows

    (documents / "sub" / "new.txt").write_text("Preparation and analysis come first.", encoding="utf-8")
    third = cluster.run_on_ray(folder_job(documents, out, tiny_model_dir))
    assert (third.answered, third.skipped, third.lost) == (1, first.documents, 0)
    assert {row["document"] for row in read_rows(out)} - {row["document"] for row in rows} == {
        str(documents / "sub" / "new.txt")
    }
