"""`make mutate`: mutation testing of the Qt-free core with mutmut, one module at a time.

    python -m tests.mutate [MODULE ...] [--minutes N] [--jobs N] [--fresh] [--report]

Each module has a work folder, build/mutate/<module>/, holding links to qa_reader/ and tests/, the project's
pyproject.toml with a [tool.mutmut] section that names that module and the tests that describe it, and
mutmut's mutants/ folder, where mutmut keeps every verdict. A second run therefore tests only the mutants of
functions that changed, and a run stopped by its time limit (or Ctrl+C) goes on where it stopped. When any
test file changed since a module's last complete run, the mutants that survived it are tried again; `--fresh`
forgets a module's verdicts altogether.

The report, per module: how many mutants, how many the tests killed (a failing test, a timeout or a crash),
how many survived or had no test, and the score, killed / all. The run fails when a module is unfinished or
scores below the threshold. `mutmut show NAME`, run in the module's work folder, prints a mutant's diff.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutate"
THRESHOLD = 0.80

# The module (under qa_reader/) and the test files that state its behaviour. mutmut runs, for each mutant,
# only those of these tests that called the mutated function when it traced them.
CORE: dict[str, tuple[str, ...]] = {
    "passages": ("tests/test_passages.py",),
    "highlight": ("tests/test_highlight.py",),
    "reader.spans": ("tests/reader/test_spans.py", "tests/reader/test_spans_properties.py"),
    "reader.predict": ("tests/reader/test_predict.py",),
    "reader.windows": ("tests/reader/test_windows.py", "tests/reader/test_predict.py"),
    "squad": ("tests/test_squad.py", "tests/test_evaluate.py"),
    "evaluate": ("tests/test_evaluate.py", "tests/test_cli.py"),
    "search": ("tests/test_search.py",),
    "store": (
        "tests/test_store.py",
        "tests/test_store_locks.py",
        "tests/test_store_page_boxes.py",
        "tests/test_search.py",
        "tests/test_engine.py",
    ),
    "ingest.layout": ("tests/ingest/test_layout.py", "tests/ingest/test_pdf.py"),
}

# mutmut's verdicts, grouped the way the report counts them.
KILLED = {"killed", "timeout", "segfault"}
NOT_RUN = {"not checked", "check was interrupted by user"}


@dataclass(frozen=True)
class Outcome:
    """One module's verdicts: mutant name -> mutmut's status for it."""

    module: str
    status_by_mutant: dict[str, str]

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.status_by_mutant.values())

    @property
    def killed(self) -> int:
        return sum(self.counts[status] for status in KILLED)

    @property
    def unfinished(self) -> int:
        return sum(self.counts[status] for status in NOT_RUN)

    @property
    def score(self) -> float:
        """Killed mutants over all of them (0 for a module without mutants)."""
        total = len(self.status_by_mutant)
        return self.killed / total if total else 0.0

    def survivors(self) -> list[str]:
        return sorted(name for name, status in self.status_by_mutant.items() if status not in KILLED | NOT_RUN)


def mutmut_section(module: str, tests: tuple[str, ...]) -> str:
    """The [tool.mutmut] table for one module: only its file is mutated, only its tests are run."""
    source = "qa_reader/" + module.replace(".", "/") + ".py"
    quoted = ", ".join(f'"{test}"' for test in tests)
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["qa_reader"]\n'
        f'only_mutate = ["{source}"]\n'
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        # The fork server keeps mutmut's own process free of the tests' threads (onnxruntime's pools).
        'process_isolation = "forkserver"\n'
        "use_git_change_detection = false\n"
    )


def prepare(module: str, work: Path) -> None:
    """Make the work folder: links to the package and the tests, and the project's config plus mutmut's."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("qa_reader", "tests"):
        link = work / name
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(ROOT / name, work))
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8") + mutmut_section(module, CORE[module])
    target = work / "pyproject.toml"
    if not target.exists() or target.read_text(encoding="utf-8") != config:
        target.write_text(config, encoding="utf-8")


