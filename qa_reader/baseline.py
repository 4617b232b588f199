"""A rule-based reader to measure the model against: the sliding-window word overlap of Richardson et al.
(2013, MCTest), adapted to extractive answers.

Every word w of the text weighs IC(w) = log(1 + 1 / count(w)), so rare words count more. A window as
wide as the question's set of words slides over each sentence; the sentence whose best window holds the
most question-word weight is the answer sentence. Its answer is the longest run of words in it that are
not question words, nearest to the best window (a span of the text, characters exact).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from qa_reader.search import STOPWORDS

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)


@dataclass(frozen=True)
class BaselineAnswer:
    """The answer span [char_start, char_end) of the text and its window score (0 when nothing matched)."""

    char_start: int
    char_end: int
    score: float


def _words(text: str, offset: int = 0) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), offset + m.start(), offset + m.end()) for m in _WORD.finditer(text)]


def sliding_window_answer(question: str, text: str) -> BaselineAnswer:
    """The baseline's answer to a question over a text (an empty span at 0 when the text has no words)."""
    sentences = [_words(s.group(), s.start()) for s in _SENTENCE.finditer(text)]
    sentences = [words for words in sentences if words]
    if not sentences:
        return BaselineAnswer(0, 0, 0.0)
    counts = Counter(word for words in sentences for word, _, _ in words)
    weight = {word: math.log(1 + 1 / count) for word, count in counts.items()}
    asked = {word for word, _, _ in _words(question)}
    width = max(1, len(asked))
    best: tuple[float, int, int, list[tuple[str, int, int]]] | None = None
    for words in sentences:
        for start in range(max(1, len(words) - width + 1)):
            window = words[start : start + width]
            score = sum(weight[w] for w, _, _ in window if w in asked)
            if best is None or score > best[0]:
                best = (score, start, start + len(window), words)
    assert best is not None
    score, window_start, window_end, words = best
    runs: list[tuple[int, int]] = []  # [first, last) word indexes of runs of words that are not asked
    first = None
    for index, (word, _, _) in enumerate([*words, ("", 0, 0)]):
        outside = index < len(words) and word not in asked
        if outside and first is None:
            first = index
        elif not outside and first is not None:
            runs.append(_trim(words, first, index))
            first = None
    runs = [run for run in runs if run[1] > run[0]]
    if not runs:
        return BaselineAnswer(words[window_start][1], words[window_end - 1][2], score)

    def distance(run: tuple[int, int]) -> int:
        return max(0, window_start - run[1], run[0] - window_end)

    first, last = max(runs, key=lambda run: (run[1] - run[0], -distance(run)))
    return BaselineAnswer(words[first][1], words[last - 1][2], score)


def _trim(words: list[tuple[str, int, int]], first: int, last: int) -> tuple[int, int]:
    """A run without the glue words (the, of, and...) at its ends."""
    while first < last and words[first][0] in STOPWORDS:
        first += 1
    while last > first and words[last - 1][0] in STOPWORDS:
        last -= 1
    return first, last
