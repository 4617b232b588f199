"""Several processes on one library at once (two windows, the command line beside the app): no "database is
locked", no lost document. Bounded: 6 processes x 10 operations on a new library."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa_reader.store import Library
from tests.conftest import LIFE_CYCLE

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 6
OPERATIONS = 10
HANG_GUARD_SECONDS = 120


@pytest.mark.slow
def test_six_processes_index_and_ask_on_one_new_library_without_errors(tmp_path, tiny_model_dir):
    (tmp_path / "shared.txt").write_text(LIFE_CYCLE, encoding="utf-8")
    for worker in range(WORKERS):
        # Each worker's own file is big enough that saving it holds the write lock for a while.
        own = "\n\n".join(f"Section {worker}.{n}. {LIFE_CYCLE}" for n in range(400))
        (tmp_path / f"own-{worker}.txt").write_text(own, encoding="utf-8")
    library = tmp_path / "library.sqlite3"
    command = [sys.executable, "-m", "tests.support.library_worker", str(library), str(tiny_model_dir), str(tmp_path)]
    processes = [
        subprocess.Popen(
            [*command, str(worker), str(OPERATIONS)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for worker in range(WORKERS)
    ]
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    try:
        while len(list(tmp_path.glob("ready-*"))) < WORKERS:
            assert all(p.poll() is None for p in processes), "a worker died before the start"
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
        (tmp_path / "go").touch()
        outputs = [p.communicate(timeout=max(1.0, deadline - time.monotonic())) for p in processes]
    finally:
        for process in processes:
            process.kill()
    failures = [err.decode() for p, (_, err) in zip(processes, outputs) if p.returncode != 0]
    assert failures == [], failures[0]
    for out, _ in outputs:
        results = json.loads(out)
        assert len(results) == OPERATIONS
        for kind, value in results:
            assert value == ("ready" if kind == "index" else "preparation, detection and analysis")
    opened = Library(library)
    paths = sorted(Path(record.path).name for record in opened.documents())
    assert paths == sorted(["shared.txt", *(f"own-{worker}.txt" for worker in range(WORKERS))])
    assert opened.history()  # a busy library may skip a history entry, never an answer
    opened.close()
