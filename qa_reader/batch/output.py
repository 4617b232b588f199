"""A batch's output folder: part files of rows (Parquet, or JSON Lines without the `[scale]` extra), each
written whole or not at all, the sha256 of the documents already written (to resume), and the summary.

`--out answers.parquet` names a folder: `part-*.parquet` files that pyarrow, pandas, DuckDB or Spark read as one
table, and `_summary.json` (names starting with "_" or "." are not data to those readers). A part holds every
row of each of its documents, so a job killed at any moment leaves whole documents and loses only the part
in flight; the next run skips what is there.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa_reader.batch.job import PART_DOCUMENTS, PART_SECONDS, Job, Progress
from qa_reader.batch.steps import COLUMNS, AnswerRow, DocumentResult, Outcome, path_key
from qa_reader.errors import UserError

FORMATS = {".parquet": "parquet", ".jsonl": "jsonl"}
SUMMARY_FILE = "_summary.json"
SCALE_HINT = "pip install 'qa-reader[scale]'"


@dataclass(frozen=True)
class Summary:
    """What one run of a batch did. `ingest_seconds` and `read_seconds` are summed over documents (across
    workers they add up to more than `seconds`, the run's wall time)."""

    documents: int  # named by the run, written before or not
    answered: int
    failed: int  # the input's fault
    errors: int  # not the input's fault: tried again by the next run
    skipped: int  # written by an earlier run
    lost: int  # never came back (a worker that crashed); tried again by the next run
    pages: int  # of the documents read in this run
    questions: int
    pairs: int  # question-document pairs read
    rows: int
    seconds: float
    ingest_seconds: float
    read_seconds: float

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        """The summary for people, a line each."""
        lines = [
            f"{self.documents:,} documents: {self.answered:,} read, {self.failed + self.errors:,} failed, "
            f"{self.skipped:,} already written",
            f"{self.pages:,} pages, {self.pairs:,} question-document pairs, {self.rows:,} rows in {self.seconds:.1f} s "
            f"({self.pages_per_second:.2f} pages/s, {self.pairs_per_second:.2f} pairs/s)",
        ]
        if self.errors or self.lost:
            lines.append(f"{self.errors + self.lost:,} documents not done for good: run the same command again.")
        return lines


@dataclass
class Tally:
    """Counts DocumentResults into a Summary."""

    documents: int
    questions: int
    by_outcome: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    pages: int = 0
    rows: int = 0
    ingest_seconds: float = 0.0
    read_seconds: float = 0.0

    @property
    def seen(self) -> int:
        return sum(self.by_outcome.values())

    def add(self, result: DocumentResult) -> None:
        self.by_outcome[result.outcome] += 1
        self.pages += result.pages
        self.rows += len(result.rows)
        self.ingest_seconds += result.ingest_seconds
        self.read_seconds += result.read_seconds

    def summary(self, seconds: float) -> Summary:
        answered = self.by_outcome[Outcome.ANSWERED]
        return Summary(
            documents=self.documents,
            answered=answered,
            failed=self.by_outcome[Outcome.FAILED],
            errors=self.by_outcome[Outcome.ERROR],
            skipped=self.by_outcome[Outcome.SKIPPED],
            lost=self.documents - self.seen,
            pages=self.pages,
            questions=self.questions,
            pairs=answered * self.questions,
            rows=self.rows,
            seconds=round(seconds, 3),
            ingest_seconds=round(self.ingest_seconds, 3),
            read_seconds=round(self.read_seconds, 3),
        )


class Recorder:
    """Where one run's DocumentResults go, in-process or from a cluster: the output folder's parts, the tally and
    the progress callback; `finish` writes what is left and the summary."""

    def __init__(self, job: Job, progress: Progress | None = None) -> None:
        """Open the job's output folder (see PartWriter) and read the keys of what it holds: `written`."""
        self._started = time.perf_counter()
        self._writer = PartWriter(job.out, job.part_documents, job.part_seconds)
        self.written = self._writer.written()
        self.tally = Tally(len(job.paths), len(job.questions))
        self._progress = progress

    def record(self, result: DocumentResult) -> None:
        self._writer.add(result)
        self.tally.add(result)
        if self._progress is not None:
            self._progress(self.tally)

    def flush(self) -> None:
        """Write the documents recorded so far (also when the run stops on an exception)."""
        self._writer.flush()

    def finish(self) -> Summary:
        """Write what is left, then the summary; return it."""
        self._writer.flush()
        summary = self.tally.summary(time.perf_counter() - self._started)
        self._writer.write_summary(summary)
        return summary


class PartWriter:
    """Writes documents' rows into an output folder, a part file at a time, each by an atomic rename."""

    def __init__(self, folder: Path, part_documents: int = PART_DOCUMENTS, part_seconds: float = PART_SECONDS) -> None:
        """Open (creating) the output folder; its suffix chooses the format. Removes parts that a killed run
        left half-written. Raises UserError for another suffix, a path that is a file, a folder that cannot be
        written, or Parquet without pyarrow."""
        self.folder = folder
        self.format = FORMATS.get(folder.suffix.lower(), "")
        if not self.format:
            raise UserError(f"--out {folder}: name it OUT.parquet or OUT.jsonl (a folder of part files).")
        if self.format == "parquet":
            _pyarrow()
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--out {folder} is a file; a batch writes a folder of part files there.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for leftover in folder.glob(".part-*.tmp"):
                leftover.unlink()
        except OSError as error:
            raise UserError(f"The output folder {folder} cannot be written ({error.strerror}).") from None
        self.part_documents = part_documents
        self.part_seconds = part_seconds
        self._run = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        self._parts = 0
        self._pending: list[DocumentResult] = []
        self._since = time.monotonic()

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob(f"part-*.{self.format}"))

    def written(self) -> set[str]:
        """The keys of every document already written for good (answered or failed: see Outcome.final): its
        sha256, or its `path_key` when it could not be hashed."""
        done: set[str] = set()
        final = {str(outcome) for outcome in Outcome if outcome.final}
        for part in self.parts():
            for document, sha256, status in _read_keys(part, self.format):
                if status in final:
                    done.add(sha256 or path_key(document))
        return done

    def add(self, result: DocumentResult) -> None:
        """Keep a document's rows; write a part when enough documents or time have gathered."""
        if result.outcome is Outcome.SKIPPED:
            return
        self._pending.append(result)
        if len(self._pending) >= self.part_documents or time.monotonic() - self._since >= self.part_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the documents kept so far as one part (nothing when there are none)."""
        if self._pending:
            rows = [row for result in self._pending for row in result.rows]
            self._parts += 1
            name = f"part-{self._run}-{self._parts:05d}.{self.format}"
            temporary = self.folder / f".{name}.tmp"
            try:
                if self.format == "parquet":
                    _write_parquet(temporary, rows)
                else:
                    _write_jsonl(temporary, rows)
                os.replace(temporary, self.folder / name)
            except OSError as error:
                raise UserError(f"A part of {self.folder} cannot be written ({error.strerror}).") from None
            self._pending = []
        self._since = time.monotonic()

    def write_summary(self, summary: Summary) -> None:
        """The run's summary as `_summary.json` (the latest run's)."""
        text = json.dumps(asdict(summary), indent=2) + "\n"
        try:
            (self.folder / SUMMARY_FILE).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UserError(f"The summary in {self.folder} cannot be written ({error.strerror}).") from None


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """Every row of an output folder, as dicts (for tests and small outputs; a big one is read with pyarrow)."""
    file_format = FORMATS.get(folder.suffix.lower(), "")
    rows: list[dict[str, Any]] = []
    for part in sorted(folder.glob(f"part-*.{file_format}")):
        if file_format == "parquet":
            rows.extend(_pyarrow().parquet.read_table(part).to_pylist())
        else:
            rows.extend(json.loads(line) for line in part.read_text(encoding="utf-8").splitlines())
    return rows


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (the submodule is used as pyarrow.parquet)
    except ImportError:
        raise UserError(f"Parquet output needs pyarrow: {SCALE_HINT}, or write --out OUT.jsonl.") from None
    return pyarrow


def _schema():
    pa = _pyarrow()
    types = {
        "rank": pa.int32(),
        "score": pa.float64(),
        "page": pa.int32(),
        "char_start": pa.int64(),
        "char_end": pa.int64(),
    }
    return pa.schema([pa.field(name, types.get(name, pa.string())) for name in COLUMNS])


def _write_parquet(path: Path, rows: Iterable[AnswerRow]) -> None:
    pa = _pyarrow()
    columns: dict[str, list] = {name: [] for name in COLUMNS}
    for row in rows:
        for name in COLUMNS:
            columns[name].append(getattr(row, name))
    table = pa.table(columns, schema=_schema())
    with path.open("wb") as file:
        pa.parquet.write_table(table, file)
        file.flush()
        os.fsync(file.fileno())


def _write_jsonl(path: Path, rows: Iterable[AnswerRow]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _read_keys(part: Path, file_format: str) -> list[tuple[str, str, str]]:
    """(document, sha256, status) of every row of a part."""
    keys = ("document", "sha256", "status")
    try:
        if file_format == "parquet":
            table = _pyarrow().parquet.read_table(part, columns=list(keys))
            return list(zip(*(table.column(key).to_pylist() for key in keys)))
        rows = [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
        return [(row["document"], row["sha256"], row["status"]) for row in rows]
    except OSError as error:
        raise UserError(f"The part {part} cannot be read ({error.strerror}).") from None
    except Exception as error:  # pyarrow's errors, or JSON, for a damaged file
        raise UserError(f"The part {part} is damaged ({error}); move it away and run again.") from error
