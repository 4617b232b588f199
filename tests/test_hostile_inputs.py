"""Hostile inputs from issue 14, each generated at full size and read in a process of its own: parsing must
be linear and one enormous "word" must not make an enormous passage. A timeout guards against hangs; the
fixed code needs well under two seconds for each (the unfixed code took from 46 s to minutes)."""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import zipfile
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


HTML_OPENERS = {
    "comment": "<!--",
    "tag": "<a ",
    "cdata": "<![CDATA[",
    "conditional": "<![if ",
    "end-tag": "</a",
    "pi": "<?",
    "quote": "<a x='",
}
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


# Memory: an EPUB's members are small when packed and huge when unpacked.
MEMORY_BOUND_MB = 500
BUDGET_MESSAGE = "expands to more than 32 MB of text; QA Reader reads at most 32 MB per document"
_CONTAINER = (
    '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
    '<rootfiles><rootfile full-path="book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
)


def write_bomb_epub(path: Path, chapter_megabytes: list[int], spine: list[int] | None = None) -> Path:
    """An EPUB whose chapter i unpacks to chapter_megabytes[i] MB of one repeated paragraph (written in
    1 MB chunks, so the test itself stays small); `spine` lists chapter numbers, repeats allowed."""
    spine = spine if spine is not None else list(range(len(chapter_megabytes)))
    items = "".join(
        f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>' for n in range(len(chapter_megabytes))
    )
    refs = "".join(f'<itemref idref="c{n}"/>' for n in spine)
    package = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata>'
        f"<title>Bomb</title></metadata><manifest>{items}</manifest><spine>{refs}</spine></package>"
    )
    megabyte = b"<p>All work and no play makes a dull book.</p>\n" * (2**20 // 48)
    # The fastest deflate level: 60 MB packs into 0.4 MB in a tenth of a second.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", _CONTAINER)
        archive.writestr("book.opf", package)
        for number, size in enumerate(chapter_megabytes):
            with archive.open(f"c{number}.xhtml", "w", force_zip64=True) as member:
                for _ in range(size):
                    member.write(megabyte)
    return path


def declare_sizes(path: Path, declared: int) -> None:
    """Make the central directory claim that every chapter unpacks to `declared` bytes (a lie)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        offset = archive.start_dir
        for info in archive.infolist():
            name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, offset + 28)
            if info.filename.startswith("c"):
                struct.pack_into("<I", data, offset + 24, declared)
                # Zip64 sizes, when present, are in the extra field: uncompressed size first.
                extra = offset + 46 + name_length
                end = extra + extra_length
                while extra + 4 <= end:
                    header_id, size = struct.unpack_from("<HH", data, extra)
                    if header_id == 1:
                        struct.pack_into("<Q", data, extra + 4, declared)
                    extra += 4 + size
            offset += 46 + name_length + extra_length + comment_length
    path.write_bytes(bytes(data))


def test_an_epub_of_five_60_mb_chapters_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    path = write_bomb_epub(tmp_path / "five-chapters.epub", [60] * 5)

    result = result_for(read_in_subprocess(str(path)), path.name)

    assert BUDGET_MESSAGE in result["error"]
    assert result["peak_rss_mb"] < MEMORY_BOUND_MB


def test_an_epub_listing_one_chapter_many_times_is_refused_by_its_total(tmp_path: Path) -> None:
    path = write_bomb_epub(tmp_path / "repeated.epub", [12], spine=[0] * 10)

    result = result_for(read_in_subprocess(str(path)), path.name)

    assert BUDGET_MESSAGE in result["error"]
    assert result["peak_rss_mb"] < MEMORY_BOUND_MB


def test_an_epub_whose_declared_sizes_lie_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    path = write_bomb_epub(tmp_path / "lying.epub", [60] * 5)
    declare_sizes(path, 1000)

    result = result_for(read_in_subprocess(str(path)), path.name)

    assert "error" in result
    assert result["peak_rss_mb"] < MEMORY_BOUND_MB


def test_a_30_mb_paragraph_is_indexed_within_the_memory_bound(tmp_path: Path) -> None:
    # One paragraph of five million words: joining its split() words made them all strings at once (547 MB).
    path = tmp_path / "one-paragraph.txt"
    words = "recovery time objective of the system and its data " * 20
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(30_000_000 // len(words)):
            handle.write(words)

    results = read_in_subprocess(str(path), guard=BATCH_GUARD_SECONDS)  # 30 MB takes 15-25 s to index here

    assert path.name in results, "the worker did not finish reading the file"
    result = results[path.name]
    check_readable(result)
    assert result["text_chars"] >= 29_000_000
    assert result["peak_rss_mb"] < MEMORY_BOUND_MB
