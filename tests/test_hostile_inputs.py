"""Hostile inputs from issue 14, each generated at full size and read in a process of its own: parsing must
be linear and one enormous "word" must not make an enormous passage. A timeout guards against hangs; the
fixed code needs well under two seconds for each (the unfixed code took from 46 s to minutes)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LIFE_CYCLE

HANG_GUARD_SECONDS = 20
BATCH_GUARD_SECONDS = 120
# What a passage may span (passages.PassageSettings.max_chars): bounds the reader's windows per passage.
MAX_PASSAGE_CHARS = 2000


def read_in_subprocess(*arguments: str, guard: float = HANG_GUARD_SECONDS) -> dict[str, dict]:
    """The worker's result for each file it finished (by file name) before `guard` seconds ran out."""
    command = [sys.executable, "-m", "tests.support.hostile_worker", *arguments]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=guard, cwd=Path(__file__).parents[1]
        )
        output = completed.stdout
        assert completed.returncode == 0, completed.stderr
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
    results = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {result["file"]: result for result in results}


def result_for(results: dict[str, dict], name: str) -> dict:
    """The result for one file; fails when the worker did not get to it or took past the hang guard."""
    if name not in results:
        pytest.fail(f"{name} was not read: the worker ran out of time before it")
    assert results[name]["seconds"] < HANG_GUARD_SECONDS, f"{name} took {results[name]['seconds']} s"
    return results[name]


def check_readable(result: dict) -> None:
    assert "error" not in result, result
    assert result["exact_offsets"]
    assert result["longest_passage"] <= MAX_PASSAGE_CHARS


HOSTILE_MARKDOWN = {
    "heading-then-spaces": "# Incident response\n\n# Heading" + " " * 50_000 + "text\n",
    "heading-ending-in-spaces": "# Heading" + " " * 50_000 + "\n\nSome text.\n",
    "table-delimiter-spaces": "| a | b |\n|" + " " * 50_000 + "x\n\nSome text.\n",
    "spaces-line": " " * 50_000 + "x\n",
    "unclosed-comments": "Some text.\n" + "<!--" * 20_000,
    "brackets": "[" * 200_000,
    "strong-openers": "**x " * 50_000,
}


HTML_OPENERS = {"comment": "<!--", "tag": "<a ", "cdata": "<![CDATA[", "end-tag": "</a", "pi": "<?", "quote": "<a x='"}
HOSTILE_FILES = {
    **{f"{name}.md": source for name, source in HOSTILE_MARKDOWN.items()},
    **{f"unclosed-{name}.html": "<p>Some text.</p>" + opener * 20_000 for name, opener in HTML_OPENERS.items()},
    "brackets.txt": "[" * 200_000,
}


@pytest.fixture(scope="module")
def hostile_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every hostile file read by one worker process (one interpreter start, not one per file)."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = []
    for name, source in HOSTILE_FILES.items():
        (folder / name).write_text(source)
        paths.append(str(folder / name))
    # The worker reports each file, with the time it took, as soon as it is read.
    return read_in_subprocess(*paths, guard=BATCH_GUARD_SECONDS)


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_input_is_read_in_linear_time(hostile_results: dict[str, dict], name: str) -> None:
    result = result_for(hostile_results, name)

    check_readable(result)


def test_one_enormous_word_is_indexed_and_answered(tmp_path: Path, tiny_model_dir: Path) -> None:
    generator = random.Random(14)
    records = [{"id": n, "name": f"item{n}", "value": generator.random()} for n in range(3000)]
    minified = json.dumps(records, separators=(",", ":"))[:142_000]
    path = tmp_path / "minified.txt"
    path.write_text(LIFE_CYCLE + "\n\n" + minified)

    results = read_in_subprocess("--ask", str(tiny_model_dir), "What are the phases of the life cycle?", str(path))

    result = result_for(results, path.name)
    check_readable(result)
    assert result["answers"] == ["preparation, detection and analysis"]
