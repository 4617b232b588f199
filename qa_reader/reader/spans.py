"""N-best answer-span decoding from start/end logits: numpy only, pure, exactly testable.

Scores are probabilities: softmax over the window's context tokens plus [CLS] (position 0), so the
mass the model puts on [CLS] is the window's "no answer" probability and span probabilities are
comparable across windows and passages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SpanCandidate:
    """A span of tokens inside one window, with its probability."""

    token_start: int
    token_end: int  # inclusive
    probability: float
    # start + end logit before any softmax: comparable across windows only for a reader trained to make it
    # so (shared normalisation); the calibration decides whether it helps
    logit: float = 0.0


@dataclass(frozen=True)
class DecodedWindow:
    """The best spans of one window and its no-answer probability."""

    candidates: tuple[SpanCandidate, ...]
    null_probability: float


def _log_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    masked = np.where(allowed, logits.astype(np.float64), -np.inf)
    peak = masked.max()
    shifted = masked - peak
    return shifted - np.log(np.exp(shifted).sum())


def decode_window(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    context_mask: np.ndarray,
    *,
    max_answer_tokens: int = 30,
    n_best: int = 20,
) -> DecodedWindow:
    """Return the n best spans with end >= start, length <= max_answer_tokens, inside the context.

    `start_logits`, `end_logits` and `context_mask` are 1-D arrays over the window's tokens (padding
    may be included; it must be False in the mask). Position 0 is taken as [CLS].
    """
    seq_len = context_mask.shape[0]
    start_logits = start_logits[:seq_len]
    end_logits = end_logits[:seq_len]
    context = context_mask.astype(bool)
    allowed = context.copy()
    allowed[0] = True
    start_log = _log_softmax(start_logits, allowed)
    end_log = _log_softmax(end_logits, allowed)
    null_probability = float(np.exp(start_log[0] + end_log[0]))

    if not context.any():
        return DecodedWindow(candidates=(), null_probability=null_probability)
    # Every allowed pair, as a band: pair_scores[start, k] scores the span from start to start + k. Pairing
    # only the n best starts with the n best ends would miss the best span when its start or its end
    # ranks below n on its own (a start just after a cluster of strong ones).
    width = max(0, min(max_answer_tokens, seq_len))
    start_scores = np.where(context, start_log, -np.inf)
    end_scores = np.concatenate([np.where(context, end_log, -np.inf), np.full(width, -np.inf)])
    ends = np.arange(seq_len)[:, None] + np.arange(width)[None, :]
    pair_scores = (start_scores[:, None] + end_scores[ends]).ravel()
    top = min(n_best, pair_scores.size)
    if top == 0:
        return DecodedWindow(candidates=(), null_probability=null_probability)
    chosen = np.argpartition(-pair_scores, top - 1)[:top]
    chosen = chosen[np.lexsort((chosen, -pair_scores[chosen]))]  # best first; ties: earlier start, shorter
    # A log-softmax is the logit minus the window's normaliser: position 0 ([CLS]) gives the normalisers back.
    normalisers = float(start_logits[0]) - start_log[0] + float(end_logits[0]) - end_log[0]
    candidates = []
    for flat in chosen:
        value = pair_scores[flat]
        if not np.isfinite(value):
            break
        token_start, length = divmod(int(flat), width)
        candidates.append(
            SpanCandidate(
                token_start=token_start,
                token_end=token_start + length,
                probability=float(np.exp(value)),
                logit=float(value + normalisers),
            )
        )
    return DecodedWindow(candidates=tuple(candidates), null_probability=null_probability)


def span_characters(char_offsets: np.ndarray, candidate: SpanCandidate) -> tuple[int, int]:
    """Character [start, end) in the context covered by a candidate's tokens."""
    return int(char_offsets[candidate.token_start, 0]), int(char_offsets[candidate.token_end, 1])
