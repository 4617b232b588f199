"""A training run's settings are checked when it resumes; only its length may change."""

import dataclasses
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from qa_reader.training.loop import TrainConfig, Trainer  # noqa: E402


def test_a_run_resumes_with_a_new_length_and_records_it(tmp_path):
    Trainer(tmp_path, TrainConfig(epochs=0.8, learning_rate=5e-5))
    trainer = Trainer(tmp_path, TrainConfig(epochs=0.3, learning_rate=5e-5))
    assert trainer.resized_from == 0.8
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 0.3
    assert Trainer(tmp_path, TrainConfig(epochs=0.3, learning_rate=5e-5)).resized_from is None


def test_a_run_refuses_any_other_change_of_settings(tmp_path):
    Trainer(tmp_path, TrainConfig(epochs=0.8, learning_rate=5e-5))
    with pytest.raises(SystemExit, match="differs from this run's settings"):
        Trainer(tmp_path, TrainConfig(epochs=0.3, learning_rate=3e-5))
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved == dataclasses.asdict(TrainConfig(epochs=0.8, learning_rate=5e-5))
