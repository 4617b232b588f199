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
