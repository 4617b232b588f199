"""Read questions against tokenised contexts with any batch runner and decode the best spans."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from qa_reader.reader.spans import decode_window, span_characters
from qa_reader.reader.windows import TokenizedText, Window, WindowMaker

BatchRunner = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]

# Padded tokens per batch (rows × the longest row). onnxruntime on two cores read windows of 120-384 tokens
# fastest in batches of 512-1,024 tokens (20 ms a window); batches of 4,096 took 1.85× as long a window (the
# activations outgrow the caches and, without the memory arena, are allocated afresh every run), one window
# at a time 1.05×. A batch holds one passage's windows (`read_many`), so most batches are one window.
BATCH_TOKENS = 1024


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
    batch_tokens: int = BATCH_TOKENS,
    mix_requests: bool = False,
    max_answer_tokens: int = 30,
    n_best: int = 20,
) -> list[list[ContextSpan]]:
    """For each request, its candidate spans over all its contexts, best first, one per distinct span.

    A batch holds as many windows as fit in `batch_tokens` padded tokens, and always at least one, all of one
    context of one request, unless `mix_requests` (then any windows, sorted by length so padding stays small).
    An int8 graph quantises each batch's activations with one scale, so a window's logits move (by up to about
    1) with what it is batched with: kept apart, a context's spans depend only on the question and that
    context, whether it is read among other contexts, other questions or alone (the engine reads a
    question's passages one at a time when it can stop early). Graphs without dynamic quantisation
    (training's torch runner) may mix them.
    """
    windows: list[tuple[int, Window]] = []
    for request_index, request in enumerate(requests):
        windows.extend((request_index, w) for w in maker.windows(request.question_ids, request.contexts))

    def position(i: int) -> tuple[int, int, int]:
        request_index, window = windows[i]
        if mix_requests:
            return (0, 0, len(window.input_ids))
        return (request_index, window.context_index, len(window.input_ids))

    order = sorted(range(len(windows)), key=position)
    best: list[dict[tuple[int, int, int], ContextSpan]] = [{} for _ in requests]
    for chunk, (start_logits, end_logits) in _logits(
        run_batch, maker, [windows[i] for i in order], batch_tokens, mix_requests
    ):
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


# Batches handed to a runner with lanes at a time: enough to keep every lane busy, few enough that the padded
# inputs and logits held at once stay small whatever the number of windows.
BATCHES_AT_ONCE = 8


def _logits(
    run_batch: BatchRunner,
    maker: WindowMaker,
    windows: Sequence[tuple[int, Window]],
    batch_tokens: int,
    mix_requests: bool,
) -> Iterator[tuple[list[tuple[int, Window]], tuple[np.ndarray, np.ndarray]]]:
    """Each batch of `windows` (see `_batches`) with its start and end logits, in order. A runner with a `map`
    (a session with lanes) reads up to BATCHES_AT_ONCE batches side by side."""
    side_by_side = getattr(run_batch, "map", None)
    chunks = _batches(windows, batch_tokens, mix_requests)
    if side_by_side is None:
        for chunk in chunks:
            yield chunk, run_batch(maker.pad([w for _, w in chunk]))
        return
    while group := list(itertools.islice(chunks, BATCHES_AT_ONCE)):
        yield from zip(group, side_by_side([maker.pad([w for _, w in chunk]) for chunk in group]))


def _batches(
    windows: Sequence[tuple[int, Window]], batch_tokens: int, mix_requests: bool
) -> Iterator[list[tuple[int, Window]]]:
    """`windows` (shortest first, per request and context unless `mix_requests`) cut into runs whose row count ×
    longest row stays within `batch_tokens`, and that hold one context of one request unless `mix_requests`."""
    chunk: list[tuple[int, Window]] = []
    for item in windows:
        if chunk:
            full = (len(chunk) + 1) * len(item[1].input_ids) > batch_tokens
            elsewhere = (item[0], item[1].context_index) != (chunk[-1][0], chunk[-1][1].context_index)
            if full or (not mix_requests and elsewhere):
                yield chunk
                chunk = []
        chunk.append(item)
    if chunk:
        yield chunk
