"""A training run's settings are checked when it resumes; only its length may change."""

import dataclasses
import json
import math

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


def test_shared_normalisation_compares_a_questions_windows_with_each_other():
    import torch

    from qa_reader.training.loop import shared_norm_loss

    # Two windows of one question: the answer starts and ends at token 2 of the first; the second has none.
    context = torch.tensor([[False, True, True, True], [False, True, True, True]])
    starts = ends = torch.tensor([2, 0])
    groups = torch.tensor([0, 0])

    def loss(second_window_best: float) -> float:
        logits = torch.tensor([[5.0, 0.0, 3.0, 0.0], [9.0, 0.0, second_window_best, 0.0]])
        return shared_norm_loss(logits, logits, starts, ends, context, groups).item()

    # Only the context tokens compete ([CLS] logits 5 and 9 take no part): -log(e^3 / (e^3 + 2 + e^x + 2)).
    assert loss(0.0) == pytest.approx(-math.log(math.exp(3) / (math.exp(3) + 5)), rel=1e-5)
    assert loss(6.0) > loss(3.0) > loss(0.0)  # a strong span in the other passage costs the answer
    # Apart, each window is its own group: the second has no answer and adds nothing.
    logits = torch.tensor([[5.0, 0.0, 3.0, 0.0], [9.0, 0.0, 6.0, 0.0]])
    apart = shared_norm_loss(logits, logits, starts, ends, context, torch.tensor([0, 1])).item()
    assert apart == pytest.approx(-math.log(math.exp(3) / (math.exp(3) + 2)), rel=1e-5)
    # A group with no answer anywhere (an unanswerable question) contributes nothing, with a gradient of zero.
    logits = torch.zeros(2, 4, requires_grad=True)
    none = shared_norm_loss(logits, logits, torch.tensor([0, 0]), torch.tensor([0, 0]), context, groups)
    none.backward()
    assert none.item() == 0.0 and torch.count_nonzero(logits.grad) == 0


def test_lengthdrop_and_shared_normalisation_are_not_combined(tmp_path):
    with pytest.raises(SystemExit, match="not combined"):
        Trainer(tmp_path, TrainConfig(length_drop=True, shared_norm=1.0))
