"""read_many: each context's windows batched apart within a token budget, one candidate per distinct span."""

import math
from dataclasses import replace

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


def test_a_contexts_windows_are_read_once_in_batches_within_a_token_budget_never_with_another_contexts():
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    question = maker.question_ids("theta")
    # Windows of 6, then 9 and 9, then 5 tokens. Each context is batched apart (an int8 graph's logits depend
    # on the batch); the two 9s share one batch within 18 padded tokens, not within 12.
    request = ReadRequest(question, maker.tokenize(["alpha beta", CONTEXT, "alpha"]))
    run = _lookup_runner(maker, {"alpha": 4.0, "eta": 4.0})
    shapes: list[tuple[int, int]] = []
    narrow: list[tuple[int, int]] = []

    [spans] = read_many(_recording(run, shapes), maker, [request], batch_tokens=18, max_answer_tokens=1)
    read_many(_recording(run, narrow), maker, [request], batch_tokens=12, max_answer_tokens=1)

    assert shapes == [(1, 6), (2, 9), (1, 5)]
    assert narrow == [(1, 6), (1, 9), (1, 9), (1, 5)]
    assert [CONTEXT[s.char_start : s.char_end] for s in spans[:2]] == ["alpha", "alpha"]


def test_a_context_reads_the_same_among_other_contexts_as_alone():
    # A runner whose logits depend on the whole batch, as dynamic int8 quantisation's do.
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    table = _lookup_runner(maker, {"alpha": 4.0, "gamma": 3.0})

    def batch_dependent(batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        start, end = table(batch)
        return start + 0.5 * batch["input_ids"].shape[0] * (batch["input_ids"] % 3), end

    question = maker.question_ids("theta")
    contexts = maker.tokenize(["gamma delta", "alpha", "alpha beta"])
    [together] = read_many(batch_dependent, maker, [ReadRequest(question, contexts)])
    for index, context in enumerate(contexts):
        [alone] = read_many(batch_dependent, maker, [ReadRequest(question, [context])])
        assert [replace(s, context_index=index) for s in alone] == [s for s in together if s.context_index == index]


def test_a_window_longer_than_the_budget_is_still_read_alone():
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    request = ReadRequest(maker.question_ids("theta"), maker.tokenize([CONTEXT]))
    shapes: list[tuple[int, int]] = []

    read_many(_recording(_lookup_runner(maker, {}), shapes), maker, [request], batch_tokens=4)

    assert shapes == [(1, 9), (1, 9)]


def test_requests_share_no_batch_unless_asked_to():
    # An int8 graph quantises a batch with one scale: a question's windows must not be batched with another's.
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    question = maker.question_ids("theta")
    requests = [ReadRequest(question, maker.tokenize(["alpha beta"])), ReadRequest(question, maker.tokenize(["alpha"]))]
    runner = _lookup_runner(maker, {"alpha": 4.0})
    apart: list[tuple[int, int]] = []
    mixed: list[tuple[int, int]] = []

    separate = read_many(_recording(runner, apart), maker, requests, max_answer_tokens=1)
    together = read_many(_recording(runner, mixed), maker, requests, mix_requests=True, max_answer_tokens=1)

    assert apart == [(1, 6), (1, 5)]
    assert mixed == [(2, 6)]
    assert separate == together


def test_a_question_asked_among_others_reads_exactly_as_when_asked_alone():
    # A runner whose logits depend on the whole batch, as dynamic int8 quantisation's do.
    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    table = _lookup_runner(maker, {"alpha": 4.0, "gamma": 3.0})

    def batch_dependent(batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        start, end = table(batch)
        shift = 0.5 * batch["input_ids"].shape[0]
        return start + shift * (batch["input_ids"] % 3), end

    question = maker.question_ids("theta")
    first = ReadRequest(question, maker.tokenize([CONTEXT, "alpha beta"]))
    others = [ReadRequest(maker.question_ids("eta"), maker.tokenize(["gamma delta", "alpha"])) for _ in range(3)]

    [alone] = read_many(batch_dependent, maker, [first])
    among = read_many(batch_dependent, maker, [*others, first])[-1]

    assert among == alone


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


class _SideBySide:
    """A runner with lanes (a `map`), noting how many batches each map is given; it runs them last first and
    answers in their order, as a map must."""

    def __init__(self, run) -> None:
        self.run = run
        self.maps: list[int] = []

    def __call__(self, batch):
        raise AssertionError("a runner with a map is given its batches through the map")

    def map(self, batches):
        self.maps.append(len(batches))
        return list(reversed([self.run(batch) for batch in reversed(batches)]))


def test_a_runner_with_lanes_gets_a_bounded_number_of_batches_at_once_and_reads_the_same():
    from qa_reader.reader.predict import BATCHES_AT_ONCE

    maker = WindowMaker(build_tokenizer(CONTEXT.split()), WindowSettings(max_length=9, doc_stride=3))
    question = maker.question_ids("theta")
    contexts = maker.tokenize([CONTEXT, "alpha beta", "gamma"] * 4)  # 24 windows in 16 batches of one context
    run = _lookup_runner(maker, {"alpha": 4.0, "eta": 3.0, "gamma": 2.0})
    lanes = _SideBySide(run)

    [plain] = read_many(run, maker, [ReadRequest(question, contexts)], batch_tokens=9)
    [side_by_side] = read_many(lanes, maker, [ReadRequest(question, contexts)], batch_tokens=9)

    assert side_by_side == plain
    assert lanes.maps == [BATCHES_AT_ONCE, 16 - BATCHES_AT_ONCE]
