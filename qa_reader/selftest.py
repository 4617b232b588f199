"""`qa-reader --self-test`: prove an installation works — model checksum, the bundled sample document
indexed into a throw-away library, known questions answered. One line per check; non-zero on failure."""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from qa_reader import __version__, config
from qa_reader.errors import QAReaderError

SAMPLE_DIR = "sample"
CHECKS_FILE = "selftest.json"


def run_self_test(model_dir: Path | None = None) -> int:
    """Run every check, print one line each, return 0 when all pass, else 1."""
    from qa_reader.engine import Engine
    from qa_reader.reader.model import ModelFolder

    failures = 0

    def report(ok: bool, what: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'}  {what}", flush=True)

    print(f"qa-reader {__version__} self-test on Python {platform.python_version()} ({sys.platform})")
    model_path = Path(model_dir) if model_dir else config.default_model_dir()
    try:
        started = time.perf_counter()
        model = ModelFolder.open(model_path)
    except QAReaderError as error:
        report(False, f"model: {error}")
        return 1
    if not model.sha256:
        report(False, f"model {model.name}: its manifest records no sha256 to check model.onnx against")
        return 1
    report(
        True,
        f"model {model.name}: files present, sha256 {model.sha256[:12]}… verified "
        f"({(time.perf_counter() - started) * 1000:.0f} ms)",
    )
    data = config.data_dir().resolve()
    outside = not data.is_relative_to(config.install_root().resolve())
    report(outside, f"user data in {data}, {'outside' if outside else 'INSIDE'} the install folder")

    checks_path = config.resources_dir() / SAMPLE_DIR / CHECKS_FILE
    try:
        checks = json.loads(checks_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        report(False, f"self-test questions {checks_path}: {error}")
        return 1
    sample = config.resources_dir() / SAMPLE_DIR / checks["document"]
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(Path(folder) / "library.sqlite3", model_path)
        try:
            started = time.perf_counter()
            record = engine.index(sample)
            report(
                record.status == "ready",
                f"indexed {sample.name}: {record.passage_count} passages "
                f"({(time.perf_counter() - started) * 1000:.0f} ms)",
            )
            started = time.perf_counter()
            engine.load_model()
            report(True, f"model loaded in {(time.perf_counter() - started) * 1000:.0f} ms")
            for check in checks["questions"]:
                result = engine.ask(check["question"], [record.id])
                best = result.answers[0] if result.answers else None
                ok = best is not None and check["expect"].lower() in best.text.lower()
                found = (
                    f"{best.text!r} ({best.score:.0%}, p. {best.page_number})"
                    if best
                    else "no answer above the threshold"
                )
                report(ok, f"{check['question']!r} -> {found} in {result.elapsed_ms:.0f} ms")
            again = engine.ask(checks["questions"][0]["question"], [record.id])
            report(again.from_cache, f"repeated question answered from the cache in {again.elapsed_ms:.1f} ms")
        except QAReaderError as error:
            report(False, str(error))
        finally:
            engine.close()
    print("all checks passed" if not failures else f"{failures} check(s) failed")
    return 0 if not failures else 1
