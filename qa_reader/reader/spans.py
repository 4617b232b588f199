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
    allowed = context_mask.astype(bool).copy()
    allowed[0] = True
    start_log = _log_softmax(start_logits, allowed)
    end_log = _log_softmax(end_logits, allowed)
    null_probability = float(np.exp(start_log[0] + end_log[0]))

    context_positions = np.flatnonzero(context_mask)
    if context_positions.size == 0:
        return DecodedWindow(candidates=(), null_probability=null_probability)
    top = min(n_best, context_positions.size)
    best_starts = context_positions[np.argsort(-start_log[context_positions], kind="stable")[:top]]
    best_ends = context_positions[np.argsort(-end_log[context_positions], kind="stable")[:top]]

    pair_scores = start_log[best_starts][:, None] + end_log[best_ends][None, :]
    lengths = best_ends[None, :] - best_starts[:, None]
    valid = (lengths >= 0) & (lengths < max_answer_tokens)
    pair_scores = np.where(valid, pair_scores, -np.inf)
    order = np.argsort(-pair_scores, axis=None, kind="stable")[:n_best]
    candidates = []
    for flat in order:
        row, col = divmod(int(flat), top)
        value = pair_scores[row, col]
        if not np.isfinite(value):
            break
        candidates.append(
            SpanCandidate(
                token_start=int(best_starts[row]),
                token_end=int(best_ends[col]),
                probability=float(np.exp(value)),
            )
        )
    return DecodedWindow(candidates=tuple(candidates), null_probability=null_probability)


def span_characters(char_offsets: np.ndarray, candidate: SpanCandidate) -> tuple[int, int]:
    """Character [start, end) in the context covered by a candidate's tokens."""
    return int(char_offsets[candidate.token_start, 0]), int(char_offsets[candidate.token_end, 1])
