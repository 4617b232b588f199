"""SQuAD evaluation of the reader (paragraph level) and of the whole app (document level), with timings,
and calibration of the no-answer threshold on SQuAD 2.0."""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from qa_reader import squad
from qa_reader.baseline import sliding_window_answer
from qa_reader.calibration import RIGHT_F1, expected_calibration_error
from qa_reader.config import Settings
from qa_reader.engine import Engine
from qa_reader.errors import UserError
from qa_reader.reader.build import Prediction, Reader
from qa_reader.types import AnswerSet, Document, Page

Progress = Callable[[int, int], None]
WINDOWS_MAX_WORKERS = 61  # concurrent.futures' limit on Windows


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


class BaselineParagraphReader:
    """The sliding-window word-overlap baseline on one paragraph per question (no model)."""

    def predict(self, question: str, context: str) -> Prediction:
        answer = sliding_window_answer(question, context)
        return Prediction(context[answer.char_start : answer.char_end], answer.score, 0.0)


def evaluate_paragraphs(
    reader: Reader | BaselineParagraphReader,
    questions: Sequence[squad.Question],
    progress: Progress | None = None,
) -> tuple[EvalReport, list[Prediction]]:
    """Score the reader's best span for each question against its own paragraph (see `Reader.predict`),
    timing each question."""
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
    return OrderedDict((title, (document, asked)) for title, (document, asked, _) in _articles(questions).items())


def _articles(
    questions: Sequence[squad.Question],
) -> OrderedDict[str, tuple[Document, list[squad.Question], dict[int, tuple[int, int]]]]:
    """Per article: its document, its questions and each paragraph's [start, end) in the document text."""
    paragraphs: OrderedDict[str, OrderedDict[int, str]] = OrderedDict()
    asked: OrderedDict[str, list[squad.Question]] = OrderedDict()
    for question in questions:
        paragraphs.setdefault(question.title, OrderedDict())[question.paragraph_index] = question.context
        asked.setdefault(question.title, []).append(question)
    articles: OrderedDict[str, tuple[Document, list[squad.Question], dict[int, tuple[int, int]]]] = OrderedDict()
    for title, by_index in paragraphs.items():
        bounds: dict[int, tuple[int, int]] = {}
        offset = 0
        for index, context in by_index.items():
            bounds[index] = (offset, offset + len(context))
            offset += len(context) + 2
        text = "\n\n".join(by_index.values())
        document = Document(f"squad://{title}", title, "txt", f"squad:{title}", text, (Page(0, 0, len(text)),))
        articles[title] = (document, asked[title], bounds)
    return articles


@dataclass(frozen=True)
class DocumentOutcome:
    """One question asked of its whole article: the best candidate (found or a greyed guess) and its scores."""

    answerable: bool
    text: str  # "" when there was no candidate at all
    score: float
    found: bool  # the app would show it as the answer (not "not found")
    right_paragraph: bool  # the best candidate lies in the question's own paragraph
    exact_match: float
    f1: float  # 0 for unanswerable questions
    support: float | None = None  # what "not found" compared with the threshold (None: the score)


# The answerable F1 a threshold may cost in `DocumentReport.unanswerable_refusable` (issue 11's bound).
REFUSAL_F1_COST = 3.0


@dataclass(frozen=True)
class DocumentReport:
    """Whole-document figures in percent (ECE as a fraction) and per-question time in milliseconds."""

    questions: int
    answerable: int
    exact_match: float  # answerable questions, best candidate whether found or not
    f1: float
    right_paragraph: float  # answerable questions whose best candidate is in their own paragraph
    f1_with_refusals: float  # answerable questions, a "not found" scoring 0
    answerable_refused: float
    unanswerable_refused: float | None  # None when every question is answerable
    # The most unanswerable questions any threshold on the support refuses while answerable F1 with refusals
    # stays within REFUSAL_F1_COST points of never refusing: what the reading allows, measured on the set
    # itself, so reported only and never used to choose a threshold. None when every question is answerable.
    unanswerable_refusable: float | None
    ece: float  # best candidate's score against F1 >= 0.5, answerable questions, 10 bins
    questions_per_second: float
    ms_per_question: float

    def as_dict(self) -> dict[str, float | int | None]:
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in asdict(self).items()}


