"""SQuAD v1.1 data files and the official answer normalisation, exact match and F1."""

from __future__ import annotations

import collections
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


@dataclass(frozen=True)
class Question:
    """One SQuAD question with its paragraph and the gold answers (empty for unanswerable ones)."""

    id: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]
    paragraph_index: int


def load(path: str | Path) -> list[Question]:
    """Return every question of a SQuAD-format JSON file, in file order."""
    with open(path, encoding="utf-8") as handle:
        payload = json.load(handle)
    return list(_iter_questions(payload["data"]))


def _iter_questions(articles: list[dict]) -> Iterator[Question]:
    paragraph_index = 0
    for article in articles:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = qa.get("answers", [])
                yield Question(
                    id=str(qa["id"]),
                    title=article.get("title", ""),
                    context=context,
                    question=qa["question"],
                    answers=tuple(a["text"] for a in answers),
                    answer_starts=tuple(int(a["answer_start"]) for a in answers),
                    paragraph_index=paragraph_index,
                )
            paragraph_index += 1


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, and collapse whitespace (official rules)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, truth: str) -> float:
    """1.0 when the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1(prediction: str, truth: str) -> float:
    """Token-level F1 between the normalised prediction and one gold answer."""
    predicted_tokens = normalize_answer(prediction).split()
    truth_tokens = normalize_answer(truth).split()
    common = collections.Counter(predicted_tokens) & collections.Counter(truth_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted_tokens)
    recall = overlap / len(truth_tokens)
    return 2 * precision * recall / (precision + recall)


def score(prediction: str, truths: tuple[str, ...] | list[str]) -> tuple[float, float]:
    """Return (exact match, F1) of a prediction against the best-matching gold answer.

    A question without gold answers (SQuAD 2.0 unanswerable) scores 1.0 only for an empty prediction.
    """
    if not truths:
        value = float(prediction.strip() == "")
        return value, value
    return (
        max(exact_match(prediction, truth) for truth in truths),
        max(f1(prediction, truth) for truth in truths),
    )
