"""Fuzzing the text, Markdown, HTML and EPUB loaders: random bytes and random structure from small grammars.

Whatever the input, loading gives a Document whose passages are exact slices of its text, or a UserError;
never another exception, and never slowly (each example has a deadline; inputs are capped in size, so a
quadratic path shows up as a missed deadline). Bounded to keep `make test` quick: about 50 examples each.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_reader.errors import UserError
from qa_reader.ingest import load
from qa_reader.passages import split_passages

FUZZ = settings(
    max_examples=50,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)

MARKDOWN_PIECES = [
    "# ", "## ", "####### ", "#", "|", "| --- |", ":", "-", "---", "***", "*", "**", "_", "__", "~~", "`", "```",
    "~~~", "[", "]", "(", ")", "![", "](", "<!--", "-->", "<", ">", "> ", "1. ", "- [x] ", "\\", "&amp;", "<b>",
    "</b>", "http://x.y", "[ref]: http://x", "word", "Word.", "é", "漢字", "\n", "\n\n", " ", "    ", "\t", "\r\n",
]  # fmt: skip
HTML_PIECES = [
    "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<h1>", "</h1>", "<title>", "</title>", "<head>", "</head>",
    "<body>", "<script>", "</script>", "<style>", "</style>", "<nav>", "</nav>", "<td>", "<tr>", "<!--", "-->",
    "<![CDATA[", "]]>", "<![if !IE]>", "<![endif]>", "<?xml ?>", "<!doctype html>", "<!", "</", "<a href='x'>",
    "</a>", "<a x=\"", "'", '"', "&amp;", "&#", "&#x41;", "&", "<", ">", "=", "text", "Some words.", " ", "\n", "é",
    "<meta charset=\"shift_jis\">",
]  # fmt: skip


def pieces(alphabet: list[str], max_size: int = 200) -> st.SearchStrategy[str]:
    """Strings made of grammar pieces and short random text, at most `max_size` pieces long."""
    piece = st.one_of(st.sampled_from(alphabet), st.text(max_size=8))
    return st.lists(piece, max_size=max_size).map("".join)


def repeated(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A string, sometimes repeated many times: what is quadratic shows up only at length."""
    return st.tuples(strategy, st.sampled_from([1, 1, 50, 400])).map(lambda pair: pair[0] * pair[1])


def check_load(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            document = load(path)
        except UserError as error:
            assert str(error)
            return
    assert document.text
    assert all(0 <= page.char_start <= page.char_end <= len(document.text) for page in document.pages)
    for passage in split_passages(document.text):
        assert passage.text == document.text[passage.char_start : passage.char_end]


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_as_text(data: bytes) -> None:
    check_load("random.txt", data)


@FUZZ
@given(source=repeated(pieces(MARKDOWN_PIECES)), encoding=st.sampled_from(["utf-8", "utf-16-le", "cp1252"]))
def test_random_markdown(source: str, encoding: str) -> None:
    check_load("random.md", source.encode(encoding, errors="replace"))


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_as_markdown(data: bytes) -> None:
    check_load("random.md", data)


@FUZZ
@given(source=repeated(pieces(HTML_PIECES)))
def test_random_html(source: str) -> None:
    check_load("random.html", source.encode("utf-8"))


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_as_html(data: bytes) -> None:
    check_load("random.html", data)


_CONTAINER = (
    '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
    '<rootfiles><rootfile full-path="{package}" media-type="application/oebps-package+xml"/></rootfiles></container>'
)


@st.composite
def epubs(draw: st.DrawFn) -> bytes:
    """A ZIP archive shaped more or less like an EPUB: any part may be missing, junk or hostile markup."""
    chapters = draw(st.lists(repeated(pieces(HTML_PIECES, max_size=60)), max_size=4))
    names = [f"c{number}.xhtml" for number in range(len(chapters))]
    spine = draw(st.lists(st.sampled_from([*names, "missing.xhtml"]), max_size=6)) if names else []
    items = "".join(
        f'<item id="{name}" href="{name}" media-type="application/xhtml+xml"/>' for name in [*names, "missing.xhtml"]
    )
    refs = "".join(f'<itemref idref="{name}"/>' for name in spine)
    package = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata>'
        f"<title>Fuzz</title></metadata><manifest>{items}</manifest><spine>{refs}</spine></package>"
    )
    package = draw(st.sampled_from([package, package[: len(package) // 2], "", "<package/>"]))
    container = draw(st.sampled_from([_CONTAINER.format(package="book.opf"), _CONTAINER.format(package="x"), "<"]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", draw(st.sampled_from(["application/epub+zip", "text/plain", ""])))
        if draw(st.booleans()):
            archive.writestr("META-INF/container.xml", container)
        archive.writestr("book.opf", package)
        for name, chapter in zip(names, chapters, strict=True):
            archive.writestr(name, chapter.encode("utf-8"))
    data = buffer.getvalue()
    # Sometimes the archive itself is cut short or has a byte flipped.
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip" and data:
        position = draw(st.integers(0, len(data) - 1))
        data = data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]
    return data


@FUZZ
@given(data=epubs())
def test_random_epub(data: bytes) -> None:
    check_load("random.epub", data)
