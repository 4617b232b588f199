"""Training data: the open QA sets in ../shared/data/train, a weighted mixture, and SQuAD features."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from qa_reader import search, squad
from qa_reader.reader.windows import TokenizedText, WindowMaker


@dataclass(frozen=True)
class Source:
    """One training file, how many times per epoch it is seen, and its licence."""

    name: str
    relative_path: str
    weight: float
    license: str


# Weights: SQuAD-protocol and Wikipedia sets up (closest to the target distribution), ROPES
# (situation reasoning) and QAMR (single sentences, questions about every predicate) down.
# PolicyQA and FriendsQA are left out of the bundled model: their texts are not open for every use.
SOURCES: tuple[Source, ...] = (
    Source("squadshifts-new-wiki", "squadshifts/new_wiki_v1.0.json", 2.0, "CC BY 4.0"),
    Source("squadshifts-reddit", "squadshifts/reddit_v1.0.json", 1.0, "CC BY 4.0"),
    Source("squadshifts-amazon", "squadshifts/amazon_reviews_v1.0.json", 1.0, "CC BY 4.0"),
    Source(
        "squad-v1.1-train-fragments", "squad-v1.1-train-fragments/squad-v1.1-train-fragments.json", 3.0, "CC BY-SA 4.0"
    ),
    Source("qed", "qed/qed.json", 1.5, "CC BY-SA 3.0"),
    Source("tydiqa-goldp-en", "tydiqa-goldp-en/tydiqa-goldp-en.json", 1.5, "Apache-2.0"),
    Source("quoref-dev", "quoref-dev/quoref-dev.json", 1.0, "CC BY 4.0"),
    Source("ropes", "ropes/ropes.json", 0.3, "CC BY 4.0"),
    Source("qamr-wiki", "qamr-wiki/qamr-wiki.json", 0.15, "MIT"),
)


@dataclass(frozen=True)
class Example:
    """A question with one gold answer span (or none, for a negative pairing) in a context."""

    source: str
    question: str
    context: str
    answer_start: int  # character offset, -1 for "not in this context"
    answer_text: str
    group: int = -1  # the question's index in its source: its own paragraph and its negatives share it


@dataclass(frozen=True)
class Feature:
    """One training window: token ids and the gold start/end positions (0 = [CLS] = no answer here)."""

    input_ids: np.ndarray
    start_position: int
    end_position: int
    example_index: int
    group: int = -1  # the example's group: the windows of one question, read together by shared normalisation
    context_start: int = 0  # position of the first context token in input_ids


# One article in this many (5 %) is held out of every training run, fixed by a hash of its name, so
# calibration, thresholds and model selection are fitted on text no bundled model was trained on.
HELD_OUT_ONE_IN = 20
# A file with fewer articles than this (Reddit is one "article", ROPES two) is held out by paragraph.
ARTICLES_FOR_ARTICLE_UNITS = 20
# The silver SQuAD 2.0 set (442 articles) is held out by article even when a file holds only its held-out
# articles (`pseudo-label --held-out-only`: 29 of them), so both files hold out the same questions.
SILVER_SOURCE = "silver"


def held_out_unit(source: str, title: str, context: str, article_units: bool) -> bool:
    """True when this article (or, for files with few articles, this paragraph) is in the held-out slice."""
    unit = title if article_units else context
    digest = hashlib.sha256(f"{source}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % HELD_OUT_ONE_IN == 0


class _InArticle(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def context(self) -> str: ...


Asked = TypeVar("Asked", bound=_InArticle)  # a question of a SQuAD file, or of the unlabeled silver file


def split_held_out(source: str, questions: Sequence[Asked]) -> tuple[list[Asked], list[Asked]]:
    """(training, held out) questions of one training file: whole articles go to one side."""
    article_units = source == SILVER_SOURCE or len({q.title for q in questions}) >= ARTICLES_FOR_ARTICLE_UNITS
    train: list[Asked] = []
    held: list[Asked] = []
    for q in questions:
        (held if held_out_unit(source, q.title, q.context, article_units) else train).append(q)
    return train, held


def default_train_dir() -> Path:
    """`../shared/data/train` relative to the project root."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "train"