def document_report(outcomes: Sequence[DocumentOutcome], wall_s: float) -> DocumentReport:
    """Summarise document-level outcomes (see DocumentReport)."""
    own = [o for o in outcomes if o.answerable]
    absent = [o for o in outcomes if not o.answerable]

    def percent(values) -> float:
        values = list(values)
        return 100 * float(np.mean(values)) if values else 0.0

    scores = np.asarray([o.score for o in own])
    right = np.asarray([o.f1 >= RIGHT_F1 for o in own])
    return DocumentReport(
        questions=len(outcomes),
        answerable=len(own),
        exact_match=percent(o.exact_match for o in own),
        f1=percent(o.f1 for o in own),
        right_paragraph=percent(o.right_paragraph for o in own),
        f1_with_refusals=percent(o.f1 if o.found else 0.0 for o in own),
        answerable_refused=percent(not o.found for o in own),
        unanswerable_refused=percent(not o.found for o in absent) if absent else None,
        unanswerable_refusable=refusable(own, absent) if absent and own else None,
        ece=expected_calibration_error(scores, right),
        questions_per_second=len(outcomes) / wall_s if wall_s > 0 else 0.0,
        ms_per_question=1000 * wall_s / max(1, len(outcomes)),
    )


def refusable(answerable: Sequence[DocumentOutcome], unanswerable: Sequence[DocumentOutcome]) -> float:
    """The percentage of `unanswerable` that the best threshold on the support refuses while the answerable
    questions' F1 with refusals (a refusal scores 0) loses at most REFUSAL_F1_COST points against never
    refusing. Every threshold between two supports is tried; a question refuses when its support is below."""

    def supported(outcome: DocumentOutcome) -> float:
        return outcome.score if outcome.support is None else outcome.support

    own = np.asarray([supported(o) for o in answerable])
    f1 = np.asarray([o.f1 for o in answerable])
    absent = np.asarray([supported(o) for o in unanswerable])
    never_refusing = 100 * float(f1.mean())
    best = 0.0
    for threshold in np.unique(np.concatenate(([0.0], own, absent, [np.inf]))):
        if never_refusing - 100 * float(np.where(own >= threshold, f1, 0.0).mean()) <= REFUSAL_F1_COST + 1e-9:
            best = max(best, 100 * float((absent < threshold).mean()))
    return best


@dataclass(frozen=True)
class DocumentEvaluation:
    """Whole-document results, and (when asked for) those of the same reading without the calibration."""

    report: DocumentReport
    outcomes: list[DocumentOutcome]
    uncalibrated: DocumentReport | None = None


def evaluate_documents(
    model_dir: str | Path,
    questions: Sequence[squad.Question],
    settings: Settings | None = None,
    progress: Progress | None = None,
    reader: str = "model",
    batch_questions: int = 64,
    every: int = 1,
    compare_uncalibrated: bool = False,
    jobs: int = 1,
) -> DocumentEvaluation:
    """Ask questions against their whole article, as the app does: each article is indexed once and up to
    `batch_questions` of its questions are read together (`Engine.candidates`: never in shared batches).

    The articles are made of the paragraphs of `questions` (all of them when the file is evaluated whole);
    every `every`-th question of each article is asked. `reader="baseline"` answers with the sliding-window
    baseline over the article's text instead (it never refuses). `compare_uncalibrated` also ranks the
    same candidates as an uncalibrated model would (span probability + BM25, the manifest's threshold); every
    passage is then read, as that ranking cannot leave any unread.

    Every article is indexed before any question is asked, so that each question meets the same library (the
    set's articles: BM25's word weights come from all of them, as in the app's library and in `calibrate`'s
    fit) whatever the order of asking. `jobs` > 1 asks the articles in that many worker processes, each with
    its own engine and one onnxruntime thread: on 2 cores, two one-thread sessions read about a third more
    windows per second than one two-thread session (the small matrices of one window leave a second thread
    idle much of the time). The outcomes come back in the same order, and are the same whatever `jobs` is.
    """
    articles = [(document, asked[::every], bounds) for document, asked, bounds in _articles(questions).values()]
    total = sum(len(asked) for _, asked, _ in articles)
    library = [document for document, _, _ in articles]
    ask = _ArticleAsker(model_dir, settings, reader, batch_questions, compare_uncalibrated, library)
    outcomes: list[DocumentOutcome] = []
    before: list[DocumentOutcome] = []
    started = time.perf_counter()
    jobs = min(jobs, len(articles))
    if sys.platform == "win32":
        jobs = min(jobs, WINDOWS_MAX_WORKERS)
    if jobs > 1 and reader == "model":
        answered = _ask_in_processes(ask, articles, jobs, total, progress)
    else:
        done = 0

        def batch_done(asked: int) -> None:
            nonlocal done
            done += asked
            if progress:
                progress(done, total)

        try:
            answered = [ask(article, batch_done) for article in articles]
        finally:
            ask.close()
    for found, uncalibrated in answered:
        outcomes.extend(found)
        before.extend(uncalibrated)
    wall = time.perf_counter() - started
    return DocumentEvaluation(
        document_report(outcomes, wall), outcomes, document_report(before, wall) if compare_uncalibrated else None
    )


