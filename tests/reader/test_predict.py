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
