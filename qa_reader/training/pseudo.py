"""Silver labels for the unlabeled, back-translated SQuAD 2.0 train questions.

Each paragraph of that file lists the character ranges that carried an answer colour ("marked spans":
every answer of every question of the paragraph, edges blurred by the translation), but not which
range answers which question. The reader, as teacher, settles that: its span probabilities are summed
per marked range, the question gets the range that takes most of that mass, and the label is the
teacher's best span inside it (the translation smears colours onto neighbouring words and the teacher
trims them; where its spans all reach outside the range, the question is left out). `check_labels`
measures the same procedure on a training set with gold answers, so the thresholds are chosen on
labelled data, never on an evaluation set.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa_reader import squad
from qa_reader.evaluate import ParagraphReader
from qa_reader.reader.predict import ContextSpan, ReadRequest, read_many
from qa_reader.training.data import SOURCES, default_train_dir

UNLABELED = (
    default_train_dir().parent / "unlabeled" / "squad2-train-backtranslated-en" / "squad2-train-backtranslated-en.json"
)
_EDGE_CHARACTERS = " \t\n,.;:!?\"'()[]"


@dataclass(frozen=True)
class UnlabeledQuestion:
    id: str
    question: str
    context: str
    marked: tuple[tuple[int, int], ...]  # candidate answer ranges of the paragraph, [start, end)


@dataclass(frozen=True)
class SilverLabel:
    char_start: int
    char_end: int
    probability: float  # the teacher's probability of this exact span
    share: float  # the fraction of the teacher's mass on marked ranges that fell on the chosen range
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
    payload = json.loads(path.read_text(encoding="utf-8"))
    questions = []
    for article in payload["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            marked = {trim_range(context, m["start"], m["end"]) for m in paragraph.get("marked_spans", [])}
            ranges = tuple(sorted(r for r in marked if r[0] < r[1]))
            for qa in paragraph["qas"]:
                questions.append(UnlabeledQuestion(str(qa["id"]), qa["question"], context, ranges))
    return questions


def gold_as_unlabeled(questions: Sequence[squad.Question]) -> list[tuple[UnlabeledQuestion, tuple[str, ...]]]:
    """A labelled file in the unlabeled file's shape: every answer of the paragraph becomes a marked range."""
    by_context: dict[str, set[tuple[int, int]]] = {}
    for q in questions:
        ranges = by_context.setdefault(q.context, set())
        if q.answers:  # one colour a question, as in the unlabeled file
            ranges.add((q.answer_starts[0], q.answer_starts[0] + len(q.answers[0])))
    return [
        (UnlabeledQuestion(q.id, q.question, q.context, tuple(sorted(by_context[q.context]))), q.answers)
        for q in questions
        if q.answers
    ]


def choose_label(spans: Sequence[ContextSpan], marked: Sequence[tuple[int, int]]) -> SilverLabel | None:
    """The teacher's pick among the marked ranges (see the module docstring), or None without overlap."""
    if not marked:
        return None
    mass = [0.0] * len(marked)
    for span in spans:
        for index, (start, end) in enumerate(marked):
            if span.char_start < end and start < span.char_end:
                mass[index] += span.probability
    total = sum(mass)
    if total <= 0.0:
        return None
    chosen = max(range(len(marked)), key=mass.__getitem__)
    start, end = marked[chosen]
    inside = [s for s in spans if start <= s.char_start and s.char_end <= end]
    if not inside:
        return None
    best = max(inside, key=lambda s: s.probability)
    return SilverLabel(best.char_start, best.char_end, best.probability, mass[chosen] / total, start, end)


def teacher_spans(
    reader: ParagraphReader, questions: Sequence[UnlabeledQuestion], chunk: int = 256, progress: bool = True
) -> list[list[ContextSpan]]:
    """The teacher's candidate spans for every question over its paragraph, best first."""
    results: list[list[ContextSpan]] = []
    started = time.monotonic()
    limit_tokens = reader.maker.settings.max_question_tokens
    for offset in range(0, len(questions), chunk):
        part = questions[offset : offset + chunk]
        contexts = sorted({q.context for q in part})
        tokenized = dict(zip(contexts, reader.maker.tokenize(contexts)))
        ids = reader.maker.tokenize([q.question for q in part])
        requests = [ReadRequest(i.ids[:limit_tokens], [tokenized[q.context]]) for q, i in zip(part, ids)]
        results.extend(read_many(reader.runner, reader.maker, requests, batch_size=64, n_best=40))
        if progress:
            done = offset + len(part)
            print(f"{done}/{len(questions)} read, {done / (time.monotonic() - started):.0f} q/s", flush=True)
    return results


