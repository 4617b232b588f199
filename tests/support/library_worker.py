"""One process of the concurrency test (tests/test_concurrency.py): waits for the others, then indexes and
asks on a library they all share, and prints what it got as one JSON line.

    python -m tests.support.library_worker LIBRARY MODEL FOLDER WORKER OPERATIONS
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from qa_reader.engine import Engine

QUESTION = "What are the phases of the life cycle?"


def main(library: str, model: str, folder: str, worker: str, operations: str) -> int:
    base = Path(folder)
    (base / f"ready-{worker}").touch()
    while not (base / "go").exists():
        time.sleep(0.01)
    results = []
    # Every worker opens the new library at once (the schema is created once) and indexes the same new file.
    engine = Engine(library, model)
    results.append(["index", engine.index(base / "shared.txt").status])
    for number in range(int(operations) - 1):
        if number % 3 == 0:
            record = engine.index(base / f"own-{worker}.txt")
            results.append(["index", record.status])
        else:
            answers = engine.ask(f"{QUESTION} ({worker}.{number})")
            results.append(["ask", answers.answers[0].text if answers.answers else ""])
    engine.close()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