_Article = tuple[Document, list[squad.Question], dict[int, tuple[int, int]]]
_Answered = tuple[list[DocumentOutcome], list[DocumentOutcome]]  # calibrated, uncalibrated (or empty)


class _ArticleAsker:
    """Asks one article's questions: with the model, through an engine made on first use (so that a worker
    process builds its own) whose library holds every document of `library`; or with the baseline."""

    def __init__(
        self,
        model_dir: str | Path,
        settings: Settings | None,
        reader: str,
        batch_questions: int,
        compare_uncalibrated: bool,
        library: Sequence[Document],
    ) -> None:
        self.model_dir = model_dir
        self.library = library
        self.settings = settings
        self.reader = reader
        self.batch_questions = batch_questions
        self.compare_uncalibrated = compare_uncalibrated
        self._engine: Engine | None = None
        self._ids: dict[str, int] = {}

    def for_worker(self, threads: int) -> _ArticleAsker:
        """A copy for a worker process whose engine runs `threads` onnxruntime threads."""
        settings = replace(self.settings or Settings(), threads=threads)
        return _ArticleAsker(
            self.model_dir, settings, self.reader, self.batch_questions, self.compare_uncalibrated, self.library
        )

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_engine": None, "_ids": {}}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def __call__(self, article: _Article, batch_done: Callable[[int], None] | None = None) -> _Answered:
        """The outcomes of `article`'s questions; `batch_done(n)` after each batch of n questions."""
        document, asked, bounds = article
        if self.reader != "model":
            found = []
            for question in asked:
                answer = sliding_window_answer(question.question, document.text)
                text = document.text[answer.char_start : answer.char_end]
                found.append(_outcome(question, text, answer.score, True, answer.char_start, bounds))
            if batch_done:
                batch_done(len(asked))
            return found, []
        if self._engine is None:
            self._engine = Engine(None, self.model_dir, self.settings)
            self._engine.load_model()
            self._ids = {shelved.path: self._engine.add_document(shelved) for shelved in self.library}
        engine = self._engine
        document_id = self._ids[document.path]
        outcomes: list[DocumentOutcome] = []
        before: list[DocumentOutcome] = []
        for offset in range(0, len(asked), self.batch_questions):
            batch = asked[offset : offset + self.batch_questions]
            exhaustive = self.compare_uncalibrated
            gathered = engine.candidates([q.question for q in batch], [document_id], exhaustive=exhaustive)
            modes = [(outcomes, True)] + ([(before, False)] if self.compare_uncalibrated else [])
            for into, calibrated in modes:
                results = engine.answer_sets(gathered, [document_id], calibrated=calibrated)
                for question, result in zip(batch, results):
                    best = _best(result)
                    text, score, where = (best.text, best.score, best.char_start) if best else ("", 0.0, -1)
                    support = best.support if best else None
                    into.append(_outcome(question, text, score, result.found, where, bounds, support))
            if batch_done:
                batch_done(len(batch))
        return outcomes, before


_worker_asker: _ArticleAsker | None = None


