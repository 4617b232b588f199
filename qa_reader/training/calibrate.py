"""Fit the answer calibration of a model folder on held-out training articles asked as whole documents.

`python -m qa_reader.training calibrate MODEL_DIR` (numpy only, no torch): the held-out slice of each
source (`data.split_held_out`: articles no training run uses) is cut into documents of about 40
paragraphs; every `every`-th question is asked against its own document (answerable) and against the
next document of the same source (unanswerable: skipped when a gold answer's text is in that document
too). Every answer candidate's features and F1 are recorded; a logistic regression learns P(right), and
the "not found" threshold maximises expected F1 over a mix of answerable and unanswerable questions.
The coefficients and threshold go into manifest.json; model.onnx and its sha256 are not touched.
"""

from __future__ import annotations

import json
import random
import re
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa_reader import squad
from qa_reader.calibration import (
    FEATURES,
    QUESTION_LEVEL_FEATURES,
    RIGHT_F1,
    Calibrator,
    choose_threshold,
    expected_calibration_error,
    fit_logistic,
    fit_share_display,
    fit_support,
    question_best_and_share,
    question_level_features,
)
from qa_reader.config import Settings
from qa_reader.engine import Engine, passages_in_round
from qa_reader.training.data import SILVER_SOURCE, SOURCES, default_train_dir, split_held_out
from qa_reader.types import Document, Page

# SQuAD-protocol and Wikipedia sources: the questions people ask of prose documents.
CALIBRATION_SOURCES = ("squadshifts-new-wiki", "squadshifts-reddit", "squadshifts-amazon", "qed", "tydiqa-goldp-en")
PARAGRAPHS_PER_DOCUMENT = 40
# Chosen by forward selection on the held-out slices (see `ablation`): each other feature, added to these,
# lowered the best answer's F1 (cross-fitted) although most lowered the log loss over all candidates.
RANKING_FEATURES = ("log_probability", "bm25", "null_probability")
# The display model is fitted on the first answers listed for each question asked of its own document: the
# number shown is the chance that the answer is right when the documents hold one (whether they do is the
# threshold's call). How many of the listed answers it is fitted on is chosen on the held-out documents
# (`choose_display_top`). Fitted on the best five *candidates* (overlapping cuts of one answer counted
# again), or with the unanswerable questions too, the best answer's number was further off (held-out ECE
# 0.16 and 0.19-0.25 against 0.08).
DISPLAY_ANSWERABLE_ONLY = True
# The display model also weighs each answer's share of its question's candidates (`Calibrator`). Measured on
# release 3's held-out documents (every 2nd question: 1,123 answerable asks; cross-fitted, display fitted on
# and measured at the best answer only): ECE 0.060 -> 0.019, Brier score 0.196 -> 0.175. Used for "not
# found" as well, it refused 62 % of the unanswerable questions instead of 77 % at the chosen threshold
# (expected F1 65.3 -> 60.9), so the threshold applies to a support model without it (`fit_support`).
DISPLAY_TOP = 1
DISPLAY_TOP_CHOICES = (1, 3, 5)
LISTED = 5  # answers the panel lists (Settings.top_k)
# Two answerable questions for each unanswerable one (SQuAD 2.0 train's ratio): most questions a person
# asks of their documents are answered there, but a real share are not.
ANSWERABLE_SHARE = 2 / 3
# How each question is asked: of its own document (answerable), of the next document of its source (a
# question about something else: easy to refuse), or of its own document with every paragraph holding its
# answer taken out (a question on the document's topic that it does not answer: what SQuAD 2.0's
# unanswerable questions are like, and the hard case for "not found").
# A fourth kind comes from the silver SQuAD 2.0 train set (`--silver`): questions the labelling found
# unanswerable, written against their own paragraph to look answerable, asked of their own article.
ASK_OWN, ASK_ELSEWHERE, ASK_WITHOUT_ANSWER, ASK_SILVER_UNANSWERABLE = 0, 1, 2, 3
# The unanswerable part of the mix, by kind: a person mostly asks a document about its own topic.
UNANSWERABLE_MIX = {ASK_ELSEWHERE: 0.25, ASK_WITHOUT_ANSWER: 0.75}
# With the silver set: half of them are SQuAD 2.0's kind, the rest as above.
UNANSWERABLE_MIX_WITH_SILVER = {ASK_ELSEWHERE: 0.125, ASK_WITHOUT_ANSWER: 0.375, ASK_SILVER_UNANSWERABLE: 0.5}
# A document left with fewer paragraphs than this once the answer's are taken out is not asked.
MIN_PARAGRAPHS_LEFT = 10
# Real documents have glossaries, acronym tables and indexes that come out of a PDF as names run together
# ("Recovery Point Objective Recovery Time Objective Remote Terminal Unit ..."): they hold every term a
# question names, so search ranks them high and the reader answers from them. SQuAD-style training
# documents have none. With `--glossaries` each held-out document gets a glossary made of its own names: one
# paragraph of GLOSSARY_WORDS words for every GLOSSARY_EVERY paragraphs, at the end, as a PDF's back matter
# is (measured: the kept features lose 1.7 F1 on such documents, and no feature wins it back; see README).
GLOSSARY_EVERY = 10
GLOSSARY_WORDS = 120
_NAME = re.compile(r"[A-Z][\w&/'-]*(?: +(?:(?:of|and|for|the|de|la|von) +)?[A-Z][\w&/'-]*)+|\b[A-Z]{2,}\b")

