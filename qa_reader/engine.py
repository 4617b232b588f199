"""The one façade the GUI and the CLI call: index documents, ask questions, get located answers."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from stat import S_ISREG

import numpy as np

from qa_reader import config, ingest, search
from qa_reader.calibration import FEATURES, Calibrator, SpanEvidence, feature_matrix
from qa_reader.errors import DocumentError, UserError, failure_reason
from qa_reader.highlight import span_highlights
from qa_reader.ingest.files import check_file, sample_sha256
from qa_reader.ingest.text import headings_of_markdown
from qa_reader.passages import split_passages
from qa_reader.reader.build import Reader, build_reader
from qa_reader.reader.model import ModelFolder
from qa_reader.reader.predict import ContextSpan, ReadRequest
from qa_reader.reader.windows import TokenizedText
from qa_reader.squad import normalize_answer
from qa_reader.store import Library
from qa_reader.types import (
    Answer,
    AnswerSet,
    Document,
    DocumentContent,
    DocumentRecord,
    FailureReason,
    Highlight,
    LibraryEntry,
    Page,
    Passage,
)

MAX_QUESTION_CHARS = 1000
# A file modified this close to being indexed is hashed in full next time (see Engine._looks_unchanged).
RACY_SECONDS = 2.0
CANDIDATES_KEPT = 20
# Part of every cache key: answers cached before a field was added to Answer (page_label) are read again.
ANSWER_FORMAT = "answer-v2"
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*\s|\n\s*\n")

ProgressCallback = Callable[[str, float], None]
# Called between the steps of indexing a file (after each page of a PDF is read, and once its passages are
# made): the engine holds no transaction there, so other calls to it (a question) may run inside.
BetweenSteps = Callable[[], None]
FIRST_MS_PER_PASSAGE = 15.0  # what a passage is taken to cost until a question has been timed on this machine
# A question being typed reads this many passages at most (the best by BM25), so that its answer can follow the
# typing; Enter reads as the settings say. A stated choice, as the presets' passage counts are.
LIVE_PASSAGES = 4


@dataclass(frozen=True)
class Candidates:
    """One question's answer candidates before scoring: the reader's spans, their passages and features
    (row i of `features` describes `spans[i]`; columns in `calibration.FEATURES` order)."""

    question: str
    spans: list[ContextSpan]
    passage_ids: list[int]
    rows: dict[int, tuple[int, Passage]]  # passage id -> (document id, passage)
    evidence: list[SpanEvidence]
    features: np.ndarray
    bm25_scale: float = 1.0  # log(1 + passages in the library): the "bm25" feature is BM25 divided by it


class Cancelled(Exception):
    """Raised inside `Engine.index` when its cancel event is set."""


class TooSlow(UserError):
    """A question that would take longer than the caller allows (see `Engine.ask`'s `within_ms`)."""

    def __init__(self, estimate_ms: float, within_ms: float) -> None:
        super().__init__(
            f"A question here takes about {estimate_ms:.0f} ms on this machine, more than the {within_ms:.0f} ms "
            "allowed."
        )
        self.estimate_ms = estimate_ms


class ReadingSpeed:
    """Milliseconds per passage read, measured on this machine from the questions the model answered."""

    def __init__(self, ms_per_passage: float = FIRST_MS_PER_PASSAGE) -> None:
        self.ms_per_passage = ms_per_passage

    def learn(self, elapsed_ms: float, passages: int) -> None:
        """Fold a question's time into the speed (half the old figure, half the new)."""
        if passages:
            self.ms_per_passage = 0.5 * self.ms_per_passage + 0.5 * elapsed_ms / passages


def normalize_question(question: str) -> str:
    """Lower-case, single-spaced, without trailing punctuation: what the answer cache keys on."""
    return " ".join(question.lower().split()).rstrip(" ?.!")


def check_question(question: str) -> str:
    """The question stripped; raises UserError when it is empty or too long."""
    stripped = question.strip()
    if not stripped:
        raise UserError("The question is empty: type a question first.")
    if not _is_text(stripped):
        raise UserError("The question holds bytes that are not UTF-8 text: type it again in plain text.")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise UserError(f"The question is {len(stripped):,} characters long; ask it in at most {MAX_QUESTION_CHARS:,}.")
    return stripped


class Engine:
    """Library + reader. Not thread-safe: create it on the thread that uses it (the GUI's worker)."""

    def __init__(
        self,
        library_path: str | Path | None = None,
        model_dir: str | Path | None = None,
        settings: config.Settings | None = None,
    ) -> None:
        """Open the library (None: an in-memory one). The model loads on first use or `load_model()`."""
        self.library = Library(library_path)
        self.model_dir = Path(model_dir) if model_dir is not None else config.default_model_dir()
        self.settings = settings or config.Settings()
        self.speed = ReadingSpeed()
        self._folder: ModelFolder | None = None
        self._reader: Reader | None = None
        self._tokens: OrderedDict[int, TokenizedText] = OrderedDict()
        self._calibrator: Calibrator | bool | None = None  # False: the model has no usable calibration

    def close(self) -> None:
        self.library.close()

    # --- model ------------------------------------------------------------------------------------

    def model_folder(self) -> ModelFolder:
        """The verified model folder (its manifest and checksum), without starting a session."""
        if self._folder is None:
            self._folder = ModelFolder.open(self.model_dir)
        return self._folder

    def load_model(self) -> ModelFolder:
        """Load and verify the model (once). Raises UserError for a missing or damaged model."""
        return self._ready_reader().model

    @property
    def model_loaded(self) -> bool:
        """Whether the reader (its ONNX session) has been built."""
        return self._reader is not None

    def reader_lanes(self) -> int:
        """How many batches the model reads side by side (the model is loaded first)."""
        return self._ready_reader().lanes

    def _ready_reader(self) -> Reader:
        if self._reader is None:
            self._reader = build_reader(self.model_folder(), self.settings)
        return self._reader

    def update_settings(self, settings: config.Settings) -> None:
        """Apply new settings; one declared `reload` (window length, stride, threads) builds the reader again."""
        reload = settings.needs_reload(self.settings)
        self.settings = settings
        if reload:
            self._reader = None
            self._tokens.clear()

    @property
    def threshold(self) -> float:
        """The best answer's score below which a question counts as not answered: the settings' override,
        else the calibration's, else (an uncalibrated model) the manifest's document threshold."""
        if self.settings.threshold is not None:
            return self.settings.threshold
        calibrator = self.calibrator()
        if calibrator is not None:
            return calibrator.threshold
        return self._uncalibrated_threshold()

    def _uncalibrated_threshold(self) -> float:
        if self.settings.threshold is not None:
            return self.settings.threshold
        return self.model_folder().document_threshold

    # --- indexing ---------------------------------------------------------------------------------

    def index(
        self,
        path: str | Path,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        remember_failure: bool = False,
        between_steps: BetweenSteps | None = None,
    ) -> DocumentRecord:
        """Add a file to the library (or refresh it) and return its record.

        An unchanged file (same size and mtime, or same content hash) is not read again. Raises
        UserError for unreadable input (recorded as a failed document only with `remember_failure`),
        Cancelled when `cancel` is set; the library is unchanged in both cases. `between_steps` is called
        after each page of a PDF is read and once the passages are made, where other calls to this engine
        (a question, over the documents already indexed) may run before indexing goes on.
        """
        report = progress or (lambda stage, fraction: None)
        pause = between_steps or (lambda: None)
        try:
            absolute = str(Path(path).expanduser().resolve())
        except RuntimeError:  # Python 3.11 says "Symlink loop" this way; later versions raise OSError
            raise UserError(f"{path} is a symbolic link that leads back to itself, so it cannot be read.") from None
        except OSError as error:
            raise UserError(f"{path} cannot be read ({error.strerror}).") from None
        if not _is_text(absolute):
            shown = os.fsencode(absolute).decode("utf-8", errors="replace")
            raise UserError(f"{shown}: the file's name is not UTF-8 text, so the library cannot hold it; rename it.")
        try:
            stat = os.stat(absolute)
        except FileNotFoundError:
            raise UserError(f"{path} does not exist.") from None
        except OSError as error:
            raise UserError(f"{path} cannot be read ({error.strerror}).") from None
        existing = self.library.document_by_path(absolute)
        if existing is not None and existing.status.searchable and self._looks_unchanged(existing, stat):
            report("unchanged", 1.0)
            return existing
        report("reading", 0.0)
        try:
            # Before anything reads it: a FIFO would block and a link to /dev/zero never ends.
            check_file(Path(absolute), name=Path(path).name)
            sample = sample_sha256(absolute, stat.st_size)
            sha256 = ingest.sha256_file(absolute)
            if existing is not None and existing.status.searchable and existing.sha256 == sha256:
                self.library.touch(existing.id, stat.st_mtime, stat.st_size, sample)
                report("unchanged", 1.0)
                return self.library.document(existing.id)
            _check_cancel(cancel)

            def page_read(done: int, total: int) -> None:
                report("reading", 0.7 * done / total)
                _check_cancel(cancel)
                pause()
                _check_cancel(cancel)

            document = ingest.load(absolute, sha256=sha256, progress=page_read)
        except UserError as error:
            if remember_failure:
                reason = failure_reason(error)
                self.library.record_failure(absolute, str(error), reason, mtime=stat.st_mtime, size=stat.st_size)
            raise
        _check_cancel(cancel)
        report("passages", 0.7)
        document_id = self.add_document(
            document, mtime=stat.st_mtime, size=stat.st_size, cancel=cancel, sample_sha256=sample, between_steps=pause
        )
        report("ready", 1.0)
        return self.library.document(document_id)

    def add_document(
        self,
        document: Document,
        mtime: float = 0.0,
        size: int = 0,
        cancel: threading.Event | None = None,
        sample_sha256: str = "",
        between_steps: BetweenSteps | None = None,
    ) -> int:
        """Store an already-loaded document with its passages; return its id. `between_steps` is called once
        the passages are made, before they are stored (see `index`)."""
        passages = split_passages(document.text)
        if not passages:
            raise DocumentError(f"{Path(document.path).name} contains no text to search.", FailureReason.NO_TEXT)
        _check_cancel(cancel)
        if between_steps is not None:
            between_steps()
            _check_cancel(cancel)
        previous = self.library.document_by_path(document.path)
        document_id = self.library.save_document(
            document, passages, mtime=mtime, size=size, sample_sha256=sample_sha256
        )
        if previous is not None:
            self._tokens.clear()
        return document_id

    def documents(self) -> list[DocumentRecord]:
        return self.library.documents()

    def library_entries(self) -> list[LibraryEntry]:
        """Every document of the library with how its file on disk compares with what was indexed: gone, or
        changed since (a failed one is never stale: it is read again only when asked to)."""
        entries = []
        for record in self.library.documents():
            missing = not Path(record.path).exists()
            stale = not missing and record.status.searchable and self.is_stale(record)
            entries.append(LibraryEntry(record, stale, missing))
        return entries

    def document_content(self, document_id: int) -> DocumentContent:
        """What the document view shows of one document: its text, pages, character boxes (read page by page
        when first needed) and a Markdown file's headings. Raises UserError when it is not in the library."""
        record = self.library.document(document_id)
        pages = tuple(self.library.pages(document_id))
        headings: tuple[tuple[int, str], ...] = ()
        if record.format == "md":
            headings = tuple(headings_of_markdown(Path(record.path)))
        boxes = self.library.character_boxes(document_id, pages)
        return DocumentContent(record, self.library.document_text(document_id), pages, boxes, headings)

    def remove(self, document_id: int) -> None:
        self.library.remove(document_id)
        self._tokens.clear()

    def is_stale(self, record: DocumentRecord) -> bool:
        """True when the file on disk differs from what was indexed (or is gone): another size or mtime, or,
        with both the same, other bytes at its start, middle or end."""
        try:
            stat = os.stat(record.path)
        except OSError:
            return True
        if stat.st_mtime != record.mtime or stat.st_size != record.size or not S_ISREG(stat.st_mode):
            return True
        if not record.sample_sha256:  # indexed before samples were kept: size and mtime are all there is
            return False
        try:
            return sample_sha256(record.path, stat.st_size) != record.sample_sha256
        except UserError:
            return True

    @staticmethod
    def _looks_unchanged(record: DocumentRecord, stat: os.stat_result) -> bool:
        """Whether a file can be taken as unchanged without hashing all of it.

        Size and mtime are not enough: an editor or a sync tool can rewrite a file to the same size and
        put its mtime back. So the sample hash (start, middle, end; a small file whole) must match too. And
        when the file was modified within RACY_SECONDS of being read (filesystems that keep mtimes to 2 s,
        or an edit in the same tick), a later same-size edit could keep its mtime: hash it all.
        """
        if stat.st_mtime != record.mtime or stat.st_size != record.size or not S_ISREG(stat.st_mode):
            return False
        if not record.sample_sha256 or record.mtime + RACY_SECONDS >= record.indexed_at:
            return False
        try:
            return sample_sha256(record.path, stat.st_size) == record.sample_sha256
        except UserError:
            return False

    # --- asking -----------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        document_ids: Sequence[int] | None = None,
        top_k: int | None = None,
        remember: bool = True,
        within_ms: float | None = None,
        budget: str | None = None,
        live: bool = False,
    ) -> AnswerSet:
        """Answer a question over some documents (None: every searchable one in the library).

        `remember=False` keeps it out of the question history (live answers while typing, batches).
        `within_ms`: a question the model would take longer than this to read (`estimate_ms`) is not read.
        `budget`: a length-adaptive model's budget for this question only (None: the settings' one).
        `live`: a question being typed: only the LIVE_PASSAGES best passages are read, at the model's fastest
        budget (`live_budget`) unless `budget` is given.
        Raises UserError for an empty or overlong question, an empty library or a model problem; TooSlow (a
        UserError) for a question over `within_ms` whose answers are not in the cache.
        """
        started = time.perf_counter()
        question = check_question(question)
        records = self._searchable(document_ids)
        settings = self.live_settings() if live else self.settings
        budget = self._budget(self.live_budget if live and budget is None else budget)
        self.model_folder().keep_ratios(budget)  # an unknown budget is refused before the cache is looked at
        key = self._cache_key(question, records, self.model_folder().identity, budget, settings)
        cached = self.library.cached(key)
        if cached is not None:
            candidates = [_answer_from_json(item) for item in json.loads(cached)]
            from_cache = True
        else:
            passages = self.passages_read(records, settings)
            # The speed is learned as every token would read; a budget reads its measured times faster.
            speedup = self.model_folder().speedup(budget)
            estimate = passages * self.speed.ms_per_passage / speedup
            if within_ms is not None and estimate > within_ms:
                raise TooSlow(estimate, within_ms)
            self.load_model()
            candidates = self._read(question, records, budget, settings)
            self.library.cache(key, question, json.dumps([_answer_to_json(a) for a in candidates]))
            self.speed.learn((time.perf_counter() - started) * 1000 * speedup, passages)
            from_cache = False
        result = self._answer_set(question, candidates, top_k, from_cache, started)
        if remember:
            best = result.answers[0].text if result.answers else ""
            self.library.add_history(question, ",".join(str(r.id) for r in records), best)
        return result

    def _answer_set(
        self,
        question: str,
        candidates: list[Answer],
        top_k: int | None,
        from_cache: bool,
        started: float,
        threshold: float | None = None,
    ) -> AnswerSet:
        """Split ranked candidates at the threshold into answers and greyed guesses, `top_k` in all.

        The best-ranked candidate decides whether the question is answered: when it is below the
        threshold everything is a guess (a confident span from a passage that matches the question
        worse is not promoted over it), and the order stays the ranking's. When it is answered, the
        less likely candidates below the threshold fill the rest of the list as guesses (alternatives).
        """
        top_k = top_k or self.settings.top_k
        threshold = self.threshold if threshold is None else threshold
        if candidates and candidates[0].passes >= threshold:
            answers = tuple(a for a in candidates if a.passes >= threshold)[:top_k]
            guesses = tuple(a for a in candidates if a.passes < threshold)[: top_k - len(answers)]
        else:
            answers, guesses = (), tuple(candidates[:top_k])
        elapsed = (time.perf_counter() - started) * 1000
        return AnswerSet(question, answers, guesses, threshold, from_cache=from_cache, elapsed_ms=elapsed)

    def cached_answers(
        self, question: str, document_ids: Sequence[int] | None = None, top_k: int | None = None
    ) -> AnswerSet | None:
        """The cached answers to a question, or None when it would need the model (never runs it)."""
        started = time.perf_counter()
        question = check_question(question)
        records = self._searchable(document_ids)
        cached = self.library.cached(self._cache_key(question, records, self.model_folder().identity))
        if cached is None:
            return None
        candidates = [_answer_from_json(item) for item in json.loads(cached)]
        return self._answer_set(question, candidates, top_k, True, started)

    def live_settings(self) -> config.Settings:
        """The settings of a question being typed: at most LIVE_PASSAGES passages, the best by BM25, and no
        document read whole or with neighbours beyond them (Enter reads as the settings say)."""
        cap = min(self.settings.passages_to_read, LIVE_PASSAGES)
        return replace(self.settings, passages_to_read=cap, read_whole_below=cap, neighbours_of=0)

    def passages_read(self, records: Sequence[DocumentRecord], settings: config.Settings | None = None) -> int:
        """How many passages a question about these documents reads (see `search.passages_read`)."""
        return search.passages_read([record.passage_count for record in records], settings or self.settings)

    def estimate_ms(self, document_ids: Sequence[int] | None = None) -> float:
        """How long the model should take to read a question about these documents (None: the library) on
        this machine. Raises UserError like `ask` when there is nothing to ask."""
        return self.passages_read(self._searchable(document_ids)) * self.speed.ms_per_passage

    def _searchable(self, document_ids: Sequence[int] | None) -> list[DocumentRecord]:
        if document_ids is None:
            records = [r for r in self.library.documents() if r.status.searchable]
            if not records:
                raise UserError("The library has no searchable document yet: add one first.")
            return records
        records = [self.library.document(i) for i in document_ids]
        unusable = [r for r in records if not r.status.searchable]
        if unusable:
            raise UserError(f"{Path(unusable[0].path).name} could not be indexed: {unusable[0].error}")
        if not records:
            raise UserError("No document was chosen to ask about.")
        return records

    def _cache_key(
        self,
        question: str,
        records: Sequence[DocumentRecord],
        model_identity: str,
        budget: str | None = None,
        settings: config.Settings | None = None,
    ) -> str:
        # A refitted calibration changes every score without changing the model file's sha256.
        calibration = json.dumps(self.model_folder().manifest.get("calibration"), sort_keys=True)
        settings = replace(settings or self.settings, length_budget=self._budget(budget))
        parts = [ANSWER_FORMAT, normalize_question(question), model_identity, calibration, settings.cache_key()]
        parts.extend(sorted(f"{r.sha256}:{r.path}" for r in records))
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def _tokenized(self, passage_ids: Sequence[int], texts: dict[int, str]) -> list[TokenizedText]:
        maker = self._ready_reader().maker
        missing = [i for i in passage_ids if i not in self._tokens]
        if missing:
            for passage_id, tokens in zip(missing, maker.tokenize([texts[i] for i in missing])):
                self._tokens[passage_id] = tokens
        result = []
        for passage_id in passage_ids:
            self._tokens.move_to_end(passage_id)
            result.append(self._tokens[passage_id])
        while len(self._tokens) > 20000:
            self._tokens.popitem(last=False)
        return result

    def calibrator(self) -> Calibrator | None:
        """The model manifest's answer calibration, or None when the model has none (or a broken one)."""
        if self._calibrator is None:
            entry = self.model_folder().manifest.get("calibration")
            try:
                self._calibrator = Calibrator.from_manifest(entry) if isinstance(entry, dict) else False
            except (KeyError, TypeError, ValueError):
                self._calibrator = False
        return self._calibrator or None

    def calibrator_features(self) -> tuple[str, ...]:
        """The features the engine needs: its calibration's (the uncalibrated ranking needs no text feature)."""
        calibrator = self.calibrator()
        return calibrator.features if calibrator is not None else ()

    def candidates(
        self,
        questions: Sequence[str],
        document_ids: Sequence[int] | None = None,
        all_features: bool = False,
        exhaustive: bool = False,
    ) -> list[Candidates]:
        """Every answer candidate of each question with its features, before scoring; `all_features` computes
        every one in `calibration.FEATURES` (to fit a calibration), else those the calibration uses.

        Passages that cannot hold the first answer are left unread (`_read_best_first`) unless `exhaustive`
        or `all_features` (a calibration is fitted on every candidate). Questions are read together, but a
        batch never holds two questions' windows.
        """
        self.load_model()
        needed = FEATURES if all_features else self.calibrator_features()
        records = self._searchable(document_ids)
        checked = [check_question(q) for q in questions]
        return self._gather(checked, records, needed, exhaustive=exhaustive or all_features)

    def ask_many(
        self, questions: Sequence[str], document_ids: Sequence[int] | None = None, top_k: int | None = None
    ) -> list[AnswerSet]:
        """Answer many questions over the same documents, read together (see `candidates`).

        Neither the answer cache nor the question history is used; `elapsed_ms` is each question's share
        of the total time. Raises UserError like `ask`.
        """
        started = time.perf_counter()
        gathered = self.candidates(questions, document_ids)
        results = self.answer_sets(gathered, document_ids, top_k)
        share = (time.perf_counter() - started) / max(1, len(questions))
        return [replace(result, elapsed_ms=share * 1000) for result in results]

    def answer_sets(
        self,
        gathered: Sequence[Candidates],
        document_ids: Sequence[int] | None = None,
        top_k: int | None = None,
        calibrated: bool = True,
    ) -> list[AnswerSet]:
        """Rank gathered candidates (from `candidates`, over the same documents) into answer sets.

        `calibrated=False` gives what an uncalibrated model shows (span probabilities, ranked by log
        probability + retrieval_weight × BM25, the manifest's document threshold): evaluation compares both
        on the same reading.
        """
        records = self._searchable(document_ids)
        threshold = self.threshold if calibrated else self._uncalibrated_threshold()
        results = []
        for candidates in gathered:
            answers = self._rank(candidates, records, calibrated)
            results.append(self._answer_set(candidates.question, answers, top_k, False, time.perf_counter(), threshold))
        return results

    def _read(
        self,
        question: str,
        records: Sequence[DocumentRecord],
        budget: str | None = None,
        settings: config.Settings | None = None,
    ) -> list[Answer]:
        gathered = self._gather([question], records, self.calibrator_features(), budget, settings)
        return self._rank(gathered[0], records)

    def _budget(self, budget: str | None) -> str:
        """The length budget a question is read with: `budget` when given, else the settings' one, or ""
        (every token) when this model has no budget of that name (one remembered from another model)."""
        if budget is not None:
            return budget
        chosen = self.settings.length_budget
        return chosen if chosen in self.model_folder().length_budgets else ""

    @property
    def live_budget(self) -> str | None:
        """The budget of answers shown while typing: a length-adaptive model's fastest (the last its manifest
        lists); None, the settings' budget, for a model that reads every token."""
        budgets = list(self.model_folder().length_budgets)
        return budgets[-1] if budgets else None

    def _gather(
        self,
        questions: Sequence[str],
        records: Sequence[DocumentRecord],
        needed: Sequence[str],
        budget: str | None = None,
        settings: config.Settings | None = None,
        exhaustive: bool = False,
    ) -> list[Candidates]:
        settings = settings or self.settings
        reader = self._ready_reader()
        reader.use_budget(self._budget(budget))
        bm25_scale = math.log(1 + self.library.total_passages())
        plans: list[_Plan] = []
        for question in questions:
            passage_ids = search.choose_passages(self.library, question, [r.id for r in records], settings)
            rows = self.library.passage_rows(passage_ids)
            passage_ids = [i for i in passage_ids if i in rows]
            contents = self.library.contents_flags(passage_ids)
            relevance = search.relevance(self.library, question, passage_ids)
            # BM25's idf grows with the log of the library's size: divided by it, a passage that holds the
            # question's rare words scores about the same in a one-page note and in a thousand-page library.
            relevance = {i: value / bm25_scale for i, value in relevance.items()}
            contexts = self._tokenized(passage_ids, {i: rows[i][1].text for i in passage_ids})
            request = ReadRequest(reader.maker.question_ids(question), contexts)
            plans.append(_Plan(question, passage_ids, rows, relevance, contents, request))
        calibrator = None if exhaustive else self.calibrator()
        gathered = []
        for plan, (spans, evidence) in zip(
            plans, _read_best_first(reader, plans, calibrator, settings.max_answer_tokens)
        ):
            matrix = feature_matrix(plan.question, evidence, needed)
            gathered.append(Candidates(plan.question, spans, plan.passage_ids, plan.rows, evidence, matrix, bm25_scale))
        return gathered

    def _scores(
        self, candidates: Candidates, calibrated: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(score shown, ranking key, support or None) of every candidate: the calibrated probability, ranked
        by it, and the calibration's support (the probability again when it has no support model); else the
        span probability, ranked by log probability + retrieval_weight × BM25, and no support."""
        calibrator = self.calibrator() if calibrated else None
        if calibrator is not None:
            scores, supports, ranking = calibrator.scores(candidates.features)
            return scores, ranking, supports
        features = candidates.features
        log_probability = features[:, FEATURES.index("log_probability")]
        bm25 = features[:, FEATURES.index("bm25")] * candidates.bm25_scale
        key = log_probability + self.settings.retrieval_weight * bm25
        return np.exp(log_probability), key, None

    def _rank(self, candidates: Candidates, records: Sequence[DocumentRecord], calibrated: bool = True) -> list[Answer]:
        if not candidates.spans:
            return []
        scores, key, supports = self._scores(candidates, calibrated)
        by_id = {r.id: r for r in records}
        rows, passage_ids = candidates.rows, candidates.passage_ids
        # Each document's text and pages are read once per question, not once per candidate.
        located: dict[int, tuple[str, list[Page]]] = {}
        answers: list[Answer] = []
        seen: set[tuple[int, str]] = set()  # identical text in two documents is listed once per document
        kept: list[tuple[int, int, int]] = []  # (document id, char start, char end) of the answers so far
        for index in np.argsort(-key, kind="stable"):
            span = candidates.spans[index]
            document_id, passage = rows[passage_ids[span.context_index]]
            text = passage.text[span.char_start : span.char_end]
            key_text = (document_id, normalize_answer(text) or text)
            if key_text in seen or not text.strip() or "\n\n" in text:
                continue
            start, end = passage.char_start + span.char_start, passage.char_start + span.char_end
            # A longer or shorter cut of a better answer is the same answer, not an alternative.
            if any(d == document_id and start < e and s < end for d, s, e in kept):
                continue
            seen.add(key_text)
            kept.append((document_id, start, end))
            if document_id not in located:
                located[document_id] = (self.library.document_text(document_id), self.library.pages(document_id))
            document_text, pages = located[document_id]
            answer = self._locate(by_id[document_id], document_text, pages, start, end, float(scores[index]))
            answers.append(answer if supports is None else replace(answer, support=float(supports[index])))
            if len(answers) >= CANDIDATES_KEPT:
                break
        return answers

    def _locate(
        self,
        record: DocumentRecord,
        document_text: str,
        pages: list[Page],
        char_start: int,
        char_end: int,
        probability: float,
    ) -> Answer:
        page = _page_at(pages, char_start)
        sentence_start, sentence_end = sentence_bounds(document_text, char_start, char_end)
        return Answer(
            text=document_text[char_start:char_end],
            score=probability,
            document_id=record.id,
            document_title=record.title,
            document_path=record.path,
            page_number=page.page_number,
            # An EPUB's "page" label is its chapter's title, not a page: only a PDF's printed numbers are cited.
            page_label=page.label if record.format == "pdf" else "",
            char_start=char_start,
            char_end=char_end,
            sentence=document_text[sentence_start:sentence_end],
            sentence_char_start=sentence_start,
            highlights=self.highlights(record.id, char_start, char_end, pages),
        )

    def highlights(
        self, document_id: int, char_start: int, char_end: int, pages: Sequence[Page] | None = None
    ) -> tuple[Highlight, ...]:
        """Rectangles (per page, one per line) covering the characters [char_start, char_end)."""
        pages = pages if pages is not None else self.library.pages(document_id)

        def boxes(page_index: int):
            return self.library.page_boxes(document_id, page_index)

        return tuple(span_highlights(pages, boxes, char_start, char_end))

    def history(self) -> list[str]:
        """The questions asked (and remembered), most recent first: the app's one question history."""
        return self.library.history()

    def import_history(self, questions: Sequence[str]) -> None:
        """Add questions remembered elsewhere (most recent first) to the history, behind those asked since."""
        self.library.import_history(questions)


@dataclass
class _Plan:
    """What one question reads: its passages (search's order), their BM25 and flags, and the read request."""

    question: str
    passage_ids: list[int]
    rows: dict[int, tuple[int, Passage]]
    relevance: dict[int, float]
    contents: dict[int, bool]
    request: ReadRequest
    rank: dict[int, int] = field(init=False)  # each passage's rank by BM25 among these, 0 for the best

    def __post_init__(self) -> None:
        order = sorted(self.passage_ids, key=lambda i: -self.relevance.get(i, 0.0))
        self.rank = {passage_id: position for position, passage_id in enumerate(order)}

    def bounds(self, calibrator: Calibrator) -> np.ndarray | None:
        """Each passage's bound (`Calibrator.passage_bounds`), or None when the calibration cannot bound one."""
        bm25 = np.asarray([self.relevance.get(i, 0.0) for i in self.passage_ids])
        return calibrator.passage_bounds(bm25, np.log1p([self.rank[i] for i in self.passage_ids]))

    def evidence(self, spans: Sequence[ContextSpan]) -> list[SpanEvidence]:
        """What the engine knows about each span: its text and line, probabilities and its passage's BM25."""
        evidence = []
        for span in spans:
            passage_id = self.passage_ids[span.context_index]
            text = self.rows[passage_id][1].text
            line_start = text.rfind("\n", 0, span.char_start) + 1
            line_end = text.find("\n", span.char_end)
            evidence.append(
                SpanEvidence(
                    text=text[span.char_start : span.char_end],
                    probability=span.probability,
                    null_probability=span.null_probability,
                    relevance=self.relevance.get(passage_id, 0.0),
                    relevance_rank=self.rank[passage_id],
                    line=text[line_start : line_end if line_end >= 0 else len(text)],
                    in_contents=self.contents.get(passage_id, False),
                    logit=span.logit,
                )
            )
        return evidence


def _read_best_first(
    reader: Reader, plans: Sequence[_Plan], calibrator: Calibrator | None, max_answer_tokens: int
) -> list[tuple[list[ContextSpan], list[SpanEvidence]]]:
    """Each plan's spans and their evidence, best first (`context_index` into its passages), reading passages
    in the order of their bound (`Calibrator.passage_bounds`) and stopping once the best candidate read so
    far ranks above every unread passage's bound: no span there could have been the first answer, so the
    answer shown first and the "not found" decision are those of reading every passage. Alternatives from
    unread passages and the share term of the number shown may differ. Without a calibrator (or with one that
    cannot bound a passage) every passage is read at once. A batch never holds two passages' windows
    (`read_many`), so what is read is read as when every passage is, and as when the question is asked alone.
    """
    found: list[list[tuple[ContextSpan, SpanEvidence]]] = [[] for _ in plans]
    staged: dict[int, tuple[list[int], np.ndarray]] = {}
    at_once = []
    for index, plan in enumerate(plans):
        bounds = plan.bounds(calibrator) if calibrator is not None and plan.passage_ids else None
        if bounds is None:
            at_once.append(index)
        else:
            staged[index] = ([int(i) for i in np.argsort(-bounds, kind="stable")], bounds)
    if at_once:
        read = reader.read([plans[i].request for i in at_once], max_answer_tokens=max_answer_tokens)
        for index, spans in zip(at_once, read):
            found[index] = list(zip(spans, plans[index].evidence(spans)))
    if staged and calibrator is not None:
        _read_in_rounds(reader, plans, staged, calibrator, max_answer_tokens, found)
    result = []
    for pairs in found:
        pairs.sort(key=lambda pair: -pair[0].probability)
        result.append(([span for span, _ in pairs], [evidence for _, evidence in pairs]))
    return result


def passages_in_round(number: int) -> int:
    """How many passages a question reads in its round `number` (0-based) when stopping early: one, then
    twice as many each round. A question that one passage does not settle is mostly one whose answers are
    weak everywhere (on the NIST PDFs, 14 of 15 passages read), so later rounds read more at once: fewer
    rounds, and several batches for the reader's lanes to read side by side. The same for every question,
    machine and number of questions asked together, so the app, `eval` and `calibrate`'s replay of the
    reading (`training.calibrate.read_rows`) read the same passages."""
    return 2**number


def _read_in_rounds(
    reader: Reader,
    plans: Sequence[_Plan],
    staged: dict[int, tuple[list[int], np.ndarray]],
    calibrator: Calibrator,
    max_answer_tokens: int,
    found: list[list[tuple[ContextSpan, SpanEvidence]]],
) -> None:
    """`_read_best_first`'s rounds: round k reads the next 2**k passages (in `staged[plan index]`'s order, with
    their bounds; `passages_in_round`) of every unfinished question, adds their spans and evidence to
    `found`, and finishes a question once its best candidate ranks above its next passage's bound."""
    best = dict.fromkeys(staged, -math.inf)
    done = dict.fromkeys(staged, 0)
    rounds = 0
    while staged:
        asking = list(staged)
        width = passages_in_round(rounds)
        rounds += 1
        requests = []
        for index in asking:
            order, _ = staged[index]
            request = plans[index].request
            reading = order[done[index] : done[index] + width]
            requests.append(ReadRequest(request.question_ids, [request.contexts[i] for i in reading]))
        for index, spans in zip(asking, reader.read(requests, max_answer_tokens=max_answer_tokens)):
            plan, (order, bounds) = plans[index], staged[index]
            reading = order[done[index] : done[index] + width]
            spans = [replace(span, context_index=reading[span.context_index]) for span in spans]
            evidence = plan.evidence(spans)
            found[index].extend(zip(spans, evidence))
            done[index] += len(reading)
            valid = np.asarray([bool(e.text.strip()) and "\n\n" not in e.text for e in evidence], dtype=bool)
            if valid.any():
                ranking = calibrator.ranking(feature_matrix(plan.question, evidence, calibrator.features))
                best[index] = max(best[index], float(ranking[valid].max()))
            if done[index] == len(order) or best[index] > bounds[order[done[index]]]:
                del staged[index]


def sentence_bounds(text: str, char_start: int, char_end: int, reach: int = 400) -> tuple[int, int]:
    """[start, end) of the sentence(s) around a span, at most `reach` characters either side."""
    window_start = max(0, char_start - reach)
    start = window_start
    for match in _SENTENCE_END.finditer(text, window_start, char_start):
        start = match.end()
    end_match = _SENTENCE_END.search(text, char_end, min(len(text), char_end + reach))
    end = (
        end_match.start() + 1
        if end_match and not end_match.group().startswith("\n")
        else (end_match.start() if end_match else min(len(text), char_end + reach))
    )
    while start < char_start and text[start].isspace():
        start += 1
    return start, max(end, char_end)


def _page_at(pages: Sequence[Page], char_offset: int) -> Page:
    for page in pages:
        if page.char_start <= char_offset < page.char_end:
            return page
    return pages[-1]


def _is_text(text: str) -> bool:
    """False for a string holding undecodable bytes (the surrogates Python puts in argv and file names)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def _answer_to_json(answer: Answer) -> dict:
    return asdict(answer)


def _answer_from_json(item: dict) -> Answer:
    highlights = tuple(Highlight(h["page_index"], tuple(tuple(r) for r in h["rects"])) for h in item["highlights"])
    return replace(Answer(**{**item, "highlights": ()}), highlights=highlights)