def load_examples(
    train_dir: Path,
    sources: Sequence[Source] = SOURCES,
    negative_fraction: float = 0.08,
    seed: int = 0,
    hard_negative_fraction: float = 0.0,
    hard_negatives: int = 1,
) -> dict[str, list[Example]]:
    """Examples per source, the held-out slice left out. Questions without answers (the silver set's
    unanswerable ones) point at [CLS]. Some questions are also paired with another paragraph of the same
    file (`negative_fraction`), and some (`hard_negative_fraction`) with the `hard_negatives` paragraphs of
    their own article that BM25 ranks highest for them, the ones the app's search would read, all labelled
    "no answer", so [CLS] probability means "not in this passage" across the passages of a document."""
    rng = random.Random(seed)
    by_source: dict[str, list[Example]] = {}
    for source in sources:
        questions, _ = split_held_out(source.name, squad.load(train_dir / source.relative_path))
        examples = [
            Example(source.name, q.question, q.context, q.answer_starts[0], q.answers[0], index)
            if q.answers
            else Example(source.name, q.question, q.context, -1, "", index)
            for index, q in enumerate(questions)
        ]
        contexts = sorted({q.context for q in questions})
        if len(contexts) > 1:
            for index, q in enumerate(questions):
                if rng.random() >= negative_fraction:
                    continue
                other = rng.choice(contexts)
                if other != q.context and all(answer not in other for answer in q.answers):
                    examples.append(Example(source.name, q.question, other, -1, "", index))
        if hard_negative_fraction > 0:
            chosen = [q for q in questions if rng.random() < hard_negative_fraction]
            position = {id(q): index for index, q in enumerate(questions)}
            for q, other in same_document_negatives(chosen, questions, hard_negatives):
                examples.append(Example(source.name, q.question, other, -1, "", position[id(q)]))
        by_source[source.name] = examples
    return by_source


class _Bm25Pool:
    """BM25 (k1 1.2, b 0.75, as SQLite FTS5) over a fixed set of paragraphs, with an inverted index."""

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.paragraphs = list(paragraphs)
        self.postings: dict[str, dict[int, int]] = {}
        lengths = []
        for index, text in enumerate(self.paragraphs):
            terms = search.text_terms(text)
            lengths.append(len(terms))
            for term in terms:
                row = self.postings.setdefault(term, {})
                row[index] = row.get(index, 0) + 1
        self.lengths = np.asarray(lengths, dtype=np.float64)
        self.average = float(self.lengths.mean()) if lengths else 1.0

    def ranked(self, question: str) -> list[int]:
        """Paragraph indices that share a content word with the question, best first."""
        count = len(self.paragraphs)
        scores: dict[int, float] = {}
        for term in search.query_terms(question):
            row = self.postings.get(term)
            if not row:
                continue
            idf = math.log((count - len(row) + 0.5) / (len(row) + 0.5) + 1.0)
            for index, tf in row.items():
                norm = tf + 1.2 * (0.25 + 0.75 * self.lengths[index] / self.average)
                scores[index] = scores.get(index, 0.0) + idf * tf * 2.2 / norm
        return sorted(scores, key=lambda i: (-scores[i], i))


def same_document_negatives(
    asked: Sequence[squad.Question], everything: Sequence[squad.Question], per_question: int
) -> list[tuple[squad.Question, str]]:
    """(question, paragraph) pairs: for each asked question, the `per_question` best BM25 paragraphs of its
    own article other than its own and holding none of its answers. Articles of fewer than three
    paragraphs (single-paragraph sets) use the whole file as the document."""
    ordered: dict[str, dict[str, None]] = {}  # title -> its paragraphs, in file order, once each
    for q in everything:
        ordered.setdefault(q.title, {})[q.context] = None
    by_title = {title: list(paragraphs) for title, paragraphs in ordered.items()}
    pools: dict[str, _Bm25Pool] = {}
    whole: _Bm25Pool | None = None
    pairs: list[tuple[squad.Question, str]] = []
    for q in asked:
        if len(by_title[q.title]) >= 3:
            if q.title not in pools:
                pools[q.title] = _Bm25Pool(by_title[q.title])
            pool = pools[q.title]
        else:
            if whole is None:
                whole = _Bm25Pool(sorted({p.context for p in everything}))
            pool = whole
        taken = 0
        for index in pool.ranked(q.question):
            other = pool.paragraphs[index]
            if other == q.context or any(answer.lower() in other.lower() for answer in q.answers):
                continue
            pairs.append((q, other))
            taken += 1
            if taken >= per_question:
                break
    return pairs


def _answer_tokens(context: TokenizedText, char_start: int, char_end: int) -> tuple[int, int] | None:
    offsets = context.char_offsets
    starts = np.flatnonzero(offsets[:, 1] > char_start)
    ends = np.flatnonzero(offsets[:, 0] < char_end)
    if starts.size == 0 or ends.size == 0:
        return None
    token_start, token_end = int(starts[0]), int(ends[-1])
    return (token_start, token_end) if token_end >= token_start else None


