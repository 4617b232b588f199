"""A folder of documents for batches: readable ones (text, Markdown, a generated PDF, one in a subfolder) and
the kinds that must become rows with a reason (a corrupt PDF, an empty file, a scanned PDF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_reader.batch.inputs import expand_documents
from qa_reader.batch.job import Job
from tests.conftest import LIFE_CYCLE
from tests.ingest.builders import paragraph_lines, write_pdf

QUESTIONS = ["What are the phases of the incident response life cycle?", "Is the weather sunny?"]
READABLE = ("life-cycle.txt", "notes.md", "report.pdf", "sub/pets.txt")
UNREADABLE = {
    "corrupt.pdf": "damaged",
    "empty.txt": "empty",
    "scanned.pdf": "scanned",
}


def make_documents(folder: Path) -> Path:
    """Fill `folder` with READABLE and UNREADABLE files (and a file of no supported type, which a folder
    search leaves out); return it."""
    (folder / "sub").mkdir(parents=True)
    (folder / "life-cycle.txt").write_text(LIFE_CYCLE, encoding="utf-8")
    (folder / "notes.md").write_text("# Notes\n\n" + LIFE_CYCLE.replace("four phases", "4 phases"), encoding="utf-8")
    write_pdf(folder / "report.pdf", [paragraph_lines(72, 72, LIFE_CYCLE.split(". "))])
    (folder / "sub" / "pets.txt").write_text("Cats and dogs sleep when the weather is sunny.", encoding="utf-8")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    (folder / "empty.txt").write_bytes(b"")
    write_pdf(folder / "scanned.pdf", [None])
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    return make_documents(tmp_path / "documents")


@pytest.fixture
def questions_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    return path


def ordered(rows: list[dict]) -> list[dict]:
    """Rows in a fixed order (parts come in the order documents finish)."""
    return sorted(rows, key=lambda row: (row["document"], row["question"] or "", row["rank"] or 0))


def folder_job(folder: Path, out: Path, model_dir: Path, **options) -> Job:
    """A job asking QUESTIONS of every document in `folder`."""
    return Job(tuple(expand_documents([folder])), tuple(QUESTIONS), out, model_dir=model_dir, **options)
