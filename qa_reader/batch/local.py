"""A batch in this process, on the local engine: one document at a time, prepared then read, written in parts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from qa_reader.batch.output import PART_DOCUMENTS, PART_SECONDS, Recorder, Summary, Tally
from qa_reader.batch.steps import prepare, read, reading_engine

Progress = Callable[[Tally], None]


def run_local(
    paths: Sequence[str],
    questions: Sequence[str],
    out: Path,
    top_k: int = 1,
    model_dir: Path | None = None,
    threads: int = 0,
    progress: Progress | None = None,
    part_documents: int = PART_DOCUMENTS,
    part_seconds: float = PART_SECONDS,
) -> Summary:
    """Answer every question over each document of `paths` into the output folder `out` and return the summary
    (also written there). Documents an earlier run wrote (by content sha256) are skipped.

    Memory holds one document at a time and the rows of the part being gathered. Interrupted (Ctrl+C), it
    writes the documents already read before it stops. Raises UserError for an unusable output folder or model.
    """
    recorder = Recorder(out, len(paths), len(questions), progress, part_documents, part_seconds)
    engine = reading_engine(model_dir, threads)
    try:
        for path in paths:
            recorder.record(read(engine, prepare(path, recorder.written), questions, top_k))
    finally:
        engine.close()
        recorder.flush()
    return recorder.finish()
