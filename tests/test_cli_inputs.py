"""The command line on hostile inputs and environments: each gives one clean line and exit 1, never a
hang or a traceback. Runs the real command in a subprocess where a hang must be caught by a timeout."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qa_reader.cli import main
from tests.conftest import LIFE_CYCLE

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


@pytest.fixture
def cli(tiny_model_dir, tmp_path, capsys, monkeypatch):
    """The command line in this process with the tiny model: returns (exit code, stdout, stderr lines)."""
    monkeypatch.setenv("QA_READER_HOME", str(tmp_path / "home"))

    def invoke(*argv: str) -> tuple[int, str, list[str]]:
        code = main(["--model", str(tiny_model_dir), *argv])
        out, err = capsys.readouterr()
        return code, out, err.strip().splitlines()

    return invoke


QUESTION = "What are the phases?"


def test_a_file_name_that_is_not_utf8_is_one_line(cli, tmp_path):
    path = tmp_path / os.fsdecode(b"caf\xe9 notes.txt")  # a Latin-1 name on a UTF-8 system
    path.write_text(LIFE_CYCLE, encoding="utf-8")
    code, _, err = cli("ask", str(path), "-q", QUESTION)
    assert code == 1
    [line] = err
    assert "name is not UTF-8" in line and "caf\ufffd notes.txt" in line


def test_a_question_with_bytes_that_are_not_utf8_is_one_line(cli, notes):
    question = os.fsdecode(b"What are the \xff phases?")  # how Python passes such an argument on
    code, _, err = cli("ask", str(notes), "-q", question)
    assert code == 1
    assert err == ["qa-reader: The question holds bytes that are not UTF-8 text: type it again in plain text."]


def test_a_symlink_loop_is_one_line(cli, tmp_path):
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    code, _, err = cli("index", str(tmp_path / "a.txt"))
    assert code == 1
    [line] = err
    assert "leads back to itself" in line


def test_a_damaged_library_is_one_line_on_ask(cli, notes, tmp_path):
    assert cli("index", str(notes))[0] == 0
    library = tmp_path / "home" / "library.sqlite3"
    with sqlite3.connect(library) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = 4096
    with library.open("r+b") as handle:
        # Pages 1-2 (the schema and the documents table) stay readable, so the library opens; the rest is junk.
        for page in range(2, library.stat().st_size // page_size):
            handle.seek(page * page_size)
            handle.write(b"\xa5" * page_size)
    code, _, err = cli("ask", str(notes), "-q", QUESTION)
    assert code == 1
    [line] = err
    assert f"The library {library} is damaged (database disk image is malformed)" in line


def test_qa_reader_home_pointing_at_a_file_is_one_line(cli, notes, tmp_path, monkeypatch):
    home = tmp_path / "home-is-a-file"
    home.write_text("not a folder")
    monkeypatch.setenv("QA_READER_HOME", str(home))
    code, _, err = cli("index", str(notes))
    assert code == 1
    assert err == [
        f"qa-reader: The library folder {home} cannot be made: {home} is a file, not a folder "
        "(check QA_READER_HOME or --library)."
    ]


def test_a_manifest_value_of_the_wrong_type_names_the_file_and_key(cli, notes, tiny_model_dir, tmp_path):
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["document_no_answer_threshold"] = "high"
    (model / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = cli("--model", str(model), "ask", str(notes), "-q", QUESTION)
    assert code == 1
    assert err == [
        f"qa-reader: The model manifest {model / 'manifest.json'} is damaged: "
        "\"document_no_answer_threshold\" is 'high', not a number."
    ]


def _without_root_powers() -> None:
    """In the child, before exec: drop the capabilities that let root write where permissions say no."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.mark.parametrize("existing", [True, False], ids=["existing-library", "new-library"])
def test_a_read_only_library_folder_is_one_line(tmp_path, tiny_model_dir, notes, existing):
    home = tmp_path / "home"
    home.mkdir()
    if existing:
        assert run_cli("--model", str(tiny_model_dir), "index", str(notes), home=home).returncode == 0
        for path in home.iterdir():
            path.chmod(0o444)
    home.chmod(0o555)
    # As root (CI containers, this project's machine) permissions bind only without these capabilities.
    restrict = _without_root_powers if os.geteuid() == 0 else None
    try:
        done = run_cli("--model", str(tiny_model_dir), "index", str(notes), home=home, preexec_fn=restrict)
    except subprocess.SubprocessError as error:
        pytest.skip(f"cannot drop root's file capabilities here ({error})")
    finally:
        home.chmod(0o755)
    assert done.returncode == 1, done.stdout
    [line] = done.stderr.decode().strip().splitlines()
    assert "read-only" in line and str(home) in line
