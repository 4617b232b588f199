"""The command line on hostile inputs and environments: each gives one clean line and exit 1, never a
hang or a traceback. Runs the real command in a subprocess where a hang must be caught by a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HANG_GUARD_SECONDS = 60


def run_cli(*argv: str, home: Path, timeout: float = HANG_GUARD_SECONDS, **kwargs) -> subprocess.CompletedProcess:
    """`python -m qa_reader ARGV...` with the library in `home`; fails the test when it outlives `timeout`."""
    environment = {**os.environ, "QA_READER_HOME": str(home)}
    try:
        return subprocess.run(
            [sys.executable, "-m", "qa_reader", *argv],
            env=environment,
            capture_output=True,
            timeout=timeout,
            **kwargs,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"qa-reader {' '.join(argv)} hung (no exit within {timeout} s)")


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.txt"
    os.mkfifo(path)
    return path


def _link_to_dev_zero(folder: Path) -> Path:
    path = folder / "zeros.txt"
    path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize("make_special", [_fifo, _link_to_dev_zero], ids=["fifo", "symlink-to-dev-zero"])
def test_index_of_a_special_file_is_refused_without_reading_it(tmp_path, tiny_model_dir, make_special):
    special = make_special(tmp_path)
    done = run_cli("--model", str(tiny_model_dir), "index", str(special), home=tmp_path / "home")
    assert done.returncode == 1
    [line] = done.stderr.decode().strip().splitlines()
    assert line == f"qa-reader: {special.name} is not a regular file, so it cannot be read as a document."
