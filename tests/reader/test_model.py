"""The model folder: missing, damaged or corrupt files are user errors naming the file."""

import json
import shutil

import pytest

from qa_reader.engine import Engine
from qa_reader.errors import UserError
from qa_reader.reader.model import ModelFolder
from tests.conftest import text_document


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def test_a_good_folder_opens_and_its_checksum_verifies(model_copy):
    model = ModelFolder.open(model_copy)
    assert model.sha256 and model.no_answer_threshold == pytest.approx(0.05)


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json", "manifest.json"])
def test_missing_file_is_named(model_copy, name):
    (model_copy / name).unlink()
    with pytest.raises(UserError, match=name):
        ModelFolder.open(model_copy)


def test_missing_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        ModelFolder.open(tmp_path / "nowhere")


def test_damaged_model_file_fails_the_checksum(model_copy):
    with open(model_copy / "model.onnx", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(UserError, match="damaged"):
        ModelFolder.open(model_copy)


def test_corrupt_graph_without_checksum_is_a_user_error(model_copy):
    (model_copy / "model.onnx").write_bytes(b"not an onnx graph at all")
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["sha256"] = ""
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    engine = Engine(None, model_copy)
    engine.add_document(text_document("some text here"))
    with pytest.raises(UserError, match="corrupt"):
        engine.ask("what?")


def test_manifest_that_is_not_json(model_copy):
    (model_copy / "manifest.json").write_text("{broken")
    with pytest.raises(UserError, match="not valid JSON"):
        ModelFolder.open(model_copy)


def test_the_document_threshold_is_the_manifests_or_else_the_paragraph_one(model_copy):
    assert ModelFolder.open(model_copy).document_threshold == pytest.approx(0.05)
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["document_no_answer_threshold"] = 0.12
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    assert ModelFolder.open(model_copy).document_threshold == pytest.approx(0.12)
    engine = Engine(None, model_copy)
    assert engine.threshold == pytest.approx(0.12)
    engine.close()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("document_no_answer_threshold", "high"),
        ("no_answer_threshold", None),
        ("max_sequence_length", 38.4),
        ("sha256", 12),
    ],
)
def test_a_manifest_value_of_the_wrong_type_names_the_file_and_the_key(model_copy, key, value):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest[key] = value
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match=rf"manifest\.json is damaged: \"{key}\" is"):
        ModelFolder.open(model_copy)