def keep(label: SilverLabel | None, min_probability: float, min_share: float) -> bool:
    return label is not None and label.probability >= min_probability and label.share >= min_share


def default_check_file() -> Path:
    source = next(s for s in SOURCES if s.name == "squadshifts-new-wiki")
    return default_train_dir() / source.relative_path


def check_labels(model_dir: Path, limit: int = 2000, path: Path | None = None) -> list[dict]:
    """Silver-label accuracy against gold on a labelled training-side file (SQuADShifts new-wiki unless
    `path`), for a grid of thresholds: how many labels are kept, and their EM/F1 against the gold."""
    pairs = gold_as_unlabeled(squad.load(path or default_check_file()))[:limit]
    reader = ParagraphReader(model_dir)
    spans = teacher_spans(reader, [q for q, _ in pairs], progress=False)
    labels = [choose_label(candidates, q.marked) for (q, _), candidates in zip(pairs, spans)]
    free = [candidates[0] if candidates else None for candidates in spans]
    rows = []
    for min_probability in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5):
        for min_share in (0.0, 0.5, 0.7, 0.9):
            chosen = [
                (q, answers, label)
                for (q, answers), label in zip(pairs, labels)
                if keep(label, min_probability, min_share)
            ]
            teacher = [squad.score(q.context[lab.char_start : lab.char_end], answers) for q, answers, lab in chosen]
            ranges = [squad.score(q.context[lab.marked_start : lab.marked_end], answers) for q, answers, lab in chosen]
            rows.append(
                {
                    "min_probability": min_probability,
                    "min_share": min_share,
                    "kept": round(len(chosen) / len(pairs), 3),
                    "exact_match": round(100 * sum(s[0] for s in teacher) / max(len(teacher), 1), 1),
                    "f1": round(100 * sum(s[1] for s in teacher) / max(len(teacher), 1), 1),
                    "range_exact_match": round(100 * sum(s[0] for s in ranges) / max(len(ranges), 1), 1),
                }
            )
    plain = [
        squad.score(q.context[s.char_start : s.char_end] if s else "", answers) for (q, answers), s in zip(pairs, free)
    ]
    rows.append(
        {
            "teacher_alone": True,
            "kept": 1.0,
            "exact_match": round(100 * sum(s[0] for s in plain) / len(plain), 1),
            "f1": round(100 * sum(s[1] for s in plain) / len(plain), 1),
        }
    )
    return rows


def pseudo_label(
    model_dir: Path,
    out_path: Path,
    min_probability: float,
    min_share: float,
    limit: int | None = None,
) -> dict:
    """Write a SQuAD v1.1 file of the silver labels that pass both thresholds; return counts."""
    questions = load_unlabeled()[:limit]
    spans = teacher_spans(ParagraphReader(model_dir), questions)
    labels = [choose_label(candidates, q.marked) for q, candidates in zip(questions, spans)]
    paragraphs: OrderedDict[str, list[dict]] = OrderedDict()
    kept = 0
    for question, label in zip(questions, labels):
        if not keep(label, min_probability, min_share):
            continue
        assert label is not None
        paragraphs.setdefault(question.context, []).append(
            {
                "id": question.id,
                "question": question.question,
                "answers": [
                    {"text": question.context[label.char_start : label.char_end], "answer_start": label.char_start}
                ],
                "probability": round(label.probability, 4),
                "share": round(label.share, 4),
            }
        )
        kept += 1
    payload = {
        "version": "silver-2",
        "source": str(UNLABELED),
        "model": str(model_dir),
        "min_probability": min_probability,
        "min_share": min_share,
        "data": [{"title": "silver", "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()]}],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(payload))
    return {"questions": len(questions), "kept": kept}
