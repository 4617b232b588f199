"""The engine's runner and the indexer on the real engine: progress then the record, cancelling, a
question between two files, questions of two windows, errors as sentences, stopping."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qa_reader.engine import Engine
from qa_reader.gui.indexing import Indexer
from qa_reader.gui.runner import Lane, Request, RequestState
from qa_reader.gui.worker import EngineRunner
from tests.gui.conftest import hold_indexing

WAIT_MS = 10000


@pytest.fixture
def runner(qtbot, tiny_model_dir: Path, gui_home: Path):
    runner = EngineRunner(gui_home / "library.sqlite3", tiny_model_dir)
    yield runner
    runner.stop()


@pytest.fixture
def indexer(runner: EngineRunner) -> Indexer:
    return Indexer(runner)


def settle(qtbot, *requests: Request) -> None:
    qtbot.waitUntil(lambda: all(request.is_settled for request in requests), timeout=WAIT_MS)


def index(qtbot, indexer: Indexer, path: Path) -> int:
    request = indexer.index(str(path))
    settle(qtbot, request)
    assert request.state == RequestState.DONE, request.error
    return request.result.id


def test_indexing_reports_progress_then_the_record(qtbot, runner: EngineRunner, indexer: Indexer, life_cycle_file):
    stages = []
    indexer.progressed.connect(lambda path, stage, fraction: stages.append((stage, fraction)))
    counts = []
    indexer.countChanged.connect(counts.append)
    runner.start()
    with qtbot.waitSignal(indexer.indexed, timeout=WAIT_MS) as indexed:
        request = indexer.index(str(life_cycle_file))
    path, record = indexed.args
    assert path == str(life_cycle_file) and record is request.result
    assert record.status == "ready" and record.path == str(life_cycle_file)
    assert stages[0] == ("reading", 0.0) and stages[-1] == ("ready", 1.0)
    assert counts == [1, 0] and indexer.count == 0


def test_a_cancelled_file_never_reaches_the_library(qtbot, runner: EngineRunner, indexer, life_cycle_file) -> None:
    request = indexer.index(str(life_cycle_file))
    assert indexer.cancel_all() == 1
    with qtbot.waitSignal(indexer.cancelled, timeout=WAIT_MS) as cancelled:
        runner.start()
    assert cancelled.args == [str(life_cycle_file)] and request.state == RequestState.CANCELLED
    listing = runner.submit(Engine.library_entries)
    settle(qtbot, listing)
    assert listing.result == []


def test_cancelling_stops_a_file_being_read(qtbot, runner, indexer, life_cycle_pdf, monkeypatch) -> None:
    from qa_reader import ingest

    reading = threading.Event()
    load = ingest.load

    def slow_load(path, *args, progress=None, **kwargs):
        def page_read(done: int, total: int) -> None:
            reading.set()
            request.cancel_event.wait(WAIT_MS / 1000)  # the page takes until Esc
            progress(done, total)

        return load(path, *args, progress=page_read, **kwargs)

    monkeypatch.setattr(ingest, "load", slow_load)
    runner.start()
    request = indexer.index(str(life_cycle_pdf))
    assert reading.wait(WAIT_MS / 1000)
    assert request.state == RequestState.RUNNING
    indexer.cancel_all()
    settle(qtbot, request)
    assert request.state == RequestState.CANCELLED
    listing = runner.submit(Engine.library_entries)
    settle(qtbot, listing)
    assert listing.result == []


def test_a_question_runs_between_two_files(
    qtbot, runner, indexer, life_cycle_file, pets_file, life_cycle_pdf, monkeypatch
):
    # The first file's request waits until everything is queued, so the order below does not depend on how
    # fast this machine happens to be.
    queued = hold_indexing(monkeypatch, life_cycle_pdf)
    runner.start()
    document_id = index(qtbot, indexer, life_cycle_file)
    events = []
    indexer.indexed.connect(lambda path, record: events.append(Path(path).name))
    indexer.index(str(life_cycle_pdf))
    indexer.index(str(pets_file))
    runner.submit(
        lambda engine: engine.ask("What are the phases?", [document_id]), done=lambda _: events.append("answered")
    )
    queued.set()
    qtbot.waitUntil(lambda: len(events) == 3, timeout=WAIT_MS)
    # The question may even overtake the first file; it must never wait for the second.
    assert events.index("answered") < events.index(pets_file.name)
    assert events.index(life_cycle_pdf.name) < events.index(pets_file.name)


def test_a_question_is_answered_while_one_big_pdf_is_indexed(
    qtbot, runner, indexer, life_cycle_file, life_cycle_pdf, monkeypatch
):
    from qa_reader import ingest

    pages = 60
    reading = threading.Event()
    answered = threading.Event()
    load = ingest.load

    def slow_load(path, *args, progress=None, **kwargs):
        """A 60-page PDF whose every page takes a while, until the question has been answered."""
        document = load(path, *args, **kwargs)
        for page in range(1, pages + 1):
            progress(page, pages)
            reading.set()
            if not answered.is_set():
                answered.wait(0.1)
        return document

    runner.start()
    document_id = index(qtbot, indexer, life_cycle_file)
    monkeypatch.setattr(ingest, "load", slow_load)
    indexing = indexer.index(str(life_cycle_pdf))
    assert reading.wait(WAIT_MS / 1000)
    seen = []

    def on_answered(result) -> None:
        seen.append((result.answers[0].text, indexing.state))

    def ask(engine: Engine):
        result = engine.ask("What are the phases?", [document_id])
        answered.set()
        return result

    question = runner.submit(ask, done=on_answered)
    settle(qtbot, question, indexing)
    # Answered between two pages, over the documents already indexed; the PDF was still being read.
    assert seen == [("preparation, detection and analysis", RequestState.RUNNING)]
    assert indexing.state == RequestState.DONE and indexing.result.page_count == 2


def test_each_windows_lane_keeps_its_own_question(qtbot, runner: EngineRunner, indexer, life_cycle_file) -> None:
    runner.start()
    document_id = index(qtbot, indexer, life_cycle_file)
    main, lookup = Lane("main window"), Lane("lookup")
    answered = []
    requests = [
        runner.submit(
            lambda engine, n=n: engine.ask(f"What are the phases {n}?", [document_id]), done=answered.append, lane=main
        )
        for n in range(5)
    ]
    requests.append(
        runner.submit(lambda engine: engine.ask("What are the phases?", None), done=answered.append, lane=lookup)
    )
    settle(qtbot, *requests)
    assert sorted(answer_set.question for answer_set in answered) == ["What are the phases 4?", "What are the phases?"]
    assert answered[0].answers[0].text == "preparation, detection and analysis"


def test_a_missing_file_fails_with_a_sentence(qtbot, runner: EngineRunner, indexer, tmp_path: Path) -> None:
    runner.start()
    with qtbot.waitSignal(indexer.failed, timeout=WAIT_MS) as failed:
        indexer.index(str(tmp_path / "nowhere.pdf"))
    assert failed.args[0] == str(tmp_path / "nowhere.pdf")
    assert "does not exist" in failed.args[1] and "Traceback" not in failed.args[1]


def test_a_missing_model_is_reported_and_asking_says_so(qtbot, gui_home: Path, tmp_path: Path) -> None:
    runner = EngineRunner(gui_home / "library.sqlite3", tmp_path / "no-model")
    runner.start()
    try:
        loading = runner.submit(Engine.load_model)
        asking = runner.submit(lambda engine: engine.ask("Anything?"))
        settle(qtbot, loading, asking)
        assert loading.state == RequestState.FAILED and "does not exist" in loading.error
        assert asking.state == RequestState.FAILED and asking.error
    finally:
        runner.stop()


def test_documents_open_on_their_own_thread(qtbot, runner: EngineRunner, indexer, life_cycle_file) -> None:
    runner.start()
    document_id = index(qtbot, indexer, life_cycle_file)
    # The engine's thread is busy: opening the document must not wait for it.
    gate = threading.Event()
    busy = runner.submit(lambda engine: gate.wait(WAIT_MS / 1000))
    try:
        qtbot.waitUntil(lambda: busy.state == RequestState.RUNNING, timeout=WAIT_MS)
        opened = runner.open_document(document_id, done=lambda content: None)
        settle(qtbot, opened)
        assert busy.state == RequestState.RUNNING
        assert opened.result.record.id == document_id and opened.result.text.startswith("The incident")
    finally:
        gate.set()
    settle(qtbot, busy)


def test_stop_closes_the_engine_on_its_thread(qtbot, runner: EngineRunner) -> None:
    runner.start()
    settle(qtbot, runner.submit(Engine.library_entries))
    assert runner.stop() is True
    assert not runner.running
    assert runner.stop() is True  # twice is harmless
