"""Shared fixtures: a tiny torch-free QA model, an engine on an in-memory library, sample documents."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

from qa_reader.engine import Engine
from qa_reader.types import Document, Page
from tests.support.tiny_model import build_model_folder

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The project's shared data sits beside the clone (X/main and X/shared, as CI lays them out), unless
# QA_READER_SHARED_DATA names the data folder elsewhere.
SHARED_DATA = Path(
    os.environ.get("QA_READER_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
IN_CI = os.environ.get("CI") == "true"

LIFE_CYCLE = (
    "The incident response process has several phases. The initial phase involves establishing and training "
    "an incident response team, and acquiring the necessary tools and resources.\n\n"
    "The incident response life cycle has four phases: preparation, detection and analysis, containment "
    "eradication and recovery, and post-incident activity. Each phase is described below."
)
VOCABULARY = LIFE_CYCLE.replace(",", " ").replace(".", " ").replace(":", " ").split()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model that answers spans from 'preparation' to 'analysis' (and nothing else, confidently)."""
    return build_model_folder(
        tmp_path_factory.mktemp("tiny-model"),
        VOCABULARY + ["cats", "dogs", "weather", "sunny"],
        answer_starts={"preparation": 9.0},
        answer_ends={"analysis": 9.0},
    )


def adaptive_model_dir(folder: Path, length_budgets: dict[str, list[float]]) -> Path:
    """A length-adaptive stand-in offering `length_budgets` that answers 'preparation' to 'analysis'. It scales
    its start logits by the first layer's keep ratio, so a small one weakens the answer (see `build_graph`)."""
    return build_model_folder(
        folder,
        VOCABULARY,
        answer_starts={"preparation": 9.0},
        answer_ends={"analysis": 9.0},
        length_budgets=length_budgets,
    )


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A text file holding the life-cycle paragraph."""
    path = tmp_path / "notes.txt"
    path.write_text(LIFE_CYCLE, encoding="utf-8")
    return path


@pytest.fixture
def engine(tiny_model_dir: Path):
    engine = Engine(None, tiny_model_dir)
    yield engine
    engine.close()


def text_document(text: str, path: str = "/virtual/life-cycle.txt", sha256: str = "sha-life-cycle") -> Document:
    return Document(path, Path(path).stem, "txt", sha256, text, (Page(0, 0, len(text)),))


def paged_document(page_texts: list[str], path: str = "/virtual/paged.pdf") -> Document:
    """A PDF-like document: one page per text, a blank line between pages, a distinct box per character."""
    text = "\n\n".join(page_texts)
    pages, start = [], 0
    for index, page_text in enumerate(page_texts):
        pages.append(Page(index, start, start + len(page_text), 600, 800))
        start += len(page_text) + 2
    boxes = np.arange(len(text) * 4, dtype=np.float32).reshape(-1, 4)
    return Document(path, Path(path).stem, "pdf", "sha-" + path, text, tuple(pages), char_boxes=boxes)


def unavailable(what: str, remedy: str) -> NoReturn:
    """Skip the test for want of `what`; in CI (CI=true), where everything must be there, fail it instead."""
    if IN_CI:
        pytest.fail(f"{what}: CI must run this test ({remedy})", pytrace=False)
    pytest.skip(f"{what} ({remedy})")


def shared_file(*parts: str) -> Path:
    """A file or folder from the shared data; skips the test when it is not there (fails it in CI)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        unavailable(
            f"the shared data {path} is not there",
            "clone the repo beside the shared/ folder, or set QA_READER_SHARED_DATA to its data/ folder",
        )
    return path