def tests_fingerprint() -> str:
    """A hash of every test file: when it changes, what survived must be tried again."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def mutmut(work: Path, *arguments: str, deadline: float | None = None) -> bool:
    """Run mutmut in the work folder; returns False when the deadline stopped it (its verdicts so far stay)."""
    command = [str(Path(sys.executable).parent / "mutmut"), *arguments]
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # The tests' own CI checks (shared data, strace) are for the test suite, not for its mutants.
    environment.pop("CI", None)
    process = subprocess.Popen(command, cwd=work, env=environment, start_new_session=True)
    try:
        process.wait(timeout=None if deadline is None else max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        # mutmut saves its verdicts and stops its workers on an interrupt, as on Ctrl+C.
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False
    if process.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(arguments[:1])} failed in {work} (exit {process.returncode})")
    return True


def statuses(work: Path) -> dict[str, str]:
    """mutmut's verdict for every mutant of the work folder's module, read from `mutmut results`."""
    command = [str(Path(sys.executable).parent / "mutmut"), "results", "--all", "true"]
    output = subprocess.run(command, cwd=work, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in output.splitlines():
        name, colon, status = line.strip().rpartition(": ")
        if colon and name.startswith("qa_reader."):
            found[name] = status
    return found


def run_module(module: str, minutes: float, jobs: int, fresh: bool) -> Outcome:
    """Mutate one module within `minutes`, trying its survivors again if the tests changed."""
    work = WORK / module
    if fresh:
        shutil.rmtree(work / "mutants", ignore_errors=True)
    prepare(module, work)
    deadline = time.monotonic() + minutes * 60
    fingerprint_file = work / "tests.sha256"
    fingerprint = tests_fingerprint()
    tested_with = fingerprint_file.read_text().strip() if fingerprint_file.exists() else None

    # Survivors judged by other tests than these (or by a run that did not finish) are tried again.
    stale = Outcome(module, statuses(work)).survivors() if tested_with != fingerprint else []

    finished = mutmut(work, "run", "--max-children", str(jobs), deadline=deadline)
    if finished and stale:
        current = statuses(work)
        retry = [name for name in stale if current.get(name) in {"survived", "no tests", "suspicious"}]
        if retry:
            print(f"{module}: the tests changed; trying the {len(retry)} survivors again", flush=True)
            finished = mutmut(work, "run", "--max-children", str(jobs), *retry, deadline=deadline)
    if finished:
        fingerprint_file.write_text(fingerprint + "\n")
    return Outcome(module, statuses(work))


def report(outcomes: list[Outcome]) -> str:
    """The table of scores, then each module's surviving mutants by name."""
    lines = [
        f"{'module':<16} {'mutants':>7} {'killed':>7} {'survived':>8} {'no test':>7} {'unrun':>6} {'score':>7}",
    ]
    for outcome in outcomes:
        counts = outcome.counts
        lines.append(
            f"{outcome.module:<16} {len(outcome.status_by_mutant):>7} {outcome.killed:>7} {counts['survived']:>8} "
            f"{counts['no tests']:>7} {outcome.unfinished:>6} {outcome.score:>7.1%}"
        )
    for outcome in outcomes:
        survivors = outcome.survivors()
        if survivors:
            lines.append(
                f"\n{outcome.module}: {len(survivors)} not killed (cd {WORK.relative_to(ROOT)}/{outcome.module} "
                "&& mutmut show NAME)"
            )
            lines.extend(f"  {name}  [{outcome.status_by_mutant[name]}]" for name in survivors)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help="default: all of " + ", ".join(CORE))
    parser.add_argument("--minutes", type=float, default=20.0, help="time limit per module (default 20)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    parser.add_argument("--fresh", action="store_true", help="forget the modules' earlier verdicts")
    parser.add_argument("--report", action="store_true", help="only print the report of earlier runs")
    options = parser.parse_args(argv)
    unknown = [module for module in options.modules if module not in CORE]
    if unknown:
        parser.error(f"not a core module: {', '.join(unknown)} (choose from {', '.join(CORE)})")
    modules = options.modules or list(CORE)

    outcomes = []
    for module in modules:
        if options.report:
            outcomes.append(Outcome(module, statuses(WORK / module) if (WORK / module).exists() else {}))
        else:
            print(f"== {module}", flush=True)
            outcomes.append(run_module(module, options.minutes, options.jobs, options.fresh))
    text = report(outcomes)
    print("\n" + text)
    (WORK / "report.txt").parent.mkdir(parents=True, exist_ok=True)
    (WORK / "report.txt").write_text(text + "\n", encoding="utf-8")

    failing = [outcome.module for outcome in outcomes if outcome.unfinished or outcome.score < THRESHOLD]
    if failing:
        print(f"\nunfinished or below {THRESHOLD:.0%}: {', '.join(failing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
