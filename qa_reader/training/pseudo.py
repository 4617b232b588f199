"""Silver labels for the unlabeled, back-translated SQuAD 2.0 train questions: answerable and unanswerable.

Each paragraph of that file lists the character ranges that carried an answer colour ("marked ranges":
the answers of its answerable questions and the plausible answers of its unanswerable ones, edges
blurred by the translation), but not which range answers which question, nor which questions have no
answer. Two facts settle most of it:

1. SQuAD 2.0 lists a paragraph's answerable questions first and its unanswerable ones after them, so each
   paragraph has one split point. The teacher's evidence for each question, log p(best span) −
   log p([CLS]), is modelled as one Gaussian for answerable and one for unanswerable questions with a
   prior on how many questions of a paragraph are unanswerable (none allowed); all of it is fitted by EM
   on the unlabeled file itself, and each paragraph takes its most likely split. No threshold is tuned.
2. Every question's answer is one of the marked ranges. The teacher's span probabilities, summed per
   range, say which; the ranges are then shared out jointly across the paragraph's questions (balanced
   so that a range one question explains far better is not also handed to a weaker claimant that has a
   range of its own), and the label is the teacher's best span inside the chosen range.

Unanswerable questions are labelled with [CLS] (no answers). `check_labels` measures the assignment on a
training-side set with gold answers (SQuADShifts) and the split on the SQuAD 2.0 dev set, with the
split model fitted on the unlabeled train questions only: the dev set is measured, never fitted.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qa_reader import squad
from qa_reader.config import Settings
from qa_reader.reader.build import Reader, build_reader
from qa_reader.reader.predict import ContextSpan, ReadRequest
from qa_reader.training.data import SILVER_SOURCE, SOURCES, default_train_dir, split_held_out

UNLABELED = (
    default_train_dir().parent / "unlabeled" / "squad2-train-backtranslated-en" / "squad2-train-backtranslated-en.json"
)
DEV_V2 = default_train_dir().parent / "squad-v2.0" / "dev-v2.0.reconstructed-from-squad-explorer.json"
_EDGE_CHARACTERS = " \t\n,.;:!?\"'()[]"
_FLOOR = 1e-12
# Labelling shares two cores with training and evaluation: one onnxruntime thread wastes none of them
# spinning while it waits for the other (measured: 2 threads under load read 5 questions/s). On an idle
# machine `pseudo-label --threads 2` reads 25 questions/s against 10.
TEACHER_THREADS = 1


@dataclass(frozen=True)
class UnlabeledQuestion:
    id: str
    question: str
    context: str
    marked: tuple[tuple[int, int], ...]  # candidate answer ranges of the paragraph, [start, end)
    title: str = ""
    paragraph: int = 0  # index of the paragraph in the file (questions of one paragraph are in file order)


@dataclass(frozen=True)
class TeacherRead:
    """What the teacher says about one question over its paragraph (all a label needs; cacheable)."""

    best_probability: float
    null_probability: float
    range_mass: tuple[float, ...]  # summed probability of the spans overlapping each marked range
    range_best: tuple[tuple[int, int, float], ...]  # best span inside each range (start, end, p); p=0 if none
    best_span: tuple[int, int] = (0, 0)

    @property
    def evidence(self) -> float:
        """log p(best span) − log p([CLS]): how much more the teacher believes in an answer than in none."""
        return math.log(max(self.best_probability, _FLOOR)) - math.log(max(self.null_probability, _FLOOR))


@dataclass(frozen=True)
class SilverLabel:
    char_start: int
    char_end: int
    probability: float  # the teacher's probability of this exact span
    share: float  # the question's share of the chosen range after joint assignment
    marked_start: int  # the chosen marked range
    marked_end: int


def trim_range(text: str, start: int, end: int) -> tuple[int, int]:
    """The range without surrounding spaces and punctuation (colours often run into the next space)."""
    while start < end and text[start] in _EDGE_CHARACTERS:
        start += 1
    while end > start and text[end - 1] in _EDGE_CHARACTERS:
        end -= 1
    return start, end


def load_unlabeled(path: Path = UNLABELED) -> list[UnlabeledQuestion]:
    """Every question of the unlabeled file, in file order, with its paragraph's marked ranges."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    questions = []
    paragraph_index = 0
    for article in payload["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            marked = {trim_range(context, m["start"], m["end"]) for m in paragraph.get("marked_spans", [])}
            ranges = tuple(sorted(r for r in marked if r[0] < r[1]))
            for qa in paragraph["qas"]:
                questions.append(
                    UnlabeledQuestion(
                        str(qa["id"]), qa["question"], context, ranges, article.get("title", ""), paragraph_index
                    )
                )
            paragraph_index += 1
    return questions


def as_unlabeled(questions: Sequence[squad.Question]) -> list[UnlabeledQuestion]:
    """A labelled file in the unlabeled file's shape: the first answer of every question (answerable or, in
    SQuAD 2.0 style files, none) becomes a marked range of its paragraph, as the colours did."""
    by_paragraph: dict[int, set[tuple[int, int]]] = {}
    for q in questions:
        ranges = by_paragraph.setdefault(q.paragraph_index, set())
        if q.answers:
            ranges.add((q.answer_starts[0], q.answer_starts[0] + len(q.answers[0])))
    return [
        UnlabeledQuestion(
            q.id, q.question, q.context, tuple(sorted(by_paragraph[q.paragraph_index])), q.title, q.paragraph_index
        )
        for q in questions
    ]


def summarise(spans: Sequence[ContextSpan], marked: Sequence[tuple[int, int]]) -> TeacherRead:
    """Reduce the teacher's candidate spans (best first) for one question to a TeacherRead."""
    mass = [0.0] * len(marked)
    best_inside: list[tuple[int, int, float]] = [(start, start, 0.0) for start, _ in marked]
    for span in spans:
        for index, (start, end) in enumerate(marked):
            if span.char_start < end and start < span.char_end:
                mass[index] += span.probability
                if start <= span.char_start and span.char_end <= end and span.probability > best_inside[index][2]:
                    best_inside[index] = (span.char_start, span.char_end, span.probability)
    best = spans[0] if spans else None
    return TeacherRead(
        best_probability=best.probability if best else 0.0,
        null_probability=spans[0].null_probability if spans else 1.0,
        range_mass=tuple(mass),
        range_best=tuple(best_inside),
        best_span=(best.char_start, best.char_end) if best else (0, 0),
    )


def teacher_reads(
    reader: Reader,
    questions: Sequence[UnlabeledQuestion],
    chunk: int = 256,
    progress: bool = True,
    on_chunk: Callable[[Sequence[UnlabeledQuestion], list[TeacherRead]], None] | None = None,
) -> list[TeacherRead]:
    """The teacher's reading of every question over its paragraph (`on_chunk` sees each chunk as it is done)."""
    results: list[TeacherRead] = []
    started = time.monotonic()
    limit_tokens = reader.maker.settings.max_question_tokens
    for offset in range(0, len(questions), chunk):
        part = questions[offset : offset + chunk]
        contexts = sorted({q.context for q in part})
        tokenized = dict(zip(contexts, reader.maker.tokenize(contexts)))
        ids = reader.maker.tokenize([q.question for q in part])
        requests = [ReadRequest(i.ids[:limit_tokens], [tokenized[q.context]]) for q, i in zip(part, ids)]
        spans = reader.read(requests, n_best=40)
        reads = [summarise(s, q.marked) for q, s in zip(part, spans)]
        results.extend(reads)
        if on_chunk is not None:
            on_chunk(part, reads)
        if progress and (offset // chunk) % 20 == 0:
            done = offset + len(part)
            print(f"{done}/{len(questions)} read, {done / (time.monotonic() - started):.0f} q/s", flush=True)
    return results


def cached_teacher_reads(
    model_dir: Path, questions: Sequence[UnlabeledQuestion], cache: Path | None, threads: int | None = None
) -> list[TeacherRead]:
    """`teacher_reads`, kept in `cache` (JSON lines keyed by question id and model, appended chunk by chunk,
    so an interrupted run resumes) so relabelling with another rule does not read everything again."""
    model_key = str(Path(model_dir).resolve())
    stored: dict[str, TeacherRead] = {}
    if cache is not None and cache.exists():
        for line in cache.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interrupted write
            if row["model"] == model_key:
                read = row["read"]
                stored[row["id"]] = TeacherRead(
                    read["best_probability"],
                    read["null_probability"],
                    tuple(read["range_mass"]),
                    tuple(tuple(x) for x in read["range_best"]),
                    tuple(read["best_span"]),
                )
    missing = [q for q in questions if q.id not in stored]

    def remember(part: Sequence[UnlabeledQuestion], reads: list[TeacherRead]) -> None:
        stored.update((q.id, read) for q, read in zip(part, reads))
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with open(cache, "a") as handle:
                for q, read in zip(part, reads):
                    handle.write(json.dumps({"id": q.id, "model": model_key, "read": asdict(read)}) + "\n")

    if missing:
        teacher_reads(build_reader(model_dir, Settings(threads=threads or TEACHER_THREADS)), missing, on_chunk=remember)
    return [stored[q.id] for q in questions]


# --- the split between answerable and unanswerable questions -------------------------------------------


@dataclass
class SplitModel:
    """A generative model of the teacher's evidence in a paragraph's question order.

    Evidence = the paragraph's own level + N(mean_answerable, sd_answerable²) before its split and
    + N(mean_unanswerable, sd_unanswerable²) after it. The level, N(0, sd_level²), is shared by the
    questions of one paragraph: a long or hard paragraph lowers the teacher's confidence for every one
    of its questions, and only a drop *within* the paragraph is a sign of unanswerable questions. An
    article either has unanswerable questions (probability `article_share`) or none at all; in one that
    has, `prior[u]` is the probability that a paragraph ends in u unanswerable questions. Everything is
    fitted by EM on unlabeled questions (`fit_split`); nothing is set by hand.
    """

    mean_answerable: float
    sd_answerable: float
    mean_unanswerable: float
    sd_unanswerable: float
    prior: list[float] = field(default_factory=list)
    article_share: float = 0.5
    sd_level: float = 0.0
    tilt: float = 0.0  # log-odds added per unanswerable question so the expected share meets a known one
    iterations: int = 0

    def log_priors(self, questions: int) -> np.ndarray:
        """log P(split = k | n questions) for k = 0..n, in an article with unanswerable questions."""
        values = np.array(
            [
                self.prior[questions - k] * math.exp(self.tilt * (questions - k))
                if questions - k < len(self.prior)
                else 0.0
                for k in range(questions + 1)
            ]
        )
        total = values.sum()
        if total <= 0:
            return np.zeros(questions + 1)
        return np.log(np.maximum(values / total, _FLOOR))

    def likelihoods(self, evidence: np.ndarray) -> _SplitTerms:
        """The evidence's log-likelihood for every split k of paragraphs of equal length n (rows of
        `evidence`, shape (P, n)), with the paragraph level integrated out."""
        rows, n = evidence.shape
        before = np.tri(n + 1, n, k=-1, dtype=bool)  # [k, i]: question i is before split k
        mean = np.where(before, self.mean_answerable, self.mean_unanswerable)
        variance = np.where(before, self.sd_answerable**2, self.sd_unanswerable**2)
        weight = 1.0 / variance
        residual = evidence[:, None, :] - mean[None]
        total_weight = weight.sum(-1)  # (n+1,)
        weighted = (weight * residual).sum(-1)  # (P, n+1)
        squares = (weight * residual * residual).sum(-1)
        level = self.sd_level**2
        quadratic = squares - level * weighted**2 / (1.0 + level * total_weight)
        log_det = np.log(variance).sum(-1) + np.log1p(level * total_weight)
        log_likelihood = -0.5 * (quadratic + log_det + n * math.log(2 * math.pi))
        precision = (1.0 / level if level > 0 else np.inf) + total_weight
        return _SplitTerms(log_likelihood, weighted / precision, 1.0 / precision)

    def split_scores(self, evidence: np.ndarray) -> np.ndarray:
        """log p(evidence, split = k) for k = 0..n of one paragraph in an article with unanswerable questions."""
        return self.likelihoods(evidence[None]).log_likelihood[0] + self.log_priors(len(evidence))

    def all_answerable(self, evidence: np.ndarray) -> float:
        """log p(evidence) of one paragraph in an article without unanswerable questions."""
        return float(self.likelihoods(evidence[None]).log_likelihood[0, -1])


@dataclass(frozen=True)
class _SplitTerms:
    log_likelihood: np.ndarray  # (P, n+1)
    level_mean: np.ndarray  # (P, n+1): posterior mean of the paragraph level given split k
    level_variance: np.ndarray  # (n+1,): its posterior variance


def _log_sum(values: np.ndarray, axis: int | None = None):
    peak = np.max(values, axis=axis, keepdims=True)
    result = peak + np.log(np.exp(values - peak).sum(axis=axis, keepdims=True))
    return float(result.squeeze()) if axis is None else result.squeeze(axis)


def article_posterior(model: SplitModel, paragraphs: Sequence[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    """(P(the article has unanswerable questions), P(split = k) for each of its paragraphs)."""
    scores = [model.split_scores(e) for e in paragraphs]
    with_some = sum(_log_sum(s) for s in scores) + math.log(max(model.article_share, _FLOOR))
    with_none = sum(float(s[-1] - model.log_priors(len(s) - 1)[-1]) for s in scores)
    with_none += math.log(max(1 - model.article_share, _FLOOR))
    share = 1.0 / (1.0 + math.exp(min(700.0, with_none - with_some)))
    posteriors = []
    for s in scores:
        inside = np.exp(s - _log_sum(s))
        none = np.zeros_like(inside)
        none[-1] = 1.0
        posteriors.append(share * inside + (1 - share) * none)
    return share, posteriors


def unanswerable_posterior(model: SplitModel, evidence: np.ndarray) -> tuple[np.ndarray, int]:
    """(P(question i is unanswerable) for each i, the most likely split) for one paragraph of an article
    known to have unanswerable questions."""
    scores = model.split_scores(evidence)
    posterior = np.exp(scores - _log_sum(scores))
    return np.cumsum(posterior)[: len(evidence)], int(np.argmax(posterior))


# SQuAD 2.0 train holds 86,821 answerable and 43,498 unanswerable questions (Rajpurkar et al., 2018, table 2).
SQUAD2_TRAIN_UNANSWERABLE_SHARE = 43498 / (86821 + 43498)


def fit_split(
    articles: Sequence[Sequence[np.ndarray]],
    iterations: int = 80,
    max_unanswerable: int = 40,
    unanswerable_share: float | None = None,
) -> SplitModel:
    """EM for the split model over the evidence of every article's paragraphs (questions in order).

    With `unanswerable_share` (a known fact about the data, such as SQuAD 2.0 train's published counts),
    the E-step is constrained so that the expected share of unanswerable questions equals it (posterior
    regularisation: a tilt on the number of unanswerable questions, found by bisection) and every article
    is taken to have some; the tilt is kept in the model for the decisions."""
    articles = [[p for p in article if len(p)] for article in articles]
    articles = [article for article in articles if article]
    paragraphs = [p for article in articles for p in article]
    owner = np.array([a for a, article in enumerate(articles) for _ in article])
    everything = np.concatenate(paragraphs)
    spread = float(everything.std()) or 1.0
    centre = float(everything.mean())
    model = SplitModel(
        centre + spread / 2, spread, centre - spread / 2, spread, [1.0] * (max_unanswerable + 1), 0.5, spread / 2
    )
    by_length: dict[int, list[int]] = {}
    for index, evidence in enumerate(paragraphs):
        by_length.setdefault(len(evidence), []).append(index)
    stacked = {n: np.stack([paragraphs[i] for i in members]) for n, members in by_length.items()}
    for iteration in range(iterations):
        terms = {n: model.likelihoods(stacked[n]) for n in stacked}
        if unanswerable_share is not None:
            model.article_share = 1.0
            model.tilt = _tilt_for_share(model, terms, unanswerable_share)
        inside: dict[int, np.ndarray] = {}  # P(split | the article has unanswerable questions), per length group
        with_some = np.zeros(len(articles))
        with_none = np.zeros(len(articles))
        for n, members in by_length.items():
            scores = terms[n].log_likelihood + model.log_priors(n)[None]
            totals = _log_sum(scores, axis=1)
            inside[n] = np.exp(scores - totals[:, None])
            np.add.at(with_some, owner[members], totals)
            np.add.at(with_none, owner[members], terms[n].log_likelihood[:, -1])
        with_some += math.log(max(model.article_share, _FLOOR))
        with_none += math.log(max(1 - model.article_share, _FLOOR))
        share = 1.0 / (1.0 + np.exp(np.minimum(700.0, with_none - with_some)))

        prior = np.full(max_unanswerable + 1, 1e-3)
        sums = {"a": 0.0, "a_count": 0.0, "u": 0.0, "u_count": 0.0, "a_sq": 0.0, "u_sq": 0.0, "level": 0.0}
        for n, members in by_length.items():
            article_share = share[owner[members]][:, None]
            posterior = article_share * inside[n]
            posterior[:, -1] += 1.0 - article_share[:, 0]
            for k in range(n + 1):
                if n - k <= max_unanswerable:
                    prior[n - k] += float((article_share[:, 0] * inside[n][:, k]).sum())
            before = np.tri(n + 1, n, k=-1, dtype=bool)[None]  # (1, n+1, n)
            level_mean = terms[n].level_mean[:, :, None]  # (P, n+1, 1)
            level_variance = terms[n].level_variance[None, :, None]
            centred = stacked[n][:, None, :] - level_mean  # evidence less the paragraph level, per split
            weight = posterior[:, :, None]
            sums["a"] += float((weight * centred * before).sum())
            sums["u"] += float((weight * centred * ~before).sum())
            sums["a_count"] += float((weight * before).sum())
            sums["u_count"] += float((weight * ~before).sum())
            sums["a_sq"] += float((weight * ((centred - model.mean_answerable) ** 2 + level_variance) * before).sum())
            sums["u_sq"] += float(
                (weight * ((centred - model.mean_unanswerable) ** 2 + level_variance) * ~before).sum()
            )
            second = terms[n].level_mean ** 2 + terms[n].level_variance[None]
            sums["level"] += float((posterior * second).sum())
        updated = SplitModel(
            mean_answerable=sums["a"] / max(sums["a_count"], _FLOOR),
            sd_answerable=max(math.sqrt(sums["a_sq"] / max(sums["a_count"], _FLOOR)), 1e-3),
            mean_unanswerable=sums["u"] / max(sums["u_count"], _FLOOR),
            sd_unanswerable=max(math.sqrt(sums["u_sq"] / max(sums["u_count"], _FLOOR)), 1e-3),
            prior=list(prior / prior.sum()),
            article_share=float(share.mean()),
            sd_level=math.sqrt(sums["level"] / len(paragraphs)),
            iterations=iteration + 1,
        )
        if unanswerable_share is not None:
            # The re-estimated prior has absorbed the tilt; the next E-step finds the one still needed.
            updated.article_share = 1.0
        change = (
            abs(updated.mean_answerable - model.mean_answerable)
            + abs(updated.mean_unanswerable - model.mean_unanswerable)
            + abs(updated.sd_level - model.sd_level)
        )
        model = updated
        if change < 1e-4:
            break
    if unanswerable_share is not None:
        model.tilt = _tilt_for_share(model, {n: model.likelihoods(stacked[n]) for n in stacked}, unanswerable_share)
    return model


def _tilt_for_share(model: SplitModel, terms: dict, target: float) -> float:
    """The tilt (with the model's prior otherwise unchanged) at which the expected share of unanswerable
    questions over all paragraphs is `target`."""

    def expected_share(tilt: float) -> float:
        trial = dataclasses.replace(model, tilt=tilt)
        unanswerable = questions = 0.0
        for n, group in terms.items():
            scores = group.log_likelihood + trial.log_priors(n)[None]
            posterior = np.exp(scores - _log_sum(scores, axis=1)[:, None])
            unanswerable += float((posterior * (n - np.arange(n + 1))[None]).sum())
            questions += n * scores.shape[0]
        return unanswerable / questions

    low, high = -30.0, 30.0
    for _ in range(40):
        middle = (low + high) / 2
        if expected_share(middle) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def paragraphs_of(questions: Sequence[UnlabeledQuestion]) -> list[list[int]]:
    """Question indices grouped by paragraph, in file order."""
    groups: OrderedDict[tuple[str, int], list[int]] = OrderedDict()
    for index, q in enumerate(questions):
        groups.setdefault((q.title, q.paragraph), []).append(index)
    return list(groups.values())


# --- which marked range answers which question ----------------------------------------------------------

ASSIGNMENTS = ("independent", "balanced", "cover")


def assign_ranges(mass: np.ndarray, method: str = "cover", rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(chosen range per question, that question's share of it) from the teacher's mass matrix
    [questions × ranges], each question to one range, sharing allowed:

    - "independent": each question its own argmax;
    - "balanced": Sinkhorn scaling towards every range being chosen equally often, so a range that one
      question claims far more strongly stops pulling the others, who move to their next-best range;
    - "cover": every marked range is some question's answer, so a range that too little mass points at
      is scaled up (never down) until it is covered once, pulling the question that explains it best
      away from a range others already hold; crowded ranges are left alone.
    """
    if method not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {method!r}")
    if mass.size == 0:
        return np.zeros(mass.shape[0], dtype=int), np.zeros(mass.shape[0])
    plan = mass / np.maximum(mass.sum(axis=1, keepdims=True), _FLOOR)
    if method != "independent" and mass.shape[1] > 1:
        target = mass.shape[0] / mass.shape[1] if method == "balanced" else min(1.0, mass.shape[0] / mass.shape[1])
        for _ in range(rounds):
            totals = np.maximum(plan.sum(axis=0, keepdims=True), _FLOOR)
            factors = target / totals if method == "balanced" else np.maximum(1.0, target / totals)
            plan = plan * factors
            plan = plan / np.maximum(plan.sum(axis=1, keepdims=True), _FLOOR)
    chosen = plan.argmax(axis=1)
    return chosen, plan[np.arange(len(chosen)), chosen]


def label_paragraph(
    reads: Sequence[TeacherRead], marked: Sequence[tuple[int, int]], answerable: Sequence[bool], method: str
) -> list[SilverLabel | None]:
    """Labels for one paragraph's questions (None: unanswerable, or the teacher found no span in a range)."""
    labels: list[SilverLabel | None] = [None] * len(reads)
    if not reads or not reads[0].range_mass:
        return labels
    mass = np.array([r.range_mass for r in reads], dtype=np.float64)
    # Unanswerable questions' plausible answers are marked too: they compete for ranges like the others.
    chosen, share = assign_ranges(mass, method)
    for i, read in enumerate(reads):
        if not answerable[i] or read.range_mass[chosen[i]] <= 0.0:
            continue
        start, end, probability = read.range_best[chosen[i]]
        if probability <= 0.0:
            continue
        labels[i] = SilverLabel(start, end, probability, float(share[i]), *marked[chosen[i]])
    return labels


def keep(label: SilverLabel | None, min_probability: float, min_share: float) -> bool:
    return label is not None and label.probability >= min_probability and label.share >= min_share


def articles_of(questions: Sequence[UnlabeledQuestion]) -> list[list[list[int]]]:
    """Question indices grouped by article, then by paragraph, in file order."""
    articles: OrderedDict[str, list[list[int]]] = OrderedDict()
    for group in paragraphs_of(questions):
        articles.setdefault(questions[group[0]].title, []).append(group)
    return list(articles.values())


def decide_splits(
    questions: Sequence[UnlabeledQuestion], reads: Sequence[TeacherRead], split: SplitModel
) -> tuple[np.ndarray, np.ndarray]:
    """(P(unanswerable), the decision) for every question: each paragraph takes its most likely split."""
    p_unanswerable = np.zeros(len(questions))
    decided = np.zeros(len(questions), dtype=bool)
    for article in articles_of(questions):
        evidence = [np.array([reads[i].evidence for i in group]) for group in article]
        _, posteriors = article_posterior(split, evidence)
        for group, posterior in zip(article, posteriors):
            p_unanswerable[group] = np.cumsum(posterior)[: len(group)]
            k = int(np.argmax(posterior))
            decided[group[k:]] = True
    return p_unanswerable, decided


def label_questions(
    questions: Sequence[UnlabeledQuestion],
    reads: Sequence[TeacherRead],
    split: SplitModel | None,
    method: str,
) -> tuple[list[SilverLabel | None], np.ndarray]:
    """Labels for every question (None for the unanswerable) and P(unanswerable) (all 0 without a split)."""
    if split is not None:
        p_unanswerable, unanswerable = decide_splits(questions, reads, split)
    else:
        p_unanswerable, unanswerable = np.zeros(len(questions)), np.zeros(len(questions), dtype=bool)
    return labels_given(questions, reads, unanswerable, method), p_unanswerable


def labels_given(
    questions: Sequence[UnlabeledQuestion], reads: Sequence[TeacherRead], unanswerable: np.ndarray, method: str
) -> list[SilverLabel | None]:
    """Labels for every question once the split is decided (None for the unanswerable)."""
    labels: list[SilverLabel | None] = [None] * len(questions)
    for group in paragraphs_of(questions):
        answerable = [not unanswerable[i] for i in group]
        group_labels = label_paragraph([reads[i] for i in group], questions[group[0]].marked, answerable, method)
        for i, label in zip(group, group_labels):
            labels[i] = label
    return labels


def fit_split_on(questions: Sequence[UnlabeledQuestion], reads: Sequence[TeacherRead]) -> SplitModel:
    """The split model fitted by EM on these (unlabeled) questions' evidence."""
    return fit_split(
        [[np.array([reads[i].evidence for i in group]) for group in article] for article in articles_of(questions)],
        unanswerable_share=SQUAD2_TRAIN_UNANSWERABLE_SHARE,
    )


# --- measuring the procedure ----------------------------------------------------------------------------


def default_check_file() -> Path:
    source = next(s for s in SOURCES if s.name == "squadshifts-new-wiki")
    return default_train_dir() / source.relative_path


def _mean_scores(pairs: Sequence[tuple[str, Sequence[str]]]) -> tuple[float, float]:
    scores = [squad.score(prediction, answers) for prediction, answers in pairs]
    if not scores:
        return 0.0, 0.0
    return round(100 * sum(s[0] for s in scores) / len(scores), 1), round(
        100 * sum(s[1] for s in scores) / len(scores), 1
    )


def check_assignment(
    model_dir: Path, limit: int = 2000, path: Path | None = None, cache: Path | None = None, threads: int | None = None
) -> list[dict]:
    """Silver answer labels against gold on a training-side file (SQuADShifts new-wiki unless `path`): for
    each assignment method and a grid of filters, the share kept and its EM/F1; and the teacher alone."""
    gold = squad.load(path or default_check_file())[:limit]
    questions = as_unlabeled(gold)
    reads = cached_teacher_reads(model_dir, questions, cache, threads)
    rows = []
    for method in ASSIGNMENTS:
        labels, _ = label_questions(questions, reads, None, method)
        for min_probability in (0.0, 0.05, 0.1, 0.3):
            for min_share in (0.0, 0.5, 0.7):
                kept = [
                    (q, g, lab) for q, g, lab in zip(questions, gold, labels) if keep(lab, min_probability, min_share)
                ]
                em, f1 = _mean_scores([(q.context[lab.char_start : lab.char_end], g.answers) for q, g, lab in kept])
                rows.append(
                    {
                        "check": "answers",
                        "method": method,
                        "min_probability": min_probability,
                        "min_share": min_share,
                        "kept": round(len(kept) / len(gold), 3),
                        "exact_match": em,
                        "f1": f1,
                    }
                )
    em, f1 = _mean_scores(
        [(q.context[r.best_span[0] : r.best_span[1]], g.answers) for q, g, r in zip(questions, gold, reads)]
    )
    rows.append({"check": "answers", "method": "teacher alone", "kept": 1.0, "exact_match": em, "f1": f1})
    return rows


def check_split(
    model_dir: Path,
    cache: Path | None,
    fit_limit: int | None = 20000,
    dev_path: Path = DEV_V2,
    threads: int | None = None,
) -> dict:
    """How well the split finds the unanswerable questions of the SQuAD 2.0 dev set, with the split model
    fitted on (the first `fit_limit` of) the unlabeled train questions; against the teacher's own
    per-question decision ([CLS] more likely than the best span) as the baseline. Measured, never fitted."""
    train = load_unlabeled()[:fit_limit]
    split = fit_split_on(train, cached_teacher_reads(model_dir, train, cache, threads))
    dev = squad.load(dev_path)
    questions = as_unlabeled(dev)
    reads = cached_teacher_reads(model_dir, questions, cache, threads)
    _, said_split = decide_splits(questions, reads, split)
    labels = labels_given(questions, reads, said_split, "cover")
    truth = np.array([not q.answers for q in dev])
    own = np.array([r.evidence < 0 for r in reads])

    def rates(flags: np.ndarray) -> dict:
        hits = int((flags & truth).sum())
        return {
            "found": round(100 * hits / max(int(truth.sum()), 1), 1),
            "precision": round(100 * hits / max(int(flags.sum()), 1), 1),
            "accuracy": round(100 * float((flags == truth).mean()), 1),
        }

    answered = [
        (q.context[lab.char_start : lab.char_end], g.answers)
        for q, g, lab in zip(questions, dev, labels)
        if lab is not None and g.answers
    ]
    em, f1 = _mean_scores(answered)
    return {
        "check": "split",
        "dev_questions": len(dev),
        "unanswerable": int(truth.sum()),
        "fit_on_train_questions": len(train),
        "split_model": asdict(split) | {"prior": [round(p, 4) for p in split.prior[:12]]},
        "split": rates(said_split),
        "teacher_per_question": rates(own),
        "labels_on_answerable_kept": round(len(answered) / max(int((~truth).sum()), 1), 3),
        "labels_on_answerable_exact_match": em,
        "labels_on_answerable_f1": f1,
    }


# --- writing the silver file ----------------------------------------------------------------------------


def pseudo_label(
    model_dir: Path,
    out_path: Path,
    min_probability: float,
    min_share: float,
    limit: int | None = None,
    method: str = "cover",
    cache: Path | None = None,
    threads: int | None = None,
    held_out_only: bool = False,
) -> dict:
    """Write a SQuAD 2.0-style file: answerable questions with the silver span that passes both filters,
    unanswerable ones with no answers (`is_impossible`); questions whose label fails a filter are left
    out. Returns counts and the fitted split model. `held_out_only`: only the articles every training run
    leaves out (what `calibrate --silver` asks), split by a model fitted on them alone: minutes, not an hour."""
    questions = load_unlabeled()
    if held_out_only:
        questions = split_held_out(SILVER_SOURCE, questions)[1]
    questions = questions[:limit]
    reads = cached_teacher_reads(model_dir, questions, cache, threads)
    split = fit_split_on(questions, reads)
    p_unanswerable, unanswerable = decide_splits(questions, reads, split)
    labels = labels_given(questions, reads, unanswerable, method)
    paragraphs: OrderedDict[tuple[str, str], list[dict]] = OrderedDict()
    counts = {"questions": len(questions), "answerable": 0, "unanswerable": 0, "left_out": 0}
    for group in paragraphs_of(questions):
        for i in group:
            question, label = questions[i], labels[i]
            entry = {
                "id": question.id,
                "question": question.question,
                "p_unanswerable": round(float(p_unanswerable[i]), 4),
            }
            if unanswerable[i]:
                entry.update(answers=[], is_impossible=True)
                counts["unanswerable"] += 1
            elif keep(label, min_probability, min_share):
                assert label is not None
                entry.update(
                    answers=[
                        {"text": question.context[label.char_start : label.char_end], "answer_start": label.char_start}
                    ],
                    is_impossible=False,
                    probability=round(label.probability, 4),
                    share=round(label.share, 4),
                )
                counts["answerable"] += 1
            else:
                counts["left_out"] += 1
                continue
            paragraphs.setdefault((question.title, question.context), []).append(entry)
    articles: OrderedDict[str, list[dict]] = OrderedDict()
    for (title, context), qas in paragraphs.items():
        articles.setdefault(title, []).append({"context": context, "qas": qas})
    payload = {
        "version": "silver-3",
        "source": str(UNLABELED),
        "model": str(model_dir),
        "assignment": method,
        "min_probability": min_probability,
        "min_share": min_share,
        "held_out_only": held_out_only,
        "split_model": asdict(split),
        "counts": counts,
        "data": [{"title": title, "paragraphs": paragraphs_} for title, paragraphs_ in articles.items()],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(payload))
    return counts | {"split_model": asdict(split)}
