"""The six real PDFs in the shared data folder: they load, fast, in reading order, without running headers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from qa_reader.ingest import load
from qa_reader.types import Document
from tests.conftest import shared_file

pytestmark = pytest.mark.slow

NAMES = [
    "federal-register-2020-17221.pdf",
    "nics-background-checks-2015-11.pdf",
    "NIST.CSWP.04162018.pdf",
    "NIST.SP.800-61r2.pdf",
    "NIST.SP.800-82r2.pdf",
    "liu-schwartz-smith-naacl2019.pdf",
]


@pytest.fixture
def pdfs() -> Path:
    """The shared PDFs folder (these tests skip without it, and fail in CI)."""
    return shared_file("pdfs")


def in_order(document: Document, *snippets: str) -> bool:
    positions = [document.text.index(snippet) for snippet in snippets]
    return positions == sorted(positions)


@pytest.mark.parametrize("name", NAMES)
def test_real_pdf_loads_with_consistent_pages_and_boxes(pdfs: Path, name: str) -> None:
    document = load(pdfs / name)

    assert document.format == "pdf" and document.scanned_pages == () and document.warnings == ()
    assert document.pages[0].char_start == 0 and document.pages[-1].char_end == len(document.text)
    assert all(
        page.char_start == previous.char_end for previous, page in zip(document.pages, document.pages[1:], strict=False)
    )
    assert document.char_boxes.shape == (len(document.text), 4)
    boxed = ~np.isnan(document.char_boxes[:, 0])
    assert boxed.mean() > 0.7  # the wide table has many short cells, each joined by an inserted space
    assert "\n\n\n" not in document.text and "  " not in document.text


def test_the_long_nist_guide_loads_every_page(pdfs: Path) -> None:
    # Its speed is measured by `qa-reader bench`, not here: timings in unit tests flake on shared machines.
    document = load(pdfs / "NIST.SP.800-82r2.pdf")

    assert len(document.pages) == 247
    assert document.pages[-1].char_end == len(document.text)


def test_two_column_paper_reads_column_by_column(pdfs: Path) -> None:
    document = load(pdfs / "liu-schwartz-smith-naacl2019.pdf")

    assert document.text.startswith("Inoculation by Fine-Tuning: A Method for Analyzing Challenge Datasets\n\n")
    assert in_order(
        document,
        "Abstract",
        "Several datasets have recently been constructed",
        "1 Introduction",
        "NLP research progresses through the construction",
        "What should we conclude when a system fails",
    )


def test_three_column_register_reads_column_by_column_without_stamps(pdfs: Path) -> None:
    document = load(pdfs / "federal-register-2020-17221.pdf")

    page = document.text[document.pages[1].char_start : document.pages[1].char_end]
    assert in_order(
        Document(path="", title="", format="pdf", sha256="", text=page, pages=()),
        "Hatta International Airport",
        "altitude disagree alert",
        "and the Ethiopian Civil Aviation",
    )
    assert "jbell on DSK" not in document.text
    assert "Federal Register / Vol. 85" not in document.text
    assert "VerDate" not in document.text


def test_incident_guide_has_no_running_headers_or_page_numbers(pdfs: Path) -> None:
    document = load(pdfs / "NIST.SP.800-61r2.pdf")

    assert "COMPUTER SECURITY INCIDENT HANDLING GUIDE" not in document.text
    for page in document.pages[5:]:
        paragraphs = document.text[page.char_start : page.char_end].split("\n\n")
        assert not any(re.fullmatch(r"\d{1,3}|[ivxl]{1,6}", paragraph) for paragraph in paragraphs)
