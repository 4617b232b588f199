"""Calibrated answer scores: features of each answer candidate, a small logistic regression over them
(numpy only) and the "not found" threshold, so the number on screen is the probability the answer is right.

"Right" means the answer shares at least half its words with a correct answer (SQuAD token F1 >= 0.5).
The coefficients live in the model folder's manifest.json (`calibration`), fitted by
`python -m qa_reader.training calibrate MODEL_DIR` on held-out training articles asked as whole documents.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from qa_reader.search import STOPWORDS
from qa_reader.squad import normalize_answer

RIGHT_F1 = 0.5  # an answer with at least this token F1 against a gold answer counts as right

# Every feature the engine can compute for a candidate; a calibrator uses those its manifest names.
FEATURES: tuple[str, ...] = (
    "log_probability",  # log of the span's probability in its window
    "log_probability_gap",  # log probability minus the question's best candidate's (<= 0)
    "null_probability",  # the window's [CLS] ("not in this passage") probability
    "bm25",  # BM25 of the span's passage / log(1 + passages in the library) (0: shares no content word)
    "bm25_gap",  # its passage's (scaled) BM25 minus the question's best passage's (<= 0)
    "bm25_rank",  # log(1 + rank of the passage among the question's passages by BM25), 0 for the best
    "words",  # log(1 + words in the span)
    "repeats",  # log(1 + other candidates, at other places, with the same normalised text)
    "question_overlap",  # share of the span's content words that are in the question
    "heading",  # the span's line looks like a heading (short, no sentence punctuation)
    "contents",  # the span's line or passage looks like a table of contents (dot leaders)
    "table",  # the span's line looks like a table row (mostly numbers, or cells apart by wide gaps)
    "function_words",  # share of the span's line's words that are function words: low in glossaries and lists
    "type_match",  # the question asks for a number / date / name and the span is one
    "type_mismatch",  # the question asks for a number / date / name and the span is not one
    "span_logit",  # start + end logit before the window's softmax (a reader trained with shared normalisation)
    "span_logit_gap",  # span_logit minus the question's best candidate's (<= 0)
    # The same for every candidate of a question: they move "not found", not the order.
    "null_min",  # the smallest [CLS] probability among the question's windows: some passage holds an answer
    "best_log_probability",  # the question's best candidate's log probability
)
QUESTION_LEVEL_FEATURES = ("null_min", "best_log_probability")

# What a candidate's features can be before its passage is read (`Calibrator.passage_bounds`): a passage's own,
# known from search, and each span feature's range. Every other feature depends on the question's other
# candidates (gaps, repeats, the question-level ones) or has no upper end (words, span_logit).
PASSAGE_FEATURES = ("bm25", "bm25_rank")
SMALLEST_PROBABILITY = 1e-12  # log_probability's floor
SPAN_FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "log_probability": (math.log(SMALLEST_PROBABILITY), 0.0),
    "null_probability": (0.0, 1.0),
    "question_overlap": (0.0, 1.0),
    "heading": (0.0, 1.0),
    "contents": (0.0, 1.0),
    "table": (0.0, 1.0),
    "function_words": (0.0, 1.0),
    "type_match": (0.0, 1.0),
    "type_mismatch": (0.0, 1.0),
}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_YEAR_OR_DATE = re.compile(
    r"\b(1\d{3}|20\d{2}|\d{1,2}(st|nd|rd|th)|\d+s|century|centuries|decade|january|february|march|april|may|"
    r"june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|spring|summer|autumn|fall|winter|bc|ad|ago|year|years)\b",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|half|several)\b",
    re.IGNORECASE,
)
_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}|(?:·\s?){4,}")
_WIDE_GAP = re.compile(r"\S(?: {2,}|\t)\S")
_NUMBER_QUESTION = re.compile(
    r"\bhow (many|much|long|old|far|large|big|tall|high|fast|often|deep|wide|heavy)\b|\bwhat (percentage|percent|"
    r"number|amount)\b",
    re.IGNORECASE,
)
_DATE_QUESTION = re.compile(
    r"\bwhen\b|\b(what|which|in what) (year|years|century|decade|date|day|month|era|period|time)\b", re.IGNORECASE
)
_NAME_QUESTION = re.compile(r"\b(who|whom|whose)\b", re.IGNORECASE)


def question_type(question: str) -> str:
    """What kind of answer a question asks for: "number", "date", "name" or "" (anything)."""
    if _NUMBER_QUESTION.search(question):
        return "number"
    if _DATE_QUESTION.search(question):
        return "date"
    if _NAME_QUESTION.search(question):
        return "name"
    return ""


def fits_type(kind: str, text: str) -> bool:
    """Whether an answer text is of the kind a question asks for (always True for "")."""
    if kind == "number":
        return bool(_DIGIT.search(text) or _NUMBER_WORD.search(text))
    if kind == "date":
        return bool(_YEAR_OR_DATE.search(text) or _DIGIT.search(text))
    if kind == "name":
        return any(word[:1].isupper() for word in text.split()) and not _DIGIT.search(text)
    return True


def looks_like_heading(line: str) -> bool:
    """A short line without sentence punctuation ("4.2 Recovery Time Objective")."""
    stripped = line.strip()
    words = stripped.split()
    return 0 < len(words) <= 10 and stripped[-1] not in '.?!:;,"”)' and len(stripped) <= 90


def looks_like_table_row(line: str) -> bool:
    """A line of cells: wide gaps between three or more cells, or mostly numbers."""
    tokens = line.split()
    if len(tokens) < 3:
        return False
    if len(_WIDE_GAP.findall(line)) >= 2:
        return True
    numeric = sum(1 for token in tokens if _DIGIT.search(token))
    return numeric / len(tokens) >= 0.5


def function_word_share(line: str) -> float:
    """Share of a line's words that are function words ("the", "of", "is"): about 0.4 in prose, near 0 in
    a glossary, an index or a list of names run together (what PDFs' acronym tables become as text)."""
    words = [w.lower() for w in _WORD.findall(line)]
    return sum(w in STOPWORDS for w in words) / len(words) if words else 0.0


def content_words(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    return [w for w in words if w not in STOPWORDS]


@dataclass(frozen=True)
class SpanEvidence:
    """What the engine knows about one answer candidate before it is scored."""

    text: str
    probability: float
    null_probability: float
    relevance: float  # BM25 of the span's passage / log(1 + library passages) (0: no content word shared)
    relevance_rank: int  # the passage's rank among the question's passages by BM25, 0 = best
    line: str  # the line of the passage the span sits in
    in_contents: bool = False  # the passage was stored as a table of contents
    logit: float = 0.0  # start + end logit before the window's softmax


# Features computed from numbers alone: cheap for the hundreds of spans a question over a long PDF has.
NUMERIC_FEATURES = frozenset(
    {
        "log_probability",
        "log_probability_gap",
        "null_probability",
        "bm25",
        "bm25_gap",
        "bm25_rank",
        "words",
        "span_logit",
        "span_logit_gap",
        "null_min",
        "best_log_probability",
    }
)


def question_level_features(rows: np.ndarray, asks: np.ndarray) -> None:
    """Fill QUESTION_LEVEL_FEATURES in a FEATURES-ordered matrix, in place, from its other columns: over the
    candidates that share an entry of `asks` (one question asked once), the smallest null probability and
    the largest log probability."""
    if not len(rows):
        return
    count = int(asks.max()) + 1
    smallest = np.full(count, np.inf)
    largest = np.full(count, -np.inf)
    np.minimum.at(smallest, asks, rows[:, FEATURES.index("null_probability")])
    np.maximum.at(largest, asks, rows[:, FEATURES.index("log_probability")])
    rows[:, FEATURES.index("null_min")] = smallest[asks]
    rows[:, FEATURES.index("best_log_probability")] = largest[asks]


def feature_matrix(
    question: str, evidence: Sequence[SpanEvidence], needed: Collection[str] | None = None
) -> np.ndarray:
    """(len(evidence), len(FEATURES)) float64 matrix of every candidate's features, in FEATURES order.

    With `needed`, the text features (repeats, question overlap, line shapes and words, answer type) are computed
    only when named there, and are 0 otherwise: the engine asks only for its calibration's features.
    """
    rows = np.zeros((len(evidence), len(FEATURES)), dtype=np.float64)
    if not evidence:
        return rows
    column = {name: index for index, name in enumerate(FEATURES)}
    log_probabilities = np.log(np.maximum([e.probability for e in evidence], SMALLEST_PROBABILITY))
    relevance = np.asarray([e.relevance for e in evidence])
    rows[:, column["log_probability"]] = log_probabilities
    rows[:, column["log_probability_gap"]] = log_probabilities - log_probabilities.max()
    rows[:, column["null_probability"]] = [e.null_probability for e in evidence]
    rows[:, column["bm25"]] = relevance
    rows[:, column["bm25_gap"]] = relevance - relevance.max()
    rows[:, column["bm25_rank"]] = np.log1p([e.relevance_rank for e in evidence])
    rows[:, column["words"]] = np.log1p([len(e.text.split()) for e in evidence])
    logits = np.asarray([e.logit for e in evidence], dtype=np.float64)
    rows[:, column["span_logit"]] = logits
    rows[:, column["span_logit_gap"]] = logits - logits.max()
    question_level_features(rows, np.zeros(len(evidence), dtype=np.int64))
    wanted = set(FEATURES if needed is None else needed) - NUMERIC_FEATURES
    if not wanted:
        return rows
    kind = question_type(question)
    asked = set(content_words(question))
    keys = [normalize_answer(e.text) for e in evidence] if "repeats" in wanted else []
    counts = Counter(keys)
    line_flags: dict[str, tuple[bool, bool, bool, float]] = {}
    for i, item in enumerate(evidence):
        row = rows[i]
        if keys:
            row[column["repeats"]] = math.log1p(counts[keys[i]] - 1)
        if "question_overlap" in wanted:
            words = content_words(item.text)
            if words:
                row[column["question_overlap"]] = sum(w in asked for w in words) / len(words)
        if wanted & {"heading", "contents", "table", "function_words"}:
            if item.line not in line_flags:  # many candidates share a line (a SQuAD paragraph is one line)
                line_flags[item.line] = (
                    looks_like_heading(item.line),
                    bool(_LEADER.search(item.line)),
                    looks_like_table_row(item.line),
                    function_word_share(item.line),
                )
            heading, leaders, table, function_words = line_flags[item.line]
            row[column["heading"]] = float(heading)
            row[column["contents"]] = float(item.in_contents or leaders)
            row[column["table"]] = float(table)
            row[column["function_words"]] = function_words
        if kind and wanted & {"type_match", "type_mismatch"}:
            fits = fits_type(kind, item.text)
            row[column["type_match"]] = float(fits)
            row[column["type_mismatch"]] = float(not fits)
    return rows


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * values))


