"""read_many: windows of every request batched together, one candidate per distinct span."""

import math

import numpy as np
import pytest

from qa_reader.reader.predict import ReadRequest, read_many
from qa_reader.reader.windows import WindowMaker, WindowSettings
from tests.support.tiny_model import build_tokenizer

CONTEXT = "alpha beta gamma delta epsilon zeta eta theta"


def _lookup_runner(maker: WindowMaker, logits: dict[str, float]):
    """A batch runner whose start and end logits are both `logits[word]` (0 for other words)."""
    table = np.zeros(maker.tokenizer.get_vocab_size(), dtype=np.float64)
    for word, value in logits.items():
        table[maker.tokenizer.token_to_id(word)] = value

    def run(batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        scores = np.where(batch["attention_mask"] == 1, table[batch["input_ids"]], -10000.0)
        return scores, scores

    return run


def test_a_span_seen_in_two_overlapping_windows_keeps_its_better_window():
    # [CLS] question [SEP] leaves 5 context tokens a window; stride 3: tokens 0-4 and 3-7 share "delta".
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    request = ReadRequest(maker.question_ids("theta"), maker.tokenize([CONTEXT]))
    assert [w.first_context_token for w in maker.windows(request.question_ids, request.contexts)] == [0, 3]
    # "alpha", only in the first window, takes half of that window's mass from "delta".
    run = _lookup_runner(maker, {"alpha": 4.0, "delta": 4.0})

    [spans] = read_many(run, maker, [request], max_answer_tokens=1)

    delta = [s for s in spans if CONTEXT[s.char_start : s.char_end] == "delta"]
    assert len(delta) == 1
    # The second window: [CLS] and five context tokens, "delta" the only one at 4.
    start_probability = math.exp(4) / (math.exp(4) + 5)
    assert delta[0].probability == pytest.approx(start_probability**2)
    assert delta[0].null_probability == pytest.approx((1 / (math.exp(4) + 5)) ** 2)
    assert spans[0] == delta[0]


def _recording(run, shapes: list[tuple[int, int]]):
    """The runner `run`, noting the shape of every batch it is given."""

    def recorded(batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        shapes.append(batch["input_ids"].shape)
        return run(batch)

    return recorded


def test_windows_of_all_requests_are_read_once_in_batches_of_similar_length():
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    question = maker.question_ids("theta")
    # Windows of 6, then 9 and 9, then 5 tokens: sorted by length, the two short ones share a batch and its
    # padding (in the order given, each batch would be padded to 9).
    requests = [
        ReadRequest(question, maker.tokenize(["alpha beta"])),
        ReadRequest(question, maker.tokenize([CONTEXT])),
        ReadRequest(question, maker.tokenize(["alpha"])),
    ]
    shapes: list[tuple[int, int]] = []
    run = _recording(_lookup_runner(maker, {"alpha": 4.0, "eta": 4.0}), shapes)

    spans = read_many(run, maker, requests, batch_size=2, max_answer_tokens=1)

    assert shapes == [(2, 6), (2, 9)]
    assert [CONTEXT[s.char_start : s.char_end] for s in (spans[0][0], spans[2][0])] == ["alpha", "alpha"]


def test_by_default_windows_go_to_the_runner_thirty_two_at_a_time():
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    request = ReadRequest(maker.question_ids("theta"), maker.tokenize([" ".join([CONTEXT] * 15)]))
    count = len(maker.windows(request.question_ids, request.contexts))
    assert count > 32
    shapes: list[tuple[int, int]] = []

    read_many(_recording(_lookup_runner(maker, {}), shapes), maker, [request])

    assert [rows for rows, _ in shapes] == [32, count - 32]


def test_every_distinct_span_is_listed_once_with_the_context_it_is_in():
    words = CONTEXT.split()
    maker = WindowMaker(build_tokenizer(words), WindowSettings(max_length=32, doc_stride=8))
    contexts = ["alpha beta", "gamma delta"]
    request = ReadRequest(maker.question_ids("theta"), maker.tokenize(contexts))

    [spans] = read_many(_lookup_runner(maker, {"gamma": 4.0, "alpha": 2.0}), maker, [request], max_answer_tokens=1)

    found = [(s.context_index, contexts[s.context_index][s.char_start : s.char_end]) for s in spans]
    assert found[:2] == [(1, "gamma"), (0, "alpha")]
    assert sorted(found) == [(0, "alpha"), (0, "beta"), (1, "delta"), (1, "gamma")]


def test_the_span_limits_reach_the_decoder_and_default_to_thirty_tokens_and_twenty_spans():
    words = [f"w{i}" for i in range(40)]
    maker = WindowMaker(build_tokenizer(words), WindowSettings(max_length=64, doc_stride=32))
    request = ReadRequest(maker.question_ids("w1"), maker.tokenize([" ".join(words)]))
    flat = _lookup_runner(maker, {})

    [spans] = read_many(flat, maker, [request], max_answer_tokens=2, n_best=3)
    assert len(spans) == 3 and all(len(" ".join(words)[s.char_start : s.char_end].split()) <= 2 for s in spans)

    [spans] = read_many(flat, maker, [request])
    assert len(spans) == 20
    # A start on w5 and an end on w35 would be the best pair, but 31 tokens is one too many.
    [spans] = read_many(_lookup_runner(maker, {"w5": 9.0, "w35": 9.0}), maker, [request])
    assert all(len(" ".join(words)[s.char_start : s.char_end].split()) <= 30 for s in spans)
