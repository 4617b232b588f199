"""`qa-reader --self-test`: one line per check, exit 0 only when every check passes."""

import json
import shutil

import pytest

from qa_reader import config
from qa_reader.cli import main
from tests.conftest import LIFE_CYCLE


@pytest.fixture
def resources(tmp_path, monkeypatch):
    """A resources folder whose sample the tiny model answers ('preparation ... analysis')."""
    folder = tmp_path / "resources"
    (folder / "sample").mkdir(parents=True)
    (folder / "sample" / "notes.txt").write_text(LIFE_CYCLE, encoding="utf-8")
    checks = {"document": "notes.txt", "questions": [{"question": "What are the phases?", "expect": "preparation"}]}
    (folder / "sample" / "selftest.json").write_text(json.dumps(checks), encoding="utf-8")
    monkeypatch.setattr(config, "resources_dir", lambda: folder)
    monkeypatch.setenv("QA_READER_HOME", str(tmp_path / "home"))
    return folder


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def self_test(model, capsys) -> tuple[int, list[str]]:
    code = main(["--model", str(model), "--self-test"])
    return code, capsys.readouterr().out.splitlines()


def test_every_check_passes_on_a_good_install(resources, tiny_model_dir, capsys):
    code, lines = self_test(tiny_model_dir, capsys)
    assert code == 0
    assert lines[-1] == "all checks passed"
    checks = lines[1:-1]
    assert checks and all(line.startswith("ok    ") for line in checks)
    assert any("sha256" in line for line in checks)
    assert any("outside the install folder" in line for line in checks)
    assert any("'What are the phases?' -> " in line for line in checks)


def test_a_damaged_model_fails(resources, model_copy, capsys):
    with open(model_copy / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    code, lines = self_test(model_copy, capsys)
    assert code == 1
    assert lines[-1].startswith("FAIL  model:") and "damaged" in lines[-1]


def test_a_model_without_a_recorded_checksum_fails(resources, model_copy, capsys):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    del manifest["sha256"]
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    code, lines = self_test(model_copy, capsys)
    assert code == 1
    assert "records no sha256" in lines[-1]


def test_a_wrong_answer_fails_and_says_what_was_found(resources, tiny_model_dir, capsys):
    checks = json.loads((resources / "sample" / "selftest.json").read_text())
    checks["questions"][0]["expect"] = "containment"
    (resources / "sample" / "selftest.json").write_text(json.dumps(checks))
    code, lines = self_test(tiny_model_dir, capsys)
    assert code == 1
    assert lines[-1] == "1 check(s) failed"
    assert any(line.startswith("FAIL  'What are the phases?' -> 'preparation") for line in lines)


def test_user_data_inside_the_install_folder_fails(resources, tiny_model_dir, capsys, monkeypatch):
    monkeypatch.setenv("QA_READER_HOME", str(config.install_root() / "library"))
    code, lines = self_test(tiny_model_dir, capsys)
    assert code == 1
    assert any(line.startswith("FAIL") and "INSIDE the install folder" in line for line in lines)