def question_best_and_share(r: np.ndarray, questions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the best ranking logit of its question, and its share of them all, r minus the log-sum-exp of
    its question's r (`questions`: each row's question index; None: every row is of one question)."""
    questions = np.zeros(len(r), dtype=np.int64) if questions is None else questions
    count = int(questions.max()) + 1 if len(r) else 0
    best = np.full(count, -np.inf)
    np.maximum.at(best, questions, r)
    total = np.zeros(count)
    np.add.at(total, questions, np.exp(r - best[questions]))
    return best[questions], r - best[questions] - np.log(total[questions])


@dataclass(frozen=True)
class Calibrator:
    """Small logistic models from a question's candidates to the probability that each is right, and to
    whether the question counts as answered.

    The ranking model gives every candidate a logit r from its features (fitted on all candidates). The
    display model turns it into the probability shown, sigmoid(slope·r + gap_slope·(r - best r of the
    question) + share_slope·(r - log Σ exp r over the question's candidates) + bias + top_bias·[r is the
    best]), fitted on the first answers listed for each question asked of a document that answers it, where
    the winner's curse would otherwise make the top answer's number too low or too high. The share term is
    the answer's share of all its question's candidates: an answer far ahead of every other is more often
    right than one among many close ones at the same r. slope + gap_slope + share_slope > 0 and
    top_bias >= 0, so the list ordered by the probability shown is ordered by r.

    With `best_display` (slope, share_slope, bias), the question's best answer has a display model of its
    own, sigmoid(slope·r + share_slope·(r - log Σ exp r) + bias), fitted on the best answers alone, and
    every alternative shows the shared model's number, kept below the best answer's: one curve fitted on
    the first five listed fits neither the first nor the rest as well as two (see `training.calibrate`).

    The support model, sigmoid(support_slope·r + support_bias), decides "not found": a question counts as
    answered when its best answer's support reaches `threshold`, and so does each alternative. It leaves the
    share out because a question the documents do not answer often has one confident wrong answer far ahead
    of the rest. A manifest without it (support_slope 0) compares the number shown instead.
    """

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    intercept: float
    slope: float = 1.0
    gap_slope: float = 0.0
    bias: float = 0.0
    threshold: float = 0.0
    top_bias: float = 0.0  # added to the logit of the question's best answer (>= 0: the order is kept)
    share_slope: float = 0.0
    support_slope: float = 0.0  # 0: no support model, the threshold applies to the number shown
    support_bias: float = 0.0
    best_display: tuple[float, float, float] | None = None  # the best answer's own (slope, share_slope, bias)

    def ranking(self, matrix: np.ndarray) -> np.ndarray:
        """The ranking logit r of each row of a FEATURES-ordered matrix (from `feature_matrix`)."""
        if matrix.shape[0] == 0:
            return np.zeros(0)
        columns = [FEATURES.index(name) for name in self.features]
        standard = (matrix[:, columns] - self.mean) / self.scale
        return standard @ self.coefficients + self.intercept

    def passage_bounds(self, bm25: np.ndarray, bm25_rank: np.ndarray) -> np.ndarray | None:
        """The highest ranking logit any candidate of each passage can get, before the passage is read: from
        the passages' PASSAGE_FEATURES (`bm25`, `bm25_rank`, as `feature_matrix` computes them) and the range
        of each span feature. None when this calibration uses a feature without such a bound (see
        SPAN_FEATURE_RANGES)."""
        known = {
            name: np.asarray(values, dtype=np.float64) for name, values in zip(PASSAGE_FEATURES, (bm25, bm25_rank))
        }
        total = np.full(len(known["bm25"]), float(self.intercept))
        for name, coefficient, mean, scale in zip(self.features, self.coefficients, self.mean, self.scale):
            if name in known:
                total += coefficient * (known[name] - mean) / scale
            elif name in SPAN_FEATURE_RANGES:
                total += max(coefficient * (value - mean) / scale for value in SPAN_FEATURE_RANGES[name])
            else:
                return None
        return total

    def probabilities(self, matrix: np.ndarray, questions: np.ndarray | None = None) -> np.ndarray:
        """P(right) of each row of a FEATURES-ordered matrix: the candidates of one question, or of several
        with `questions` giving each row's question (its index, from 0)."""
        return self._shown(self.ranking(matrix), questions)

    def supports(self, matrix: np.ndarray, questions: np.ndarray | None = None) -> np.ndarray:
        """The support of each row (as `probabilities`), which the threshold is compared with: the
        probability shown when this calibration has no support model."""
        return self.scores(matrix, questions)[1]

    def scores(
        self, matrix: np.ndarray, questions: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probabilities, supports, ranking logits) of the rows (as `probabilities` and `supports`), from one
        ranking of the matrix. Order a list by the ranking: alternatives kept below a best answer's number
        may tie with each other."""
        r = self.ranking(matrix)
        shown = self._shown(r, questions)
        if self.support_slope <= 0:
            return shown, shown, r
        return shown, _sigmoid(self.support_slope * r + self.support_bias), r

    def _shown(self, r: np.ndarray, questions: np.ndarray | None) -> np.ndarray:
        if r.size == 0:
            return r
        best, share = question_best_and_share(r, questions)
        logit = self.slope * r + self.gap_slope * (r - best) + self.share_slope * share + self.bias
        shown = _sigmoid(logit + self.top_bias * (r >= best))
        if self.best_display is None:
            return shown
        slope, share_slope, bias = self.best_display
        log_sum = r - share  # each row's question's log Σ exp r
        first = _sigmoid(slope * best + share_slope * (best - log_sum) + bias)  # the best answer's number
        return np.where(r >= best, first, np.minimum(shown, np.nextafter(first, 0.0)))

    def to_manifest(self) -> dict:
        """The JSON-ready form stored under the manifest's "calibration" key (with the fit's notes)."""
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coefficients": [round(float(v), 6) for v in self.coefficients],
            "intercept": round(float(self.intercept), 6),
            "slope": round(float(self.slope), 6),
            "gap_slope": round(float(self.gap_slope), 6),
            "bias": round(float(self.bias), 6),
            "threshold": round(float(self.threshold), 4),
            "top_bias": round(float(self.top_bias), 6),
            "share_slope": round(float(self.share_slope), 6),
            "support_slope": round(float(self.support_slope), 6),
            "support_bias": round(float(self.support_bias), 6),
            **(
                {"best_display": [round(float(value), 6) for value in self.best_display]}
                if self.best_display is not None
                else {}
            ),
        }

    @classmethod
    def from_manifest(cls, entry: dict) -> Calibrator:
        """Read a manifest's "calibration" entry; raises ValueError when it is malformed or names a
        feature this version does not compute."""
        features = tuple(str(name) for name in entry["features"])
        unknown = [name for name in features if name not in FEATURES]
        if unknown:
            raise ValueError(f"unknown calibration features {unknown}")
        arrays = [np.asarray(entry[key], dtype=np.float64) for key in ("mean", "scale", "coefficients")]
        if any(array.shape != (len(features),) for array in arrays):
            raise ValueError("calibration arrays do not match its feature list")
        if np.any(arrays[1] <= 0):
            raise ValueError("calibration scales must be positive")
        slope, gap_slope = float(entry.get("slope", 1.0)), float(entry.get("gap_slope", 0.0))
        top_bias, share_slope = float(entry.get("top_bias", 0.0)), float(entry.get("share_slope", 0.0))
        if slope + gap_slope + share_slope <= 0 or top_bias < 0:
            raise ValueError(
                "the display model must keep the ranking's order (slope + gap_slope + share_slope > 0, top_bias >= 0)"
            )
        support_slope = float(entry.get("support_slope", 0.0))
        if support_slope < 0:
            raise ValueError("the support model must rise with the ranking (support_slope >= 0)")
        best_display = entry.get("best_display")
        if best_display is not None:
            best_display = tuple(float(value) for value in best_display)
            if len(best_display) != 3:
                raise ValueError("best_display holds (slope, share_slope, bias)")
        return cls(
            features,
            *arrays,
            float(entry["intercept"]),
            slope,
            gap_slope,
            float(entry.get("bias", 0.0)),
            float(entry["threshold"]),
            top_bias,
            share_slope,
            support_slope,
            float(entry.get("support_bias", 0.0)),
            best_display,
        )


def _newton_logistic(x: np.ndarray, y: np.ndarray, l2: float, iterations: int = 50) -> np.ndarray:
    """Weights [intercept, w...] maximising the L2-penalised (not the intercept) log likelihood."""
    design = np.hstack([np.ones((len(x), 1)), x])
    weights = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = _sigmoid(design @ weights)
        gradient = design.T @ (p - y) + penalty * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(len(weights))
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return weights


def fit_logistic(
    matrix: np.ndarray,
    labels: np.ndarray,
    features: Sequence[str] = FEATURES,
    l2: float = 1.0,
) -> Calibrator:
    """Fit the ranking model P(label | features) by Newton's method on standardised features with an L2
    penalty of `l2`. `matrix` is FEATURES-ordered; the display model is the identity and the threshold 0."""
    columns = [FEATURES.index(name) for name in features]
    x = matrix[:, columns].astype(np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a constant feature stays at 0 after standardising
    weights = _newton_logistic((x - mean) / scale, labels.astype(np.float64), l2)
    return Calibrator(tuple(features), mean, scale, weights[1:], float(weights[0]))


def fit_display(ranking: np.ndarray, best_in_question: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """(slope, gap_slope, bias) of the display model on some candidates' ranking logits, the best logit
    of each one's question and whether each is right; without the gap term when it would reverse the order."""
    gap = ranking - best_in_question
    weights = _newton_logistic(np.column_stack([ranking, gap]), labels.astype(np.float64), l2=1e-3)
    bias, slope, gap_slope = (float(w) for w in weights)
    if slope + gap_slope <= 0.05:
        bias, slope = (float(w) for w in _newton_logistic(ranking[:, None], labels.astype(np.float64), l2=1e-3))
        gap_slope = 0.0
    return max(slope, 1e-3), gap_slope, bias