Log = Callable[[str], None]


@dataclass
class Collected:
    """Per candidate: FEATURES-ordered features, F1 against the gold answers (0 when asked elsewhere),
    whether the engine could show it, which ask it belongs to, its character range in the document and a
    checksum of its normalised text (to list candidates as the engine does); per ask: answerable, document
    group and how it was asked (ASK_*). Caches written before the ranges or the kinds were recorded load
    with `start` etc. or `ask_kind` None (every unanswerable ask then counts as ASK_ELSEWHERE)."""

    features: np.ndarray
    f1: np.ndarray
    valid: np.ndarray
    ask: np.ndarray
    ask_answerable: np.ndarray
    ask_group: np.ndarray
    start: np.ndarray | None = None
    end: np.ndarray | None = None
    text_key: np.ndarray | None = None
    ask_kind: np.ndarray | None = None
    missing_features: tuple[str, ...] = ()  # FEATURES a cache was written without (zeros here); never saved

    @property
    def kinds(self) -> np.ndarray:
        """ASK_* of every ask (old caches: own or elsewhere)."""
        if self.ask_kind is not None:
            return self.ask_kind
        return np.where(self.ask_answerable, ASK_OWN, ASK_ELSEWHERE).astype(np.int8)

    def save(self, path: Path) -> None:
        saved = {key: value for key, value in self.__dict__.items() if value is not None and key != "missing_features"}
        # Columns a loaded cache lacked stay out, so they are never read back as measured.
        names = [name for name in FEATURES if name not in self.missing_features]
        saved["features"] = self.features[:, [FEATURES.index(name) for name in names]]
        saved["feature_names"] = np.asarray(names)
        np.savez_compressed(path, **saved)

    def silver_answerable_asks(self) -> np.ndarray:
        """Asks against a silver label, which caches written before `collect` left them out still hold:
        answerable asks of a document whose other asks are ASK_SILVER_UNANSWERABLE (silver documents are
        asked nothing else)."""
        kinds = self.kinds
        silver_groups = np.unique(self.ask_group[kinds == ASK_SILVER_UNANSWERABLE])
        return (kinds == ASK_OWN) & np.isin(self.ask_group, silver_groups)

    def without_asks(self, dropped: np.ndarray) -> Collected:
        """These data with the asks marked in `dropped` (and their candidates) left out, asks renumbered."""
        kept = ~dropped
        renumbered = np.cumsum(kept) - 1
        rows = kept[self.ask]

        def per_row(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[rows]

        return Collected(
            self.features[rows],
            self.f1[rows],
            self.valid[rows],
            renumbered[self.ask[rows]],
            self.ask_answerable[kept],
            self.ask_group[kept],
            per_row(self.start),
            per_row(self.end),
            per_row(self.text_key),
            None if self.ask_kind is None else self.ask_kind[kept],
            self.missing_features,
        )

    def read_only(self, read: np.ndarray) -> Collected:
        """These data as the engine sees them when it reads only the candidates in `read` (`read_rows`): the
        others can be neither listed nor shown."""
        return replace(self, valid=self.valid & read)

    def silver_part(self) -> Collected:
        """Only the asks of the silver SQuAD 2.0 set's unanswerable questions (ASK_SILVER_UNANSWERABLE)."""
        return self.without_asks(self.kinds != ASK_SILVER_UNANSWERABLE)

    @classmethod
    def concatenated(cls, parts: Sequence[Collected]) -> Collected:
        """The asks of every part, renumbered one after the other, each part's documents kept apart (its
        groups moved past the previous parts'). Ranges and text keys are kept when every part has them;
        a feature one part was written without counts as missing for all."""
        asks, groups = [], []
        ask_offset = group_offset = 0
        for part in parts:
            asks.append(part.ask + ask_offset)
            groups.append(part.ask_group + group_offset)
            ask_offset += len(part.ask_answerable)
            group_offset += int(part.ask_group.max()) + 1 if len(part.ask_group) else 0

        def joined(name: str) -> np.ndarray | None:
            arrays = [getattr(part, name) for part in parts]
            return None if any(array is None for array in arrays) else np.concatenate(arrays)

        missing = {name for part in parts for name in part.missing_features}
        return cls(
            np.vstack([part.features for part in parts]),
            np.concatenate([part.f1 for part in parts]),
            np.concatenate([part.valid for part in parts]),
            np.concatenate(asks),
            np.concatenate([part.ask_answerable for part in parts]),
            np.concatenate(groups),
            joined("start"),
            joined("end"),
            joined("text_key"),
            np.concatenate([part.kinds for part in parts]),
            tuple(name for name in FEATURES if name in missing),
        )

    @classmethod
    def load(cls, path: Path) -> Collected:
        """A saved cache. Features it was written without get the question-level ones computed from its other
        columns (`question_level_features`) and the rest as zeros, named in `missing_features` (the ablation
        leaves them out). A cache without feature names holds the first columns of FEATURES. Asks against silver
        labels, which older caches hold, are left out (`silver_answerable_asks`)."""
        with np.load(path) as data:
            arrays = {key: data[key] for key in data.files}
        saved = arrays.pop("feature_names", None)
        names = [str(n) for n in saved] if saved is not None else list(FEATURES[: arrays["features"].shape[1]])
        columns = np.zeros((arrays["features"].shape[0], len(FEATURES)), dtype=arrays["features"].dtype)
        for index, name in enumerate(names):
            columns[:, FEATURES.index(name)] = arrays["features"][:, index]
        arrays["features"] = columns
        loaded = cls(**arrays)
        missing = [name for name in FEATURES if name not in names]
        derivable = [name for name in missing if name in QUESTION_LEVEL_FEATURES]
        if derivable:
            question_level_features(loaded.features, loaded.ask)
        loaded.missing_features = tuple(name for name in missing if name not in derivable)
        silver_answerable = loaded.silver_answerable_asks()
        if silver_answerable.any():  # labelled by the teacher: see `collect`
            loaded = loaded.without_asks(silver_answerable)
        return loaded


def glossary(text: str, paragraphs: int, seed: str) -> list[str]:
    """`paragraphs` glossary paragraphs (GLOSSARY_WORDS words at most each) from the names in `text` (runs of
    capitalised words, acronyms), each name once, in an order fixed by `seed`; fewer when the names run out."""
    names = list(dict.fromkeys(match.group(0) for match in _NAME.finditer(text)))
    random.Random(seed).shuffle(names)
    made: list[str] = []
    words: list[str] = []
    for name in names:
        if len(made) == paragraphs:
            break
        words.extend(name.split())
        if len(words) >= GLOSSARY_WORDS:
            made.append(" ".join(words))
            words = []
    if words and len(made) < paragraphs:
        made.append(" ".join(words))
    return made


def with_glossary(document: Document) -> Document:
    """`document` with its glossary paragraphs (`glossary`) after its text."""
    count = max(1, document.text.count("\n\n") // GLOSSARY_EVERY)
    added = glossary(document.text, count, document.sha256)
    if not added:
        return document
    text = "\n\n".join([document.text, *added])
    return replace(document, text=text, pages=(Page(0, 0, len(text)),))


def held_out_documents(
    train_dir: Path,
    sources: Sequence[str] = CALIBRATION_SOURCES,
    paragraphs_per_document: int = PARAGRAPHS_PER_DOCUMENT,
    log: Log = print,
    silver: Path | None = None,
    glossaries: bool = False,
) -> list[tuple[str, Document, list[squad.Question]]]:
    """(source, document, its questions) for the held-out paragraphs of each source, cut into documents of
    `paragraphs_per_document` paragraphs (a source whose file is missing is skipped, with a line in the log);
    with `silver`, the held-out articles of that pseudo-labelled SQuAD 2.0 file too (source SILVER_SOURCE); with
    `glossaries`, each document with its glossary (`with_glossary`)."""
    paths = {source.name: train_dir / source.relative_path for source in SOURCES}
    named = [(name, paths[name]) for name in sources] + ([(SILVER_SOURCE, silver)] if silver is not None else [])
    documents = []
    for name, path in named:
        if not path.is_file():
            log(f"  {path} is missing: {name} is left out")
            continue
        _, held = split_held_out(name, squad.load(path))
        by_paragraph: dict[tuple[str, int], list[squad.Question]] = {}
        for question in held:
            by_paragraph.setdefault((question.title, question.paragraph_index), []).append(question)
        keys = sorted(by_paragraph)
        for offset in range(0, len(keys), paragraphs_per_document):
            chunk = keys[offset : offset + paragraphs_per_document]
            text = "\n\n".join(by_paragraph[key][0].context for key in chunk)
            number = offset // paragraphs_per_document
            document = Document(
                f"heldout://{name}/{number}",
                f"{name} {number}",
                "txt",
                f"{name}:{number}",
                text,
                (Page(0, 0, len(text)),),
            )
            if glossaries:
                document = with_glossary(document)
            documents.append((name, document, [q for key in chunk for q in by_paragraph[key]]))
    return documents


class _Recorder:
    """The candidates of every ask, gathered into the arrays of a Collected."""

    def __init__(self) -> None:
        self.features: list[np.ndarray] = []
        self.rows: dict[str, list] = {name: [] for name in ("f1", "valid", "ask", "start", "end", "text_key")}
        self.asks: dict[str, list] = {name: [] for name in ("answerable", "group", "kind")}

    def ask(self, engine: Engine, document_id: int, questions: Sequence[squad.Question], kind: int, group: int) -> None:
        """Ask `questions` of one document; only ASK_OWN asks are answerable (F1 against their answers)."""
        own = kind == ASK_OWN
        rows = self.rows
        for question, candidates in zip(
            questions, engine.candidates([q.question for q in questions], [document_id], all_features=True)
        ):
            ask = len(self.asks["answerable"])
            for name, value in (("answerable", own), ("group", group), ("kind", kind)):
                self.asks[name].append(value)
            for span, evidence in zip(candidates.spans, candidates.evidence):
                _, passage = candidates.rows[candidates.passage_ids[span.context_index]]
                rows["f1"].append(squad.score(evidence.text, question.answers)[1] if own else 0.0)
                rows["valid"].append(bool(evidence.text.strip()) and "\n\n" not in evidence.text)
                rows["ask"].append(ask)
                rows["start"].append(passage.char_start + span.char_start)
                rows["end"].append(passage.char_start + span.char_end)
                rows["text_key"].append(zlib.crc32((squad.normalize_answer(evidence.text) or evidence.text).encode()))
            self.features.append(candidates.features.astype(np.float32))

    def collected(self) -> Collected:
        rows, asks = self.rows, self.asks
        return Collected(
            np.vstack(self.features) if self.features else np.zeros((0, len(FEATURES)), np.float32),
            np.asarray(rows["f1"], np.float32),
            np.asarray(rows["valid"], bool),
            np.asarray(rows["ask"], np.int64),
            np.asarray(asks["answerable"], bool),
            np.asarray(asks["group"], np.int64),
            np.asarray(rows["start"], np.int64),
            np.asarray(rows["end"], np.int64),
            np.asarray(rows["text_key"], np.int64),
            np.asarray(asks["kind"], np.int8),
        )


def collect(
    model_dir: Path,
    train_dir: Path,
    every: int = 2,
    log: Log = print,
    sources: Sequence[str] = CALIBRATION_SOURCES,
    paragraphs_per_document: int = PARAGRAPHS_PER_DOCUMENT,
    silver: Path | None = None,
    glossaries: bool = False,
) -> Collected:
    """Ask held-out questions through the engine and record every candidate's features and F1. Silver
    documents (few: a held-out slice of what was labelled) are asked the questions the labelling found
    unanswerable (ASK_SILVER_UNANSWERABLE), and serve as nobody's "next document". Their answerable
    questions are not asked: their labels come from the teacher a student learned from, so the student
    agrees with them far more often than with gold answers and the fit turns over-confident."""
    engine = Engine(None, model_dir, Settings(threshold=0.0))
    engine.load_model()
    documents = held_out_documents(train_dir, sources, paragraphs_per_document, log, silver, glossaries)
    ids = [engine.add_document(document) for _, document, _ in documents]
    recorder = _Recorder()
    started = time.monotonic()
    for index, (source, document, questions) in enumerate(documents):
        if source == SILVER_SOURCE:
            unanswerable = [q for q in questions if not q.answers]
            recorder.ask(engine, ids[index], unanswerable, ASK_SILVER_UNANSWERABLE, index)
            log(f"  {document.title}: {len(unanswerable)} silver unanswerable ({time.monotonic() - started:.0f} s)")
            continue
        same_source = [i for i, (s, _, _) in enumerate(documents) if s == source]
        other = same_source[(same_source.index(index) + 1) % len(same_source)]
        asked = [q for q in questions[::every] if q.answers]
        elsewhere = [q for q in asked if other != index and not _answer_in(q, documents[other][1].text)]
        recorder.ask(engine, ids[index], asked, ASK_OWN, index)
        recorder.ask(engine, ids[other], elsewhere, ASK_ELSEWHERE, index)
        without_count = 0
        for without, left_out in _without_answer(document, asked):
            copy_id = engine.add_document(without)
            recorder.ask(engine, copy_id, left_out, ASK_WITHOUT_ANSWER, index)
            engine.remove(copy_id)
            without_count += len(left_out)
        log(
            f"  {document.title}: {len(asked)} + {len(elsewhere)} elsewhere + {without_count} without their answer"
            f" ({time.monotonic() - started:.0f} s)"
        )
    engine.close()
    return recorder.collected()


def _without_answer(
    document: Document, questions: Sequence[squad.Question]
) -> list[tuple[Document, list[squad.Question]]]:
    """Copies of `document` with the paragraphs that hold a question's answer taken out (its own paragraph
    and any other containing a gold answer's text), one per distinct set taken out, with their questions.
    A copy left with fewer than MIN_PARAGRAPHS_LEFT paragraphs is not made."""
    paragraphs = document.text.split("\n\n")
    by_removal: dict[tuple[int, ...], list[squad.Question]] = {}
    for question in questions:
        taken = tuple(
            i
            for i, paragraph in enumerate(paragraphs)
            if paragraph == question.context or _answer_in(question, paragraph)
        )
        if len(paragraphs) - len(taken) >= MIN_PARAGRAPHS_LEFT:
            by_removal.setdefault(taken, []).append(question)
    copies = []
    for number, (taken, asked) in enumerate(by_removal.items()):
        gone = set(taken)
        text = "\n\n".join(p for i, p in enumerate(paragraphs) if i not in gone)
        copy = Document(
            f"{document.path}/without/{number}",
            f"{document.title} without {number}",
            document.format,
            f"{document.sha256}/without/{number}",
            text,
            (Page(0, 0, len(text)),),
        )
        copies.append((copy, asked))
    return copies


def _answer_in(question: squad.Question, text: str) -> bool:
    lowered = text.lower()
    return any(answer.lower() in lowered for answer in question.answers if answer.strip())


@dataclass(frozen=True)
class TopAnswers:
    """Each ask's best valid candidate under some scores: its score, F1, whether it is right, and its
    support (what the threshold is compared with; the score when there is no support model)."""

    score: np.ndarray
    f1: np.ndarray
    answerable: np.ndarray
    support: np.ndarray

    @property
    def right(self) -> np.ndarray:
        return self.f1 >= RIGHT_F1


def top_answers(
    data: Collected, scores: np.ndarray, asks: np.ndarray | None = None, support: np.ndarray | None = None
) -> TopAnswers:
    """The best-scored valid candidate of each ask (of `asks`, default all); an ask without one scores 0.
    `support`: every candidate's support (default: its score)."""
    support = scores if support is None else support
    chosen = np.arange(len(data.ask_answerable)) if asks is None else asks
    best_score = np.zeros(len(data.ask_answerable))
    best_support = np.zeros(len(data.ask_answerable))
    best_f1 = np.zeros(len(data.ask_answerable))
    seen = np.zeros(len(data.ask_answerable), bool)
    order = np.lexsort((-scores, data.ask))  # by ask, best score first
    for row in order:
        ask = data.ask[row]
        if seen[ask] or not data.valid[row]:
            continue
        seen[ask] = True
        best_score[ask] = scores[row]
        best_support[ask] = support[row]
        best_f1[ask] = data.f1[row]
    return TopAnswers(best_score[chosen], best_f1[chosen], data.ask_answerable[chosen], best_support[chosen])


def fit_calibrator(
    data: Collected, rows: np.ndarray, features: Sequence[str], l2: float = 1.0, display_top: int = DISPLAY_TOP
) -> Calibrator:
    """Ranking model on every candidate of `rows`, display model on the first `display_top` answers each
    question would list (`shown_rows`) of the passages the engine would read (`read_rows`), support model on
    the best answer of each answerable question."""
    right = data.f1 >= RIGHT_F1
    ranker = fit_logistic(data.features[rows].astype(np.float64), right[rows], features, l2)
    # The display and support models see what the engine shows: the candidates of the passages it reads.
    rows = read_rows(data, rows, ranker)
    ranking = ranker.ranking(data.features[rows].astype(np.float64))
    asks = data.ask[rows]
    best, share = question_best_and_share(ranking, asks)
    top = shown_rows(data, ranking, rows, display_top)
    first = shown_rows(data, ranking, rows, 1) & data.ask_answerable[asks]
    if DISPLAY_ANSWERABLE_ONLY:
        top &= data.ask_answerable[asks]
    slope, gap_slope, share_slope, bias, top_bias = fit_share_display(
        ranking[top], best[top], share[top], right[rows][top]
    )
    support_slope, support_bias = fit_support(ranking[first], right[rows][first])
    # Fitted on more than the best answer, the display model gets a second one for the best answers alone
    # (`Calibrator.best_display`). Measured on release 3.1's held-out documents collected in session 12 (every
    # 2nd question, cross-fitted): one model on the first five listed, best answer ECE 0.042 and every listed
    # answer's 0.021; one on the best answers only, 0.030 and 0.074; the two together, 0.029 and 0.016.
    best_display = None
    if display_top > 1:
        best_slope, _, best_share_slope, best_bias, best_top = fit_share_display(
            ranking[first], best[first], share[first], right[rows][first]
        )
        best_display = (best_slope, best_share_slope, best_bias + best_top)  # the gap is 0 for the best
    return Calibrator(
        ranker.features,
        ranker.mean,
        ranker.scale,
        ranker.coefficients,
        ranker.intercept,
        slope,
        gap_slope,
        bias,
        top_bias=top_bias,
        share_slope=share_slope,
        support_slope=support_slope,
        support_bias=support_bias,
        best_display=best_display,
    )


def read_rows(data: Collected, rows: np.ndarray, calibrator: Calibrator) -> np.ndarray:
    """The candidates of `rows` (a mask over all) that the engine reads with `calibrator`'s ranking, as a mask
    over all: each question's passages in the order of their bound (`Calibrator.passage_bounds`) until its
    best candidate so far ranks above the next passage's bound, checked after each round of
    `engine.passages_in_round` passages (`engine._read_best_first`). A passage is told by its BM25 rank. All
    of `rows` when the calibration cannot bound a passage."""
    read = np.zeros(len(data.f1), bool)
    indices = np.flatnonzero(rows)
    features = data.features[indices].astype(np.float64)
    passage = features[:, FEATURES.index("bm25_rank")]
    bounds = calibrator.passage_bounds(features[:, FEATURES.index("bm25")], passage)
    if bounds is None or not len(indices):
        return read | rows
    ranking = np.where(data.valid[indices], calibrator.ranking(features), -np.inf)
    asks = data.ask[indices]
    order = np.lexsort((passage, -bounds, asks))
    for segment in np.split(order, np.flatnonzero(np.diff(asks[order])) + 1):
        starts = np.flatnonzero(np.r_[True, np.diff(passage[segment]) != 0])
        best = -np.inf
        round_number, round_ends_after = 0, passages_in_round(0)
        for number, start in enumerate(starts):
            end = starts[number + 1] if number + 1 < len(starts) else len(segment)
            best = max(best, float(ranking[segment[start:end]].max()))
            read[indices[segment[start:end]]] = True
            if number + 1 < round_ends_after:
                continue
            if end < len(segment) and best > bounds[segment[end]]:
                break
            round_number += 1
            round_ends_after += passages_in_round(round_number)
    return read


def shown_rows(data: Collected, values: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Mask (over the candidates of `rows`) of the first k answers each question would list, best `values`
    first, skipping as the engine does: spans it cannot show, the same text again, and a span overlapping
    one already listed (a longer or shorter cut of the same answer). Without recorded ranges (an old
    cache) only the first two rules apply."""
    asks = data.ask[rows]
    valid = data.valid[rows]
    ranged = data.start is not None and data.end is not None and data.text_key is not None
    starts = data.start[rows] if ranged else None
    ends = data.end[rows] if ranged else None
    keys = data.text_key[rows] if ranged else None
    order = np.lexsort((-values, asks))
    mask = np.zeros(len(values), bool)
    listed: dict[int, list[int]] = {}
    for row in order:
        ask = int(asks[row])
        taken = listed.setdefault(ask, [])
        if len(taken) >= k or not valid[row]:
            continue
        if ranged and any(
            keys[other] == keys[row] or (starts[row] < ends[other] and starts[other] < ends[row]) for other in taken
        ):
            continue
        mask[row] = True
        taken.append(row)
    return mask


def cross_fitted_scores(
    data: Collected, features: Sequence[str], l2: float = 1.0, display_top: int = DISPLAY_TOP
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every candidate's shown probability and support from a calibrator fitted on the other half of the
    documents, and which candidates the engine reads with it (`read_rows`; the others score 0)."""
    scores = np.zeros(len(data.f1))
    supports = np.zeros(len(data.f1))
    read = np.zeros(len(data.f1), bool)
    ask_half = data.ask_group % 2
    for half in (0, 1):
        train_rows = ask_half[data.ask] != half
        if not train_rows.any():  # every document on one side (a tiny collection): fit on everything
            train_rows = np.ones(len(data.f1), bool)
        calibrator = fit_calibrator(data, train_rows, features, l2, display_top)
        test_rows = read_rows(data, ask_half[data.ask] == half, calibrator)
        matrix, asks = data.features[test_rows].astype(np.float64), data.ask[test_rows]
        scores[test_rows], supports[test_rows], _ = calibrator.scores(matrix, asks)
        read |= test_rows
    return scores, supports, read


def cross_fitted_summary(
    data: Collected, features: Sequence[str], display_top: int = DISPLAY_TOP
) -> tuple[dict[str, float], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """`summarise` of the cross-fitted scores over the candidates the engine reads, and those scores."""
    scores, supports, read = cross_fitted_scores(data, features, display_top=display_top)
    return summarise(data.read_only(read), scores, supports), (scores, supports, read)


def summarise(data: Collected, scores: np.ndarray, supports: np.ndarray | None = None) -> dict[str, float]:
    """Top-answer figures under some candidate scores (and supports, which "not found" uses): F1 and ECE
    on answerable asks, calibration of the listed answers, and the refusals at the threshold they would get."""
    top = top_answers(data, scores, support=supports)
    own = top.answerable
    listed = shown_rows(data, scores, np.ones(len(scores), bool), LISTED) & data.ask_answerable[data.ask]
    right = data.f1 >= RIGHT_F1
    alternatives = listed & ~shown_rows(data, scores, np.ones(len(scores), bool), 1)
    return {
        "answerable_f1": round(100 * float(top.f1[own].mean()), 2),
        "ece_answerable": round(float(expected_calibration_error(top.score[own], top.right[own])), 4),
        "ece_all": round(float(expected_calibration_error(top.score, top.right & own)), 4),
        "ece_listed": round(float(expected_calibration_error(scores[listed], right[listed])), 4),
        "alternatives_mean_shown": round(float(scores[alternatives].mean()), 4) if alternatives.any() else 0.0,
        "alternatives_right": round(float(right[alternatives].mean()), 4) if alternatives.any() else 0.0,
        "log_loss": round(_log_loss(scores[data.valid], data.f1[data.valid] >= RIGHT_F1), 4),
        **_refusals(data, top),
    }


def _refusals(data: Collected, top: TopAnswers) -> dict[str, float]:
    """At the threshold these scores would get (`choose_threshold`, the stated mix): expected F1, the
    answerable questions' F1 counting refusals as 0, and the share of unanswerable questions refused."""
    if top.answerable.all():
        return {}
    kinds = data.kinds[~top.answerable]
    choice = choose_threshold(
        top.support[top.answerable],
        top.f1[top.answerable],
        top.support[~top.answerable],
        ANSWERABLE_SHARE,
        unanswerable_mix_weights(kinds),
    )
    return {
        "expected_f1": round(100 * choice.expected_f1, 2),
        "answerable_f1_with_refusals": round(100 * choice.answerable_f1, 2),
        "unanswerable_refused": round(100 * choice.refused, 2),
    }


def _log_loss(scores: np.ndarray, labels: np.ndarray) -> float:
    clipped = np.clip(scores, 1e-6, 1 - 1e-6)
    return float(-np.mean(np.where(labels, np.log(clipped), np.log(1 - clipped))))


def ablation(data: Collected, log: Log = print) -> dict[str, dict[str, float]]:
    """Cross-fitted figures with the chosen ranking features, each of them left out and each other added."""
    results = {"chosen": cross_fitted_summary(data, RANKING_FEATURES)[0]}
    log(f"  {RANKING_FEATURES}: {results['chosen']}")
    for name in FEATURES:
        if name in data.missing_features and name not in RANKING_FEATURES:
            log(f"  with {name}: not in this cache")
            continue
        if name in RANKING_FEATURES:
            label, features = f"without {name}", [f for f in RANKING_FEATURES if f != name]
        else:
            label, features = f"with {name}", [*RANKING_FEATURES, name]
        results[label] = cross_fitted_summary(data, features)[0]
        log(f"  {label}: {results[label]}")
    return results


def choose_display_top(
    data: Collected, features: Sequence[str], log: Log = print
) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray], dict]:
    """How many listed answers per question the display model is fitted on: the choice among
    DISPLAY_TOP_CHOICES whose worse cross-fitted ECE, of the best answer's number and of every listed
    answer's (LISTED per question), is lowest: the first number must hold, and so must the alternatives'.
    Returns the choice, its cross-fitted scores, supports and read candidates, and every choice's figures."""
    if data.start is None:  # an old cache: overlapping cuts cannot be told apart, keep the best answer only
        return DISPLAY_TOP, cross_fitted_scores(data, features), {}
    scores, figures = {}, {}
    for k in DISPLAY_TOP_CHOICES:
        figures[k], scores[k] = cross_fitted_summary(data, features, display_top=k)
        log(f"  display model on the first {k} listed: {figures[k]}")
    chosen = min(figures, key=lambda k: (max(figures[k]["ece_answerable"], figures[k]["ece_listed"]), k))
    return chosen, scores[chosen], {f"display_top_{k}": value for k, value in figures.items()}


def fit(data: Collected, features: Sequence[str] = RANKING_FEATURES, log: Log = print) -> tuple[Calibrator, dict]:
    """The calibrator fitted on all candidates, its display model on the first `choose_display_top` listed
    answers, its support model on the best answers and its threshold chosen on cross-fitted best-answer
    supports."""
    display_top, (scores, supports, read), display_figures = choose_display_top(data, features, log)
    top = top_answers(data.read_only(read), scores, support=supports)
    kinds, unanswerable_scores = data.kinds[~top.answerable], top.support[~top.answerable]
    choice = choose_threshold(
        top.support[top.answerable],
        top.f1[top.answerable],
        unanswerable_scores,
        ANSWERABLE_SHARE,
        unanswerable_mix_weights(kinds),
    )
    refused_by_kind = {
        name: round(100 * float((unanswerable_scores[kinds == kind] < choice.threshold).mean()), 2)
        for kind, name in KIND_NAMES.items()
        if (kinds == kind).any()
    }
    fitted = fit_calibrator(data, np.ones(len(data.f1), bool), features, display_top=display_top)
    calibrator = replace(fitted, threshold=choice.threshold)
    notes = {
        "right_means": f"token F1 >= {RIGHT_F1} against a gold answer",
        "answerable_share": round(ANSWERABLE_SHARE, 4),
        "unanswerable_mix": {KIND_NAMES[kind]: share for kind, share in mix_for(kinds).items()},
        "display_fitted_on": (
            f"the first {display_top} answer(s) listed for each question asked of its own document "
            "(overlapping cuts and repeated texts skipped, as the engine lists them)"
        ),
        "best_display_fitted_on": (
            "the best answer of each question asked of its own document: its number comes from a display model of "
            "its own, the alternatives' from the one above, kept below it"
            if calibrator.best_display is not None
            else "none: the best answer's number comes from the display model above"
        ),
        "support_fitted_on": (
            "the best answer of each question asked of its own document, from its ranking logit alone"
            if calibrator.support_slope > 0
            else "none: the threshold applies to the number shown"
        ),
        "display_choice_cross_fitted": display_figures,
        "held_out_cross_fitted": {
            **summarise(data.read_only(read), scores, supports),
            "threshold_expected_f1": round(100 * choice.expected_f1, 2),
            "answerable_f1_with_refusals": round(100 * choice.answerable_f1, 2),
            "answerable_f1_never_refusing": round(100 * choice.answerable_f1_never_refusing, 2),
            "unanswerable_refused_percent": round(100 * choice.refused, 2),
            "unanswerable_refused_percent_by_kind": refused_by_kind,
        },
        "answerable_asks": int(data.ask_answerable.sum()),
        "unanswerable_asks": int((~data.ask_answerable).sum()),
        "unanswerable_asks_by_kind": {name: int((data.kinds == kind).sum()) for kind, name in KIND_NAMES.items()},
        "candidates": len(data.f1),
    }
    return calibrator, notes


def mix_for(kinds: np.ndarray) -> dict[int, float]:
    """The unanswerable mix that applies: with silver SQuAD 2.0 questions among the kinds, or without."""
    return UNANSWERABLE_MIX_WITH_SILVER if (kinds == ASK_SILVER_UNANSWERABLE).any() else UNANSWERABLE_MIX


KIND_NAMES = {ASK_ELSEWHERE: "elsewhere", ASK_WITHOUT_ANSWER: "without_answer", ASK_SILVER_UNANSWERABLE: "silver"}


def unanswerable_mix_weights(kinds: np.ndarray) -> np.ndarray:
    """Weights of unanswerable asks so that each kind present carries its UNANSWERABLE_MIX share (the shares
    of the kinds present renormalised; asks of a kind outside the mix weigh nothing)."""
    mix = mix_for(kinds)
    present = {kind: share for kind, share in mix.items() if (kinds == kind).any()}
    total = sum(present.values())
    weights = np.zeros(kinds.shape)
    for kind, share in present.items():
        inside = kinds == kind
        weights[inside] = share / total / inside.sum()
    return weights


def write_calibration(model_dir: Path, calibrator: Calibrator, notes: dict) -> dict:
    """Merge the calibration into model_dir/manifest.json (the model file and its sha256 stay as they are)."""
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["calibration"] = {
        **calibrator.to_manifest(),
        "fitted_on": (
            "held-out training articles (qa_reader.training.data.split_held_out) of "
            + ", ".join(CALIBRATION_SOURCES)
            + ", asked as whole documents: against their own document (answerable), the next one and their own"
            " with the paragraphs holding the answer taken out (not)"
        ),
        "caveat": _caveat(manifest),
        **notes,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest["calibration"]


def _caveat(manifest: dict) -> str:
    if manifest.get("training", {}).get("held_out_one_in"):
        return ""
    return (
        "This model's manifest does not record the held-out slice, so it was probably trained on these articles "
        "too (the bundled minilm-distilbert-squad-int8 was trained on all of SQuADShifts): the fit and its "
        "held-out figures are slightly optimistic. Measure on SQuAD dev (qa-reader eval --document-level)."
    )


def calibrate(
    model_dir: Path,
    train_dir: Path | None = None,
    every: int = 2,
    cache: Path | None = None,
    with_ablation: bool = False,
    log: Log = print,
    silver: Path | None = None,
    glossaries: bool = False,
    silver_from: Path | None = None,
) -> dict:
    """Collect (or load `cache`), fit, optionally ablate, and write the calibration into the manifest.
    `silver`: a pseudo-labelled SQuAD 2.0 file whose held-out articles are asked too; `glossaries`: every
    document gets its glossary; `silver_from`: an earlier cache of the same model whose silver asks are
    added to these (asking them again takes the longest part of a collection)."""
    if cache is not None and cache.exists():
        data = Collected.load(cache)
    else:
        data = collect(
            model_dir, train_dir or default_train_dir(), every=every, log=log, silver=silver, glossaries=glossaries
        )
        if cache is not None:
            data.save(cache)
    if silver_from is not None:
        if (data.kinds == ASK_SILVER_UNANSWERABLE).any():
            raise SystemExit("these candidates already hold silver asks: leave out --silver or --silver-from")
        borrowed = Collected.load(silver_from).silver_part()
        log(f"{len(borrowed.ask_answerable)} silver asks from {silver_from}")
        data = Collected.concatenated([data, borrowed])
    log(f"{len(data.f1)} candidates from {len(data.ask_answerable)} questions asked")
    results = {}
    if with_ablation:
        results = ablation(data, log)
    calibrator, notes = fit(data, log=log)
    if results:
        notes["ablation_cross_fitted"] = results
    if (data.kinds == ASK_SILVER_UNANSWERABLE).any():
        notes["silver"] = (
            "held-out articles of the silver SQuAD 2.0 train set, the questions the labelling's split found "
            "unanswerable asked of their own article (its answerable questions are left out: their labels "
            "come from the teacher, which the student agrees with far more than with gold answers)"
        )
    entry = write_calibration(model_dir, calibrator, notes)
    log(json.dumps({k: v for k, v in entry.items() if k != "ablation_cross_fitted"}, indent=2))
    return entry