def make_features(examples: Sequence[Example], maker: WindowMaker) -> list[Feature]:
    """SQuAD features: every window of every example; a window that loses the answer points at [CLS]."""
    unique_contexts = sorted({e.context for e in examples})
    context_index = {text: i for i, text in enumerate(unique_contexts)}
    tokenized = maker.tokenize(unique_contexts)
    limit = maker.settings.max_question_tokens
    question_ids = [q.ids[:limit] for q in maker.tokenize([e.question for e in examples])]
    features: list[Feature] = []
    for index, (example, q_ids) in enumerate(zip(examples, question_ids)):
        context = tokenized[context_index[example.context]]
        answer = None
        if example.answer_start >= 0:
            answer = _answer_tokens(context, example.answer_start, example.answer_start + len(example.answer_text))
            if answer is None:
                continue
        for window in maker.windows(q_ids, [context]):
            start, end = 0, 0
            if answer is not None:
                window_tokens = len(window.input_ids) - window.context_token_start - 1
                first, last = window.first_context_token, window.first_context_token + window_tokens - 1
                if first <= answer[0] and answer[1] <= last:
                    start = answer[0] - first + window.context_token_start
                    end = answer[1] - first + window.context_token_start
            features.append(Feature(window.input_ids, start, end, index, example.group, window.context_token_start))
    return features


def _weighted_draw(items: list, weight: float, rng: random.Random) -> list:
    """`items` int(weight) times over, then a random share (the fraction of `weight`) of them once more."""
    drawn = items * int(weight)
    fraction = weight - int(weight)
    if fraction > 0:
        drawn += rng.sample(items, round(fraction * len(items)))
    return drawn


def epoch_order(
    features_by_source: dict[str, list[Feature]],
    weights: dict[str, float],
    epoch: int,
    seed: int,
    batch_size: int,
    bucket_batches: int = 50,
) -> list[list[tuple[str, int]]]:
    """Batches of (source, feature index) for one epoch, reproducible from (seed, epoch).

    Each source contributes weight × its size (the fraction drawn at random); features are shuffled,
    sorted by length inside buckets of `bucket_batches` batches (so padding stays small) and the
    batches shuffled again.
    """
    rng = random.Random(f"{seed}:{epoch}")
    picks: list[tuple[str, int]] = []
    for name in sorted(features_by_source):
        picks.extend(_weighted_draw([(name, i) for i in range(len(features_by_source[name]))], weights[name], rng))
    rng.shuffle(picks)
    batches: list[list[tuple[str, int]]] = []
    span = batch_size * bucket_batches
    for offset in range(0, len(picks), span):
        bucket = sorted(picks[offset : offset + span], key=lambda p: len(features_by_source[p[0]][p[1]].input_ids))
        batches.extend(bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size))
    rng.shuffle(batches)
    return batches


def grouped_epoch_order(
    features_by_source: dict[str, list[Feature]],
    weights: dict[str, float],
    epoch: int,
    seed: int,
    batch_size: int,
    bucket_batches: int = 50,
) -> list[list[tuple[str, int]]]:
    """Batches as `epoch_order` makes them, but drawn by group: every window of a question (its own
    paragraph's and its negatives') lands in the same batch, so shared normalisation can compare them.

    Each source contributes weight × its number of groups; groups are packed into batches of at most
    `batch_size` windows, in order of their longest window inside buckets (a group of more windows than
    `batch_size` keeps its first `batch_size`).
    """
    rng = random.Random(f"grouped:{seed}:{epoch}")
    members: dict[tuple[str, int], list[int]] = {}
    for name in sorted(features_by_source):
        for index, feature in enumerate(features_by_source[name]):
            members.setdefault((name, feature.group), []).append(index)
    by_source: dict[str, list[tuple[str, int]]] = {}
    for key in members:
        by_source.setdefault(key[0], []).append(key)
    picks: list[tuple[str, int]] = []
    for name in sorted(by_source):
        picks.extend(_weighted_draw(by_source[name], weights[name], rng))
    rng.shuffle(picks)

    def longest(key: tuple[str, int]) -> int:
        return max(len(features_by_source[key[0]][i].input_ids) for i in members[key])

    batches: list[list[tuple[str, int]]] = []
    span = batch_size * bucket_batches
    for offset in range(0, len(picks), span):
        current: list[tuple[str, int]] = []
        for key in sorted(picks[offset : offset + span], key=longest):
            windows = [(key[0], i) for i in members[key][:batch_size]]
            if len(current) + len(windows) > batch_size:
                batches.append(current)
                current = []
            current.extend(windows)
        if current:
            batches.append(current)
    rng.shuffle(batches)
    return batches