def fit_listed_display(
    ranking: np.ndarray, best_in_question: np.ndarray, labels: np.ndarray
) -> tuple[float, float, float, float]:
    """(slope, gap_slope, bias, top_bias) of the display model on the answers listed for some questions:
    `fit_display` plus an intercept of the best answer's own, so that the first answer's number and the
    alternatives' are each calibrated (one line through both puts the first too low or too high). Without
    the top term when it would come out negative (it could then reorder the list)."""
    gap = ranking - best_in_question
    top = (ranking >= best_in_question).astype(np.float64)
    weights = _newton_logistic(np.column_stack([ranking, gap, top]), labels.astype(np.float64), l2=1e-3)
    bias, slope, gap_slope, top_bias = (float(w) for w in weights)
    if slope + gap_slope <= 0.05 or top_bias < 0:
        return (*fit_display(ranking, best_in_question, labels), 0.0)
    return max(slope, 1e-3), gap_slope, bias, top_bias


def fit_share_display(
    ranking: np.ndarray, best_in_question: np.ndarray, share: np.ndarray, labels: np.ndarray
) -> tuple[float, float, float, float, float]:
    """(slope, gap_slope, share_slope, bias, top_bias) of the display model with the share term (`share`:
    each candidate's r minus the log-sum-exp of its question's r), on the answers listed for some questions;
    `fit_listed_display` without it (share_slope 0) when a term would come out reversing the order."""
    gap = ranking - best_in_question
    top = (ranking >= best_in_question).astype(np.float64)
    if top.all():  # the best answers only: the gap is 0 and the top term the intercept
        bias, slope, share_slope = (
            float(w) for w in _newton_logistic(np.column_stack([ranking, share]), labels.astype(np.float64), 1e-3)
        )
        gap_slope = top_bias = 0.0
    else:
        weights = _newton_logistic(np.column_stack([ranking, gap, share, top]), labels.astype(np.float64), l2=1e-3)
        bias, slope, gap_slope, share_slope, top_bias = (float(w) for w in weights)
    if slope + gap_slope + share_slope <= 0.05 or top_bias < 0:
        slope, gap_slope, bias, top_bias = fit_listed_display(ranking, best_in_question, labels)
        return slope, gap_slope, 0.0, bias, top_bias
    return slope, gap_slope, share_slope, bias, top_bias


