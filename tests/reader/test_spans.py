"""Span decoding on hand-built logits."""

import numpy as np
import pytest

from qa_reader.reader.spans import decode_window, span_characters


def _mask(length, context):
    mask = np.zeros(length, dtype=bool)
    mask[context[0] : context[1]] = True
    return mask


def test_best_span_is_the_argmax_pair_inside_the_context():
    start = np.array([0, 9, 0, 0, 5, 0, 0, 0], dtype=np.float32)  # 1 is a question token: masked
    end = np.array([0, 0, 0, 0, 0, 1, 6, 0], dtype=np.float32)
    decoded = decode_window(start, end, _mask(8, (3, 7)))
    best = decoded.candidates[0]
    assert (best.token_start, best.token_end) == (4, 6)


def test_end_before_start_and_too_long_spans_are_excluded():
    start = np.array([0, 0, 0, 0, 0, 8], dtype=np.float32)
    end = np.array([0, 0, 8, 0, 0, 0], dtype=np.float32)
    decoded = decode_window(start, end, _mask(6, (1, 6)), max_answer_tokens=3)
    for candidate in decoded.candidates:
        assert candidate.token_end >= candidate.token_start
        assert candidate.token_end - candidate.token_start < 3


def test_probabilities_are_a_softmax_over_context_and_cls():
    start = np.log(np.array([0.5, 1e-12, 0.25, 0.25]))
    end = np.log(np.array([0.5, 1e-12, 0.25, 0.25]))
    decoded = decode_window(start, end, _mask(4, (2, 4)))
    assert decoded.null_probability == pytest.approx(0.25)
    total = decoded.null_probability + sum(c.probability for c in decoded.candidates)
    # all valid pairs (2,2), (2,3), (3,3) plus null; (3,2) is invalid
    assert total == pytest.approx(0.25 + 3 * 0.0625)
    assert decoded.candidates[0].probability == pytest.approx(0.0625)


def test_padding_beyond_the_mask_is_ignored():
    start = np.array([0, 0, 3, 50, 50], dtype=np.float32)
    end = np.array([0, 0, 3, 50, 50], dtype=np.float32)
    decoded = decode_window(start, end, _mask(3, (2, 3)))
    assert [(c.token_start, c.token_end) for c in decoded.candidates] == [(2, 2)]


def test_window_without_context_has_no_candidates():
    decoded = decode_window(np.zeros(4), np.zeros(4), np.zeros(4, dtype=bool))
    assert decoded.candidates == () and decoded.null_probability == pytest.approx(1.0)


def test_span_characters_maps_through_offsets():
    offsets = np.array([[-1, -1], [0, 3], [4, 9], [10, 12]], dtype=np.int32)
    decoded = decode_window(np.array([0, 0, 5, 0.0]), np.array([0, 0, 0, 5.0]), _mask(4, (1, 4)))
    assert span_characters(offsets, decoded.candidates[0]) == (4, 12)


def test_no_span_is_allowed_at_zero_tokens_or_zero_candidates_and_the_null_probability_stays():
    start = np.array([0, 0, 3, 1], dtype=np.float32)
    end = np.array([0, 0, 1, 3], dtype=np.float32)
    expected_null = decode_window(start, end, _mask(4, (2, 4))).null_probability
    for limits in ({"max_answer_tokens": 0}, {"n_best": 0}):
        decoded = decode_window(start, end, _mask(4, (2, 4)), **limits)
        assert decoded.candidates == (), limits
        assert decoded.null_probability == pytest.approx(expected_null), limits


def test_by_default_the_twenty_best_spans_of_at_most_thirty_tokens():
    length = 80
    decoded = decode_window(np.zeros(length), np.zeros(length), _mask(length, (1, length)))
    assert len(decoded.candidates) == 20
    # One start and one end far apart: the span between them is too long, so it is not among them.
    start, end = np.zeros(length), np.zeros(length)
    start[5], end[5 + 30] = 20.0, 20.0
    decoded = decode_window(start, end, _mask(length, (1, length)))
    assert all(c.token_end - c.token_start < 30 for c in decoded.candidates)
    assert (5, 35) not in [(c.token_start, c.token_end) for c in decoded.candidates]


def test_huge_logits_still_give_probabilities():
    # What an overconfident or badly scaled graph can output: the softmax must not overflow.
    start = np.array([0, 0, 900, 850], dtype=np.float32)
    end = np.array([0, 0, 850, 900], dtype=np.float32)
    decoded = decode_window(start, end, _mask(4, (2, 4)))
    best = decoded.candidates[0]
    assert (best.token_start, best.token_end) == (2, 3)
    assert best.probability == pytest.approx(1.0)
    assert 0.0 <= decoded.null_probability < 1e-300


def test_asked_for_one_span_a_full_size_window_gives_its_best():
    length = 384
    start, end = np.zeros(length), np.zeros(length)
    start[200], end[203] = 5.0, 5.0
    decoded = decode_window(start, end, _mask(length, (20, length)), n_best=1)
    assert [(c.token_start, c.token_end) for c in decoded.candidates] == [(200, 203)]


def test_each_span_keeps_its_raw_start_plus_end_logit_whatever_the_window_normalises_to():
    start = np.array([3.0, 0.0, 1.5, -2.0, 4.0, 0.0], dtype=np.float32)
    end = np.array([1.0, 0.0, 0.5, 2.5, -1.0, 0.0], dtype=np.float32)
    decoded = decode_window(start, end, _mask(6, (2, 5)))
    for candidate in decoded.candidates:
        assert candidate.logit == pytest.approx(start[candidate.token_start] + end[candidate.token_end], abs=1e-5)
    # Shifting every logit of the window moves the raw logits and leaves the probabilities as they were.
    shifted = decode_window(start + 10, end + 10, _mask(6, (2, 5)))
    assert [c.probability for c in shifted.candidates] == pytest.approx([c.probability for c in decoded.candidates])
    assert [c.logit - 20 for c in shifted.candidates] == pytest.approx([c.logit for c in decoded.candidates])
