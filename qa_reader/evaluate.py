"""SQuAD evaluation of the reader (paragraph level) and of the whole app (document level), with timings,
and calibration of the no-answer threshold on SQuAD 2.0."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa_reader import squad
from qa_reader.config import Settings
from qa_reader.engine import Engine
from qa_reader.errors import UserError
from qa_reader.reader.model import ModelFolder
from qa_reader.reader.predict import ReadRequest, read_many
from qa_reader.reader.windows import WindowMaker, WindowSettings
from qa_reader.types import AnswerSet, Document, Page

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EvalReport:
    """SQuAD scores in percent and per-question latency in milliseconds."""

    exact_match: float
    f1: float
    questions: int
    questions_per_second: float
    ms_mean: float
    ms_p50: float
    ms_p90: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "exact_match": round(self.exact_match, 2),
            "f1": round(self.f1, 2),
            "questions": self.questions,
            "questions_per_second": round(self.questions_per_second, 2),
            "ms_mean": round(self.ms_mean, 2),
            "ms_p50": round(self.ms_p50, 2),
            "ms_p90": round(self.ms_p90, 2),
        }


@dataclass(frozen=True)
class Prediction:
    """The reader's best span for a question and its probability ("" when there is no span)."""

    text: str
    probability: float
    null_probability: float


def load_questions(path: str | Path, limit: int | None = None) -> list[squad.Question]:
    """SQuAD questions from a file; raises UserError when it cannot be read as SQuAD JSON."""
    try:
        questions = squad.load(path)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise UserError(f"{path} is not a SQuAD JSON file ({error}).") from error
    if limit is not None:
        questions = questions[:limit]
    if not questions:
        raise UserError(f"{path} holds no questions.")
    return questions


def _report(scores: Sequence[tuple[float, float]], timings_ms: Sequence[float], wall_s: float) -> EvalReport:
    timings = np.asarray(timings_ms, dtype=np.float64)
    return EvalReport(
        exact_match=100 * float(np.mean([em for em, _ in scores])),
        f1=100 * float(np.mean([f1 for _, f1 in scores])),
        questions=len(scores),
        questions_per_second=len(scores) / wall_s if wall_s > 0 else 0.0,
        ms_mean=float(timings.mean()),
        ms_p50=float(np.percentile(timings, 50)),
        ms_p90=float(np.percentile(timings, 90)),
    )


class ParagraphReader:
    """The bare reader on one paragraph per question, as the SQuAD benchmark defines it."""

    def __init__(self, model_dir: str | Path, settings: Settings | None = None, model_file: str | None = None) -> None:
        from qa_reader.reader.session import OnnxReader

        settings = settings or Settings()
        self.model = ModelFolder.open(model_dir, verify=model_file is None)
        if model_file is not None:
            self.model = ModelFolder(self.model.path, {**self.model.manifest, "sha256": ""})
        self.maker = WindowMaker.from_file(
            self.model.tokenizer_file, WindowSettings(max_length=settings.max_length, doc_stride=settings.doc_stride)
        )
        self.runner = OnnxReader(self.model, settings.threads, model_file=model_file)
        self.max_answer_tokens = settings.max_answer_tokens

    def predict(self, question: str, context: str) -> Prediction:
        request = ReadRequest(self.maker.question_ids(question), self.maker.tokenize([context]))
        spans = read_many(self.runner, self.maker, [request], max_answer_tokens=self.max_answer_tokens)[0]
        if not spans:
            return Prediction("", 0.0, 1.0)
        best = spans[0]
        return Prediction(context[best.char_start : best.char_end], best.probability, best.null_probability)


def evaluate_paragraphs(
    reader: ParagraphReader, questions: Sequence[squad.Question], progress: Progress | None = None
) -> tuple[EvalReport, list[Prediction]]:
    """Score the reader's best span for each question against its own paragraph, timing each question."""
    scores, timings, predictions = [], [], []
    wall = time.perf_counter()
    for number, question in enumerate(questions, start=1):
        started = time.perf_counter()
        prediction = reader.predict(question.question, question.context)
        timings.append((time.perf_counter() - started) * 1000)
        predictions.append(prediction)
        scores.append(squad.score(prediction.text, question.answers))
        if progress:
            progress(number, len(questions))
    return _report(scores, timings, time.perf_counter() - wall), predictions


def article_documents(questions: Sequence[squad.Question]) -> OrderedDict[str, tuple[Document, list[squad.Question]]]:
    """One flowing-text document per SQuAD article (its paragraphs joined by blank lines)."""
    paragraphs: OrderedDict[str, OrderedDict[int, str]] = OrderedDict()
    asked: OrderedDict[str, list[squad.Question]] = OrderedDict()
    for question in questions:
        paragraphs.setdefault(question.title, OrderedDict())[question.paragraph_index] = question.context
        asked.setdefault(question.title, []).append(question)
    documents: OrderedDict[str, tuple[Document, list[squad.Question]]] = OrderedDict()
    for title, by_index in paragraphs.items():
        text = "\n\n".join(by_index.values())
        document = Document(f"squad://{title}", title, "txt", f"squad:{title}", text, (Page(0, 0, len(text)),))
        documents[title] = (document, asked[title])
    return documents