def fit_support(ranking: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(support_slope, support_bias): P(right) of questions' best answers from their ranking logit alone.
    The slope is kept positive (a support that fell as the ranking rose would refuse the best answers)."""
    bias, slope = (float(w) for w in _newton_logistic(ranking[:, None], labels.astype(np.float64), l2=1e-3))
    return max(slope, 1e-3), bias


@dataclass(frozen=True)
class ThresholdChoice:
    """The "not found" threshold and what it gives on the questions it was chosen on."""

    threshold: float
    expected_f1: float  # mix-weighted: answerable F1 (a refusal scores 0) and unanswerable refusals
    answerable_f1: float  # F1 on answerable questions with refusals
    answerable_f1_never_refusing: float
    refused: float  # share of unanswerable questions refused


def choose_threshold(
    answerable_scores: np.ndarray,
    answerable_f1: np.ndarray,
    unanswerable_scores: np.ndarray,
    answerable_share: float,
    unanswerable_weights: np.ndarray | None = None,
) -> ThresholdChoice:
    """The best answer's score below which to say "not found", maximising expected F1 over a mix of
    `answerable_share` answerable questions (F1 of the best answer, 0 when refused) and the rest
    unanswerable (1 when refused, 0 when answered; weighted by `unanswerable_weights`, equal by default)."""
    if unanswerable_weights is None:
        unanswerable_weights = np.ones(unanswerable_scores.shape)
    unanswerable_weights = unanswerable_weights / max(float(unanswerable_weights.sum()), 1e-12)
    candidates = np.unique(np.concatenate(([0.0], answerable_scores, unanswerable_scores, [1.0 + 1e-9])))
    best: ThresholdChoice | None = None
    never = float(answerable_f1.mean()) if answerable_f1.size else 0.0
    for threshold in candidates:
        f1 = float(np.where(answerable_scores >= threshold, answerable_f1, 0.0).mean()) if answerable_f1.size else 0.0
        refused = float(unanswerable_weights[unanswerable_scores < threshold].sum())
        expected = answerable_share * f1 + (1 - answerable_share) * refused
        if best is None or expected > best.expected_f1 + 1e-12:
            best = ThresholdChoice(float(threshold), expected, f1, never, refused)
    assert best is not None
    return best


def expected_calibration_error(scores: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Mean |predicted - observed accuracy| over `bins` equal-width score bins, weighted by bin size."""
    if scores.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(float(scores[inside].mean()) - float(right[inside].mean()))
    return error


def reliability_bins(scores: np.ndarray, right: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted, observed accuracy, count) for each non-empty equal-width score bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    result = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            result.append((float(scores[inside].mean()), float(right[inside].mean()), int(inside.sum())))
    return result
