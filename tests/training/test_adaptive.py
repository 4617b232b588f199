"""Length-adaptive reading (Drop-and-Restore) and LengthDrop training, on a small random network."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from qa_reader.training.adaptive import (  # noqa: E402
    LengthAdaptiveReader,
    keep_count,
    kept_positions,
    sandwich_backward,
    shortest_ratios,
    soft_cross_entropy,
)

LAYERS = 3


def small_network(seed: int = 0):
    torch.manual_seed(seed)
    config = transformers.DistilBertConfig(
        vocab_size=200,
        max_position_embeddings=64,
        n_layers=LAYERS,
        n_heads=2,
        dim=16,
        hidden_dim=32,
        dropout=0.0,
        attention_dropout=0.0,
        qa_dropout=0.0,
        attn_implementation="eager",
    )
    return transformers.DistilBertForQuestionAnswering(config).eval()


def batch(rows: int = 3, length: int = 40, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 200, (rows, length), generator=generator)
    mask = torch.ones_like(ids)
    for row, real in zip(range(1, rows), (25, 9)):
        mask[row, real:] = 0
    return ids, mask


def test_keeping_every_token_is_the_plain_network_exactly():
    model = small_network()
    ids, mask = batch()
    with torch.inference_mode():
        plain = model(input_ids=ids, attention_mask=mask)
        start, end, read = LengthAdaptiveReader(model)(ids, mask, torch.ones(LAYERS))
    real = mask.bool()
    assert torch.equal(start[real], plain.start_logits[real])
    assert torch.equal(end[real], plain.end_logits[real])
    assert read.tolist() == [40] * LAYERS


def test_each_layer_keeps_its_share_of_the_tokens_before_it_rounded_up():
    model = small_network()
    ids, mask = batch()
    with torch.inference_mode():
        _, _, read = LengthAdaptiveReader(model)(ids, mask, torch.tensor([0.5, 0.9, 0.01]))
    assert read.tolist() == [20, 18, 1]
    assert int(keep_count(torch.tensor(7), torch.tensor(1.0))) == 7
    assert int(keep_count(torch.tensor(7), torch.tensor(0.5))) == 4


def test_the_most_attended_tokens_are_kept_in_order_cls_first_padding_last():
    # One head, four queries: token 2 receives the most attention, then token 3; token 0 ([CLS]) the least,
    # and token 4 is padding that the padding query attends to heavily.
    probs = torch.tensor(
        [
            [
                [
                    [0.0, 0.1, 0.6, 0.3, 0.0],
                    [0.0, 0.2, 0.5, 0.3, 0.0],
                    [0.1, 0.1, 0.4, 0.4, 0.0],
                    [0.0, 0.0, 0.7, 0.3, 0.0],
                    [0.0, 0.0, 0.0, 0.0, 1.0],
                ]
            ]
        ]
    )
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0]])
    assert kept_positions(probs, mask, torch.tensor(3)).tolist() == [[0, 2, 3]]
    assert kept_positions(probs, mask, torch.tensor(1)).tolist() == [[0]]
    assert kept_positions(probs, mask, torch.tensor(4)).tolist() == [[0, 1, 2, 3]]


def test_a_token_dropped_in_the_first_layer_is_scored_from_its_embedding():
    # The first layer drops one of 12 tokens before its feed-forward block; that token never got a later
    # vector, so the span head reads its embedding, and every other token is read as usual.
    model = small_network()
    ids, mask = batch(rows=1, length=12)
    adaptive = LengthAdaptiveReader(model)
    with torch.inference_mode():
        start, _, read = adaptive(ids, mask, torch.tensor([11 / 12, 1.0, 1.0]))
        from_embedding = model.qa_outputs(model.distilbert.embeddings(ids))[0, :, 0]
    assert read.tolist() == [11, 11, 11]
    matches = [i for i in range(12) if torch.isclose(start[0, i], from_embedding[i], atol=1e-6)]
    assert len(matches) == 1 and matches[0] != 0


def test_soft_cross_entropy_is_least_when_the_student_matches_the_teacher():
    teacher = torch.tensor([[2.0, 0.5, -1.0, 9.0]])
    mask = torch.tensor([[1, 1, 1, 0]])
    same = soft_cross_entropy(teacher.clone(), teacher, mask)
    other = soft_cross_entropy(torch.tensor([[0.0, 2.0, 0.0, 9.0]]), teacher, mask)
    probabilities = torch.softmax(teacher[0, :3], dim=0)
    entropy = -(probabilities * probabilities.log()).sum()
    assert float(same) == pytest.approx(float(entropy), abs=1e-5)
    assert float(other) > float(same)


def test_soft_cross_entropy_of_bf16_logits_with_padding_is_the_float32_value():
    teacher = torch.tensor([[2.0, 0.5, -1.0, 9.0]])
    student = torch.tensor([[0.0, 2.0, 0.5, 3.0]])
    mask = torch.tensor([[1, 1, 1, 0]])
    exact = soft_cross_entropy(student, teacher, mask)
    halved = soft_cross_entropy(student.bfloat16(), teacher.bfloat16(), mask)
    assert torch.isfinite(halved)
    assert float(halved) == pytest.approx(float(exact), abs=0.02)


def test_lengthdrop_training_makes_the_shortest_network_agree_with_the_full_one_as_plain_training_does_not():
    ids, mask = batch(rows=4, length=24)
    starts, ends = torch.tensor([3, 5, 2, 0]), torch.tensor([4, 7, 2, 0])
    shortest = shortest_ratios(LAYERS, 0.4)

    def trained(length_drop: bool):
        model = small_network().train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        torch.manual_seed(3)
        for _ in range(30):
            if length_drop:
                sandwich_backward(model, ids, mask, starts, ends, bound=0.4, random_count=1, bf16=False)
            else:
                model(input_ids=ids, attention_mask=mask, start_positions=starts, end_positions=ends).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
        with torch.inference_mode():
            full = model(input_ids=ids, attention_mask=mask)
            start, _, _ = LengthAdaptiveReader(model)(ids, mask, shortest)
        own = soft_cross_entropy(full.start_logits, full.start_logits, mask)
        return float(soft_cross_entropy(start, full.start_logits, mask) - own), full.start_logits.argmax(-1)

    plain_gap, plain_answers = trained(False)
    drop_gap, drop_answers = trained(True)
    assert drop_gap < plain_gap / 2
    # The full network still learns the gold starts under LengthDrop.
    assert drop_answers.tolist() == starts.tolist() == plain_answers.tolist()


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
def test_the_adaptive_graph_answers_as_torch_does_and_reads_fewer_tokens_on_a_smaller_budget(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    from qa_reader.training.export import export_adaptive_onnx

    model = small_network()
    path = tmp_path / "adaptive.onnx"
    assert export_adaptive_onnx(model, path) < 1e-4
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ids, mask = batch(length=50)
    feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    full = session.run(None, {**feed, "keep_ratios": np.ones(LAYERS, np.float32)})
    small = session.run(None, {**feed, "keep_ratios": np.full(LAYERS, 0.5, np.float32)})
    with torch.inference_mode():
        plain = model(input_ids=ids, attention_mask=mask)
    real = mask.numpy().astype(bool)
    assert np.abs(full[0][real] - plain.start_logits.numpy()[real]).max() < 1e-4
    assert full[2].tolist() == [50, 50, 50]
    assert small[2].tolist() == [25, 13, 7]
