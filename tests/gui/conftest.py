"""GUI fixtures: an isolated data folder, files to open, and a main window on a real engine worker
with the tiny model. Everything runs on the offscreen platform."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pymupdf
import pytest

from tests.conftest import LIFE_CYCLE

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The offscreen platform says so whenever a window asks for what only a real desktop can do.
OFFSCREEN_NOISE = (r"This plugin does not support",)

SECOND_ANSWER = "Preparation matters more than analysis."
PETS = "Cats and dogs like sunny weather.\n\nDogs dislike the weather when it is not sunny."
FILLER = "This page introduces the guide and says nothing about the process itself. " * 6


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def gui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (library, QSettings) so that the user's own is never touched."""
    home = tmp_path / "home"
    monkeypatch.setenv("QA_READER_HOME", str(home))
    monkeypatch.delenv("QA_READER_MODEL", raising=False)
    return home


@pytest.fixture
def life_cycle_file(tmp_path: Path) -> Path:
    path = tmp_path / "docs" / "life-cycle.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LIFE_CYCLE + "\n\n" + SECOND_ANSWER + "\n", encoding="utf-8")
    return path


@pytest.fixture
def pets_file(tmp_path: Path) -> Path:
    path = tmp_path / "docs" / "pets.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PETS, encoding="utf-8")
    return path


@pytest.fixture
def life_cycle_pdf(tmp_path: Path) -> Path:
    """Two pages: filler on the first, the life-cycle paragraph on the second."""
    path = tmp_path / "docs" / "handling.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = pymupdf.open()
    for text in (FILLER, LIFE_CYCLE.replace("\n\n", "\n")):
        page = document.new_page(width=612, height=792)
        page.insert_textbox(pymupdf.Rect(72, 300, 540, 720), text, fontsize=12, fontname="helv")
    document.save(path)
    document.close()
    return path


@pytest.fixture
def make_window(qtbot, tiny_model_dir: Path, gui_home: Path) -> Iterator[Callable]:
    """Builds a started MainWindow; closes it (stopping its worker) at the end of the test."""
    from qa_reader.gui.main_window import MainWindow
    from qa_reader.gui.preferences import Preferences
    from qa_reader.gui.worker import EngineRunner

    windows = []

    def make(model_dir: Path | None = tiny_model_dir, sample: Path | None = None, wait_model: bool = True):
        runner = EngineRunner(gui_home / "library.sqlite3", model_dir)
        window = MainWindow(runner, Preferences(), sample=sample)
        qtbot.addWidget(window)
        windows.append(window)
        window.resize(1200, 800)
        window.show()
        runner.start()
        qtbot.waitUntil(lambda: window.first_listing.is_settled, timeout=5000)
        if wait_model and model_dir == tiny_model_dir:
            qtbot.waitUntil(lambda: window.model_label.text().startswith("Model:"), timeout=5000)
        return window

    yield make
    for window in windows:
        window.shutdown()


@pytest.fixture
def window(make_window):
    return make_window()


def hold_indexing(monkeypatch: pytest.MonkeyPatch, path: Path) -> threading.Event:
    """Make the engine wait before it indexes `path` until the returned event is set (10 s at most)."""
    from qa_reader.engine import Engine

    release = threading.Event()
    index = Engine.index

    def held_index(self, file, *args, **kwargs):
        if Path(file) == path:
            release.wait(10)
        return index(self, file, *args, **kwargs)

    monkeypatch.setattr(Engine, "index", held_index)
    return release


def open_and_wait(qtbot, window, path: Path) -> int:
    """Open a file in the window and wait until it is indexed and shown; returns its document id."""
    window.open_paths([path])
    qtbot.waitUntil(
        lambda: window.document.content is not None and window.document.content.record.path == str(path), timeout=10000
    )
    return window.document.document_id


def ask_and_wait(qtbot, window, question: str):
    """Ask as if typed and entered; wait for the answers panel to show the result."""
    request = window.ask(question)
    qtbot.waitUntil(lambda: request.is_settled, timeout=10000)
    assert request.state == "done", request.error
    assert window.answers.result.question == question
    return window.answers.result
