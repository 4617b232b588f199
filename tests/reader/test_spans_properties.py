"""Span decoding against a brute-force reference on random logits: the n best spans are the n best of
every allowed (start, end) pair."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qa_reader.reader.spans import decode_window

# Both sides are sums of two float64 log-probabilities of the same float32 logits.
CLOSE = {"rel": 1e-9, "abs": 1e-9}


@dataclass(frozen=True, repr=False)
class RandomWindow:
    """Logits over a window (padding after its mask) and the decoding limits."""

    start_logits: np.ndarray
    end_logits: np.ndarray
    mask: np.ndarray  # one contiguous run of context tokens, never position 0 ([CLS])
    max_answer_tokens: int
    n_best: int

    def __repr__(self) -> str:
        return (
            f"RandomWindow(start={self.start_logits.tolist()}, end={self.end_logits.tolist()}, "
            f"context={np.flatnonzero(self.mask).tolist()}, max_answer_tokens={self.max_answer_tokens}, "
            f"n_best={self.n_best})"
        )


@st.composite
def random_windows(draw: st.DrawFn) -> RandomWindow:
    length = draw(st.integers(1, 48))
    padding = draw(st.integers(0, 4))
    context_start = draw(st.integers(1, length))
    context_end = draw(st.integers(context_start, length))
    # Few distinct values: ties between pairs are common, and they must not change the scores chosen.
    values = st.one_of(st.floats(-8, 8, width=32), st.sampled_from([0.0, 1.0, -1.0]))
    start_logits = draw(hnp.arrays(np.float32, length + padding, elements=values))
    end_logits = draw(hnp.arrays(np.float32, length + padding, elements=values))
    mask = np.zeros(length, dtype=bool)
    mask[context_start:context_end] = True
    return RandomWindow(start_logits, end_logits, mask, draw(st.integers(1, 40)), draw(st.integers(1, 25)))


def _log_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Log-probabilities over the allowed positions, written out position by position."""
    values = [float(v) for v, ok in zip(logits, allowed) if ok]
    peak = max(values)
    log_total = peak + math.log(sum(math.exp(v - peak) for v in values))
    return np.array([float(v) - log_total if ok else -math.inf for v, ok in zip(logits, allowed)])


def _all_pair_scores(window: RandomWindow) -> dict[tuple[int, int], float]:
    """log P(start) + log P(end) of every span inside the context, end >= start, at most max tokens."""
    allowed = window.mask.copy()
    allowed[0] = True
    length = len(window.mask)
    start_log = _log_softmax(window.start_logits[:length], allowed)
    end_log = _log_softmax(window.end_logits[:length], allowed)
    context = np.flatnonzero(window.mask)
    return {
        (int(start), int(end)): start_log[start] + end_log[end]
        for start in context
        for end in context
        if start <= end < start + window.max_answer_tokens
    }


@settings(max_examples=150, deadline=None)
@given(random_windows())
def test_the_candidates_are_the_best_allowed_pairs_best_first(window: RandomWindow) -> None:
    decoded = decode_window(
        window.start_logits,
        window.end_logits,
        window.mask,
        max_answer_tokens=window.max_answer_tokens,
        n_best=window.n_best,
    )
    reference = _all_pair_scores(window)
    got = [(c.token_start, c.token_end) for c in decoded.candidates]
    assert len(got) == len(set(got)) == min(window.n_best, len(reference))
    for candidate in decoded.candidates:
        assert (candidate.token_start, candidate.token_end) in reference  # inside, ordered, short enough
        assert math.log(candidate.probability) == pytest.approx(
            reference[candidate.token_start, candidate.token_end], **CLOSE
        )
    # The scores chosen are the n best scores (which of several tied pairs is chosen is free).
    best_scores = sorted(reference.values(), reverse=True)[: window.n_best]
    got_scores = [math.log(c.probability) for c in decoded.candidates]
    assert got_scores == pytest.approx(best_scores, **CLOSE)
    assert got_scores == sorted(got_scores, reverse=True)


@settings(max_examples=60, deadline=None)
@given(random_windows())
def test_the_no_answer_probability_is_cls_under_both_softmaxes(window: RandomWindow) -> None:
    decoded = decode_window(window.start_logits, window.end_logits, window.mask)
    allowed = window.mask.copy()
    allowed[0] = True
    length = len(window.mask)
    expected = (
        _log_softmax(window.start_logits[:length], allowed)[0] + _log_softmax(window.end_logits[:length], allowed)[0]
    )
    assert math.log(decoded.null_probability) == pytest.approx(expected, **CLOSE)
