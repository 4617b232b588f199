"""Hostile inputs read in a process of their own (tests/test_hostile_inputs.py), so that a hang can be cut
off by a timeout and peak memory measured alone. Loads each file, cuts passages, checks that each passage is
its exact slice of the text, indexes it into a library in memory and, given a model, asks one question.
Prints one JSON line per file as soon as it is read, so that the caller knows which file a timeout caught:

    python -m tests.support.hostile_worker FILE...
    python -m tests.support.hostile_worker --ask MODEL QUESTION FILE

Each line holds "file" (the name) and either "error" (the UserError's sentence) or passage figures, the
number of passages indexed and, with --ask, the answers' texts. Every line carries "seconds" (the time
that file took) and "peak_rss_mb" (the process's peak resident memory so far).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from qa_reader.engine import Engine
from qa_reader.errors import UserError
from qa_reader.ingest import load
from qa_reader.passages import split_passages


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    On Linux VmHWM, not ru_maxrss: the parent starts this process with vfork, and execve carries the
    parent's peak into ru_maxrss, so a test suite grown past the bound failed the bound itself.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def read(path: str, model: str | None = None, question: str | None = None) -> dict[str, object]:
    try:
        document = load(path)
    except UserError as error:
        return {"error": str(error)}
    passages = split_passages(document.text)
    exact = all(passage.text == document.text[passage.char_start : passage.char_end] for passage in passages)
    result: dict[str, object] = {
        "text_chars": len(document.text),
        "passages": len(passages),
        "longest_passage": max((len(passage.text) for passage in passages), default=0),
        "exact_offsets": exact,
    }
    # Indexed as `qa-reader index` would (passages, the search index), into a library in memory; the model
    # loads only when there is a question.
    engine = Engine(None, model)
    try:
        record = engine.index(Path(path))
        result["indexed_passages"] = record.passage_count
        if question is not None:
            result["answers"] = [answer.text for answer in engine.ask(question).answers]
    finally:
        engine.close()
    return result


def main(argv: list[str]) -> int:
    model = question = None
    if argv[:1] == ["--ask"]:
        model, question, *argv = argv[1:]
    for path in argv:
        started = time.perf_counter()
        result = {"file": Path(path).name, **read(path, model, question)}
        result.update(seconds=round(time.perf_counter() - started, 3), peak_rss_mb=round(peak_rss_mb(), 1))
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
