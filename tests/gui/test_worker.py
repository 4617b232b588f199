"""The engine worker: indexing with progress, cancelling, merged questions, errors as sentences, stopping."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_reader.gui.worker import LOOKUP_LANE, MAIN_LANE, AskRequest, EngineClient, _AskMailbox


@pytest.fixture
def client(qtbot, tiny_model_dir: Path, gui_home: Path):
    client = EngineClient(gui_home / "library.sqlite3", tiny_model_dir)
    yield client
    client.stop()


def test_mailbox_keeps_only_the_latest_question() -> None:
    mailbox = _AskMailbox()
    for request_id in (1, 2, 3):
        mailbox.put(AskRequest(request_id, f"question {request_id}", None))
    assert mailbox.take().request_id == 3
    assert mailbox.take() is None


def test_mailbox_keeps_the_latest_question_of_each_lane() -> None:
    mailbox = _AskMailbox()
    mailbox.put(AskRequest(1, "main", None, lane=MAIN_LANE))
    mailbox.put(AskRequest(2, "lookup", None, lane=LOOKUP_LANE))
    mailbox.put(AskRequest(3, "main again", None, lane=MAIN_LANE))
    assert [mailbox.take().request_id, mailbox.take().request_id] == [2, 3]
    assert mailbox.take() is None


def test_a_question_in_another_lane_does_not_drop_the_first(qtbot, client: EngineClient, life_cycle_file: Path) -> None:
    client.start()
    with qtbot.waitSignal(client.indexed, timeout=10000) as indexed:
        client.index(life_cycle_file)
    document_id = indexed.args[1].id
    results = []
    client.answered.connect(results.append)
    main = client.ask("What are the phases?", [document_id])
    lookup = client.ask("What are the phases of the life cycle?", None, lane=LOOKUP_LANE)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=10000)
    assert sorted(r.request.request_id for r in results) == [main, lookup]


def test_indexing_reports_progress_then_the_record(qtbot, client: EngineClient, life_cycle_file: Path) -> None:
    stages = []
    client.progressed.connect(lambda job, path, stage, fraction: stages.append((stage, fraction)))
    with qtbot.waitSignal(client.listed, timeout=5000):
        client.start()
    with qtbot.waitSignal(client.indexed, timeout=10000) as indexed:
        job_id = client.index(life_cycle_file)
    assert indexed.args[0] == job_id
    record = indexed.args[1]
    assert record.status == "ready" and record.path == str(life_cycle_file)
    assert stages[0] == ("reading", 0.0) and stages[-1] == ("ready", 1.0)
    assert client.indexing_jobs == 0


def test_a_cancelled_job_never_reaches_the_library(qtbot, client: EngineClient, life_cycle_file: Path) -> None:
    job_id = client.index(life_cycle_file)
    assert client.cancel_indexing() == 1
    with qtbot.waitSignal(client.cancelled, timeout=5000) as cancelled:
        client.start()
    assert cancelled.args == [job_id, str(life_cycle_file)]
    with qtbot.waitSignal(client.listed, timeout=5000) as listed:
        client.refresh()
    assert listed.args[0] == []


def test_only_the_latest_question_is_answered(qtbot, client: EngineClient, life_cycle_file: Path) -> None:
    client.start()
    with qtbot.waitSignal(client.indexed, timeout=10000) as indexed:
        client.index(life_cycle_file)
    document_id = indexed.args[1].id
    results = []
    client.answered.connect(results.append)
    request_ids = [client.ask(f"What are the phases {n}?", [document_id]) for n in range(5)]
    qtbot.waitUntil(lambda: bool(results), timeout=10000)
    qtbot.wait(100)
    assert [r.request.request_id for r in results] == [request_ids[-1]]
    assert results[0].answers.answers[0].text == "preparation, detection and analysis"


def test_forgotten_questions_are_dropped(qtbot, client: EngineClient, life_cycle_file: Path) -> None:
    client.start()
    with qtbot.waitSignal(client.indexed, timeout=10000):
        client.index(life_cycle_file)
    results = []
    client.answered.connect(results.append)
    client.ask("What are the phases?")
    client.forget_asks()
    with qtbot.waitSignal(client.listed, timeout=5000):
        client.refresh()  # queued after the question: once listed arrives, the answer would have too
    assert results == []


def test_a_missing_file_fails_with_a_sentence(qtbot, client: EngineClient, tmp_path: Path) -> None:
    client.start()
    with qtbot.waitSignal(client.failed, timeout=5000) as failed:
        job_id = client.index(tmp_path / "nowhere.pdf")
    assert failed.args[0] == job_id and failed.args[1] == "index"
    assert "does not exist" in failed.args[2]
    assert "Traceback" not in failed.args[2]


def test_a_missing_model_is_reported_and_asking_says_so(qtbot, gui_home: Path, tmp_path: Path) -> None:
    client = EngineClient(gui_home / "library.sqlite3", tmp_path / "no-model")
    try:
        with qtbot.waitSignal(client.failed, timeout=5000) as failed:
            client.start()
        assert failed.args[1] == "model"
        assert "does not exist" in failed.args[2]
        with qtbot.waitSignal(client.failed, timeout=5000) as asked:
            client.ask("Anything?")
        assert asked.args[1] == "ask"
    finally:
        client.stop()


def test_stop_closes_the_engine_on_its_thread(qtbot, client: EngineClient) -> None:
    with qtbot.waitSignal(client.listed, timeout=5000):
        client.start()
    assert client.stop() is True
    assert not client._thread.isRunning()
    assert client.stop() is True  # twice is harmless


def test_a_question_runs_between_two_indexing_jobs(
    qtbot, client: EngineClient, life_cycle_file: Path, pets_file: Path, life_cycle_pdf: Path, monkeypatch
) -> None:
    import threading

    from qa_reader.engine import Engine

    # The first file's job waits until everything is queued, so the order below does not depend on how
    # fast this machine happens to be.
    queued = threading.Event()
    index = Engine.index

    def gated_index(self, path, *args, **kwargs):
        if Path(path) == life_cycle_pdf:
            queued.wait(10)
        return index(self, path, *args, **kwargs)

    monkeypatch.setattr(Engine, "index", gated_index)
    client.start()
    with qtbot.waitSignal(client.indexed, timeout=10000) as indexed:
        client.index(life_cycle_file)
    document_id = indexed.args[1].id
    events = []
    client.indexed.connect(lambda job, record: events.append(("indexed", job)))
    client.answered.connect(lambda result: events.append(("answered", result.request.request_id)))
    first = client.index(life_cycle_pdf)
    second = client.index(pets_file)
    request = client.ask("What are the phases?", [document_id])
    queued.set()
    qtbot.waitUntil(lambda: len(events) == 3, timeout=10000)
    # The question may even overtake the first file; it must never wait for the second.
    assert events.index(("answered", request)) < events.index(("indexed", second))
    assert events.index(("indexed", first)) < events.index(("indexed", second))