def _start_worker(asker: _ArticleAsker) -> None:
    global _worker_asker
    _worker_asker = asker


def _ask_in_worker(article: _Article) -> _Answered:
    assert _worker_asker is not None, "the worker process was started without its asker"
    return _worker_asker(article)


def _ask_in_processes(
    ask: _ArticleAsker, articles: Sequence[_Article], jobs: int, total: int, progress: Progress | None
) -> list[_Answered]:
    """`ask` over `articles` in `jobs` spawned processes (one onnxruntime thread each), in article order. The
    longest articles go first so that no worker is left with a long one at the end."""
    longest_first = sorted(range(len(articles)), key=lambda i: -len(articles[i][0].text) * len(articles[i][1]))
    answered: dict[int, _Answered] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold onnxruntime threads
    worker = ask.for_worker(threads=1)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(worker,)) as pool:
        futures = {pool.submit(_ask_in_worker, articles[i]): i for i in longest_first}
        done = 0
        try:
            for future in as_completed(futures):
                answered[futures[future]] = future.result()
                done += len(answered[futures[future]][0])
                if progress:
                    progress(done, total)
        except BaseException:
            pool.shutdown(cancel_futures=True)  # the error now, not after every other article
            raise
    return [answered[i] for i in range(len(articles))]


def _outcome(
    question: squad.Question,
    text: str,
    score: float,
    found: bool,
    char_start: int,
    bounds: dict[int, tuple[int, int]],
    support: float | None = None,
) -> DocumentOutcome:
    start, end = bounds[question.paragraph_index]
    exact, f1 = squad.score(text, question.answers) if question.answers else (0.0, 0.0)
    return DocumentOutcome(bool(question.answers), text, score, found, start <= char_start < end, exact, f1, support)


@dataclass(frozen=True)
class Calibration:
    """The no-answer threshold that maximises SQuAD 2.0 F1, and what it gives."""

    threshold: float
    f1: float
    exact_match: float
    has_answer_f1: float
    no_answer_accuracy: float
    questions: int


def _span_scores(predictions: Sequence[Prediction], questions: Sequence[squad.Question]):
    scores = [squad.score(p.text, q.answers) if q.answers else (0.0, 0.0) for p, q in zip(predictions, questions)]
    return (
        np.asarray([p.probability for p in predictions]),
        np.asarray([bool(q.answers) for q in questions]),
        np.asarray([s[0] for s in scores]),
        np.asarray([s[1] for s in scores]),
    )


def _at(threshold: float, probabilities, has_answer, em_if_answered, f1_if_answered) -> Calibration:
    answered = probabilities >= threshold
    f1 = np.where(answered, f1_if_answered, ~has_answer).astype(float)
    em = np.where(answered, em_if_answered, ~has_answer).astype(float)
    return Calibration(
        threshold=float(threshold),
        f1=100 * float(f1.mean()),
        exact_match=100 * float(em.mean()),
        has_answer_f1=100 * float(f1[has_answer].mean()) if has_answer.any() else 0.0,
        no_answer_accuracy=100 * float((~answered[~has_answer]).mean()) if (~has_answer).any() else 0.0,
        questions=len(probabilities),
    )


def threshold_outcome(
    predictions: Sequence[Prediction], questions: Sequence[squad.Question], threshold: float
) -> Calibration:
    """SQuAD 2.0 scores when every span whose probability is below `threshold` is replaced by "" (no answer)."""
    return _at(threshold, *_span_scores(predictions, questions))


def calibrate_threshold(predictions: Sequence[Prediction], questions: Sequence[squad.Question]) -> Calibration:
    """The span-probability threshold below which answering "" maximises SQuAD 2.0 F1 over `questions`
    (choose it on training data; on an evaluation set it is only the best that set allows)."""
    arrays = _span_scores(predictions, questions)
    best: Calibration | None = None
    for threshold in np.unique(np.concatenate(([0.0], arrays[0], [1.01]))):
        candidate = _at(float(threshold), *arrays)
        if best is None or candidate.f1 > best.f1:
            best = candidate
    assert best is not None
    return best


def _best(result: AnswerSet):
    return (result.answers or result.guesses or (None,))[0]