def evaluate_documents(
    model_dir: str | Path,
    questions: Sequence[squad.Question],
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Ask every question against its whole article through search + reader, as the app does.

    Only the paragraphs that carry the evaluated questions make up each article (all of them when
    the file is evaluated whole). The best candidate counts, above the threshold or not.
    """
    engine = Engine(None, model_dir, settings)
    engine.load_model()
    scores, timings = [], []
    wall = 0.0
    done = 0
    for document, article_questions in article_documents(questions).values():
        document_id = engine.add_document(document)
        for question in article_questions:
            started = time.perf_counter()
            result = engine.ask(question.question, [document_id])
            elapsed = time.perf_counter() - started
            wall += elapsed
            timings.append(elapsed * 1000)
            best = _best(result)
            scores.append(squad.score(best.text if best else "", question.answers))
            done += 1
            if progress:
                progress(done, len(questions))
    engine.close()
    return _report(scores, timings, wall)


@dataclass(frozen=True)
class Calibration:
    """The no-answer threshold that maximises SQuAD 2.0 F1, and what it gives."""

    threshold: float
    f1: float
    exact_match: float
    has_answer_f1: float
    no_answer_accuracy: float
    questions: int


def calibrate_threshold(predictions: Sequence[Prediction], questions: Sequence[squad.Question]) -> Calibration:
    """Pick the span-probability threshold below which answering "" maximises F1 over SQuAD 2.0 questions."""
    span_scores = [squad.score(p.text, q.answers) if q.answers else (0.0, 0.0) for p, q in zip(predictions, questions)]
    probabilities = np.asarray([p.probability for p in predictions])
    has_answer = np.asarray([bool(q.answers) for q in questions])
    em_if_answered = np.asarray([s[0] for s in span_scores])
    f1_if_answered = np.asarray([s[1] for s in span_scores])
    best: Calibration | None = None
    for threshold in np.unique(np.concatenate(([0.0], probabilities, [1.01]))):
        answered = probabilities >= threshold
        f1 = np.where(answered, f1_if_answered, ~has_answer).astype(float)
        em = np.where(answered, em_if_answered, ~has_answer).astype(float)
        candidate = Calibration(
            threshold=float(threshold),
            f1=100 * float(f1.mean()),
            exact_match=100 * float(em.mean()),
            has_answer_f1=100 * float(f1[has_answer].mean()) if has_answer.any() else 0.0,
            no_answer_accuracy=100 * float((~answered[~has_answer]).mean()) if (~has_answer).any() else 0.0,
            questions=len(questions),
        )
        if best is None or candidate.f1 > best.f1:
            best = candidate
    assert best is not None
    return best


@dataclass(frozen=True)
class DocumentCalibration:
    """The threshold for whole documents, chosen on half the articles and measured on the other half."""

    threshold: float
    answered_f1: float  # held-out half, answer in the document: F1 of the best answer (a refusal scores 0)
    refused: float  # held-out half, answer not in the document: % of questions refused
    questions: int  # questions per side (own article / another article), both halves


def calibrate_document_threshold(
    model_dir: str | Path, questions: Sequence[squad.Question], every: int = 12, progress: Progress | None = None
) -> DocumentCalibration:
    """The probability threshold for the best-ranked answer over a whole document.

    Every `every`-th question of each article is asked twice through search + reader: against its own
    article (the answer is there) and against the next article (it is not). The threshold maximises the
    mean of F1 on the first and refusal rate on the second, chosen on even-numbered articles and
    reported on odd-numbered ones. (The SQuAD 2.0 threshold is calibrated on single paragraphs with
    adversarial unanswerable questions; over a whole document it refuses most right answers.)
    """
    engine = Engine(None, model_dir, Settings(threshold=0.0))
    engine.load_model()
    documents = list(article_documents(questions).values())
    ids = [engine.add_document(document) for document, _ in documents]
    # half -> (own article: (probability, F1), other article: probability)
    found: dict[bool, tuple[list[tuple[float, float]], list[float]]] = {True: ([], []), False: ([], [])}
    total = sum(len(asked[::every]) for _, asked in documents)
    done = 0
    for index, (_, asked) in enumerate(documents):
        own, other = found[index % 2 == 0]
        for question in asked[::every]:
            best = _best(engine.ask(question.question, [ids[index]], remember=False))
            own.append((best.score if best else 0.0, squad.score(best.text if best else "", question.answers)[1]))
            best = _best(engine.ask(question.question, [ids[(index + 1) % len(ids)]], remember=False))
            other.append(best.score if best else 0.0)
            done += 1
            if progress:
                progress(done, total)
    engine.close()

    def objective(threshold: float, half: bool) -> tuple[float, float, float]:
        own, other = found[half]
        f1 = float(np.mean([f if p >= threshold else 0.0 for p, f in own]))
        refused = float(np.mean([p < threshold for p in other]))
        return (f1 + refused) / 2, f1, refused

    threshold = max((float(t) for t in np.linspace(0.0, 1.0, 101)), key=lambda t: objective(t, True)[0])
    _, f1, refused = objective(threshold, False)
    return DocumentCalibration(round(threshold, 2), 100 * f1, 100 * refused, done)


def _best(result: AnswerSet):
    return (result.answers or result.guesses or (None,))[0]
