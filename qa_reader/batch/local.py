"""A batch in this process, on the local engine: one document at a time, prepared then read, written in parts."""

from __future__ import annotations

from qa_reader.batch.job import Job, Progress
from qa_reader.batch.output import Recorder, Summary
from qa_reader.batch.steps import prepare, read, reading_engine


def run_local(job: Job, threads: int = 0, progress: Progress | None = None) -> Summary:
    """Answer every question of `job` over each of its documents into its output folder, in this process
    (`threads` for onnxruntime, 0: its choice), and return the summary (also written there). Documents an
    earlier run wrote (by content sha256) are skipped.

    Memory holds one document at a time and the rows of the part being gathered. Interrupted (Ctrl+C), it
    writes the documents already read before it stops. Raises UserError for an unusable output folder or model.
    """
    recorder = Recorder(job, progress)
    engine = reading_engine(job.model_dir, threads)
    try:
        for path in job.paths:
            recorder.record(read(engine, prepare(path, recorder.written), job.questions, job.top_k))
    finally:
        engine.close()
        recorder.flush()
    return recorder.finish()
