"""Read questions against tokenised contexts with any batch runner and decode the best spans."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa_reader.reader.spans import decode_window, span_characters
from qa_reader.reader.windows import TokenizedText, Window, WindowMaker

BatchRunner = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class ContextSpan:
    """An answer candidate: character span inside one of the contexts, with probabilities."""

    context_index: int
    char_start: int
    char_end: int
    probability: float
    null_probability: float  # the no-answer probability of the window it came from
    logit: float = 0.0  # start + end logit, before the window's softmax


@dataclass(frozen=True)
class ReadRequest:
    """One question (as word-piece ids) and the contexts to read it against."""

    question_ids: np.ndarray
    contexts: Sequence[TokenizedText]


def read_many(
    run_batch: BatchRunner,
    maker: WindowMaker,
    requests: Sequence[ReadRequest],
    *,
    batch_size: int = 32,
    max_answer_tokens: int = 30,
    n_best: int = 20,
) -> list[list[ContextSpan]]:
    """For each request, its candidate spans over all its contexts, best first, one per distinct span.

    Windows from all requests are sorted by length and batched together so padding stays small.
    """
    windows: list[tuple[int, Window]] = []
    for request_index, request in enumerate(requests):
        windows.extend((request_index, w) for w in maker.windows(request.question_ids, request.contexts))
    order = sorted(range(len(windows)), key=lambda i: len(windows[i][1].input_ids))
    best: list[dict[tuple[int, int, int], ContextSpan]] = [{} for _ in requests]
    for offset in range(0, len(order), batch_size):
        chunk = [windows[i] for i in order[offset : offset + batch_size]]
        start_logits, end_logits = run_batch(maker.pad([w for _, w in chunk]))
        for row, (request_index, window) in enumerate(chunk):
            decoded = decode_window(
                start_logits[row],
                end_logits[row],
                window.context_mask,
                max_answer_tokens=max_answer_tokens,
                n_best=n_best,
            )
            found = best[request_index]
            for candidate in decoded.candidates:
                char_start, char_end = span_characters(window.char_offsets, candidate)
                key = (window.context_index, char_start, char_end)
                if key not in found or found[key].probability < candidate.probability:
                    found[key] = ContextSpan(
                        window.context_index,
                        char_start,
                        char_end,
                        candidate.probability,
                        decoded.null_probability,
                        candidate.logit,
                    )
    return [sorted(found.values(), key=lambda s: -s.probability) for found in best]
