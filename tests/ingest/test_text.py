"""Plain text and Markdown: encodings, binary data, paragraphs, long lines, Markdown markup."""

from __future__ import annotations

import codecs
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_reader.errors import UserError
from qa_reader.ingest import load
from qa_reader.ingest.layout import GLYPH_MAP
from qa_reader.ingest.text import collapse_whitespace
from qa_reader.types import Page


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def test_paragraphs_are_separated_by_one_blank_line_and_lines_joined_by_a_space(tmp_path: Path) -> None:
    source = "  First line\nof the first   paragraph.\r\n\r\n\n\nSecond\tparagraph\n  \n\t\nThird.\n"
    document = load(write(tmp_path, "notes.txt", source))

    assert document.text == "First line of the first paragraph.\n\nSecond paragraph\n\nThird."
    assert document.pages == (Page(page_index=0, char_start=0, char_end=len(document.text)),)
    assert (document.format, document.title, document.char_boxes, document.warnings) == ("txt", "notes", None, ())


def test_cp1252_text_is_decoded_with_a_warning(tmp_path: Path) -> None:
    document = load(write(tmp_path, "menu.txt", "Café crème – “quoted”".encode("cp1252")))

    assert document.text == "Café crème – “quoted”"
    assert len(document.warnings) == 1 and "cp1252" in document.warnings[0] and "menu.txt" in document.warnings[0]


def test_latin1_only_bytes_fall_back_to_latin1(tmp_path: Path) -> None:
    # 0x81 has no meaning in cp1252, so only Latin-1 can read this file.
    document = load(write(tmp_path, "odd.txt", b"caf\xe9 au lait, cr\xe8me br\xfbl\xe9e \x81 and more words"))

    assert document.text.startswith("café")
    assert "Latin-1" in document.warnings[0]


def test_a_utf8_bom_is_stripped(tmp_path: Path) -> None:
    document = load(write(tmp_path, "bom.txt", codecs.BOM_UTF8 + "Naïve text.".encode()))

    assert document.text == "Naïve text."
    assert document.warnings == ()


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_decoded(tmp_path: Path, encoding: str) -> None:
    bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    document = load(write(tmp_path, "wide.txt", bom + "Grüße aus Köln.\n\nZweiter Absatz.".encode(encoding)))

    assert document.text == "Grüße aus Köln.\n\nZweiter Absatz."


@pytest.mark.parametrize(
    "junk",
    [bytes(range(256)) * 16, bytes(range(1, 9)) * 200 + b"some letters", b"\x00\x01\x02binary\x00"],
    ids=["all-bytes", "controls-without-nul", "nul-bytes"],
)
def test_binary_junk_in_a_txt_is_refused(tmp_path: Path, junk: bytes) -> None:
    with pytest.raises(UserError, match=r"^junk\.txt holds binary data, not text"):
        load(write(tmp_path, "junk.txt", junk))


def test_whitespace_only_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^blank\.txt contains no text\.$"):
        load(write(tmp_path, "blank.txt", " \n\n\t \u200b\n"))


def test_a_megabyte_on_one_line_loads_quickly(tmp_path: Path) -> None:
    line = "lorem ipsum dolor sit amet " * 40_000
    started = time.perf_counter()
    document = load(write(tmp_path, "long.txt", line))
    markdown = load(write(tmp_path, "long.md", "*" + line + "[" + "_" * 1000))

    # A quadratic step would take minutes here; the bound is loose so that a busy machine still passes.
    assert time.perf_counter() - started < 10
    assert len(line) > 1_000_000
    assert document.text == line.strip()
    assert markdown.text.startswith("*lorem ipsum")


def test_invisible_characters_are_dropped_and_odd_spaces_normalised(tmp_path: Path) -> None:
    document = load(write(tmp_path, "odd.txt", "zero\u200bwidth\u00a0space\x07 and ﬁne\u2028next\fpage"))

    assert document.text == "zerowidth space and fine next\n\npage"


MARKDOWN = """---
title: Front matter is not text
tags: [a, b]
---

<!-- a comment
over two lines -->
# The *Real* Title

Some **bold**, _italic_, `inline code` and a [link](https://example.com "title") with an
![diagram](img/diagram.png) image, an <https://auto.link> and snake_case_words kept.

## Second heading ##
- first item
- second item with \\*stars\\*
1. numbered item

> A quoted
> paragraph.

```python
print("code stays")
```

| Name | Value |
|------|------:|
| pi   | 3.14  |

Setext Heading
--------------
[ref]: https://example.com/reference
Final paragraph with <span class="x">inline html</span>.
"""


def test_markdown_markup_is_stripped(tmp_path: Path) -> None:
    document = load(write(tmp_path, "guide.md", MARKDOWN))

    assert document.format == "md"
    assert document.title == "The Real Title"
    assert document.text.split("\n\n") == [
        "The Real Title",
        "Some bold, italic, inline code and a link with an image, an https://auto.link and snake_case_words kept.",
        "Second heading",
        "first item",
        "second item with *stars*",
        "numbered item",
        "A quoted paragraph.",
        'print("code stays")',
        "Name Value",
        "pi 3.14",
        "Setext Heading",
        "Final paragraph with inline html.",
    ]


def test_markdown_without_a_level_one_heading_is_titled_by_its_stem(tmp_path: Path) -> None:
    document = load(write(tmp_path, "changelog.markdown", "## 1.0\n\nFirst release."))

    assert (document.title, document.text) == ("changelog", "1.0\n\nFirst release.")


_WORD_CHARS = st.characters(categories=("L", "N", "P", "S"), exclude_characters="".join(GLYPH_MAP) + "\ufffd")
_WORDS = st.lists(st.text(_WORD_CHARS, min_size=1, max_size=12), min_size=1, max_size=12)
_PARAGRAPHS = st.lists(st.lists(_WORDS, min_size=1, max_size=4), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(paragraphs=_PARAGRAPHS, separator=st.sampled_from(["\n\n", "\n \n", "\r\n\r\n", "\n\n\n"]))
def test_paragraphs_of_a_text_file_survive_in_order(paragraphs: list[list[list[str]]], separator: str) -> None:
    # Each paragraph is a list of lines, each line a list of words.
    source = separator.join("\n".join("  ".join(line) for line in paragraph) for paragraph in paragraphs)
    with tempfile.TemporaryDirectory() as folder:
        document = load(write(Path(folder), "random.txt", source))

    expected = [" ".join(word for line in paragraph for word in line) for paragraph in paragraphs]
    assert document.text.split("\n\n") == expected
    assert document.pages == (Page(page_index=0, char_start=0, char_end=len(document.text)),)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_told_by_its_nul_bytes(tmp_path: Path, codec: str) -> None:
    source = "The incident response life cycle has four phases.\n\nCafé – “quoted”."
    document = load(write(tmp_path, "notes.txt", source.encode(codec)))

    assert document.text == source


def test_shift_jis_text_is_decoded_with_a_warning(tmp_path: Path) -> None:
    source = "吾輩は猫である。名前はまだ無い。\n\nQA Reader の説明書：どこで生れたかとんと見当がつかぬ。"
    document = load(write(tmp_path, "neko.txt", source.encode("shift_jis")))

    assert document.text == source
    assert document.warnings == ("neko.txt is not UTF-8; it was read as Shift-JIS.",)


def test_euc_kr_text_is_decoded_rather_than_read_as_cp1252(tmp_path: Path) -> None:
    source = "한국어 텍스트입니다. 안녕하세요."
    document = load(write(tmp_path, "hangul.txt", source.encode("euc-kr")))

    assert document.text == source
    assert document.warnings == ("hangul.txt is not UTF-8; it was read as EUC-KR.",)


def test_western_text_with_few_accents_stays_cp1252(tmp_path: Path) -> None:
    # "é" followed by a letter is also a valid Shift-JIS pair; the text is still mostly ASCII.
    source = "Le Président de la République a parlé."
    document = load(write(tmp_path, "fr.txt", source.encode("cp1252")))

    assert document.text == source


def test_nul_bytes_without_the_utf16_pattern_are_still_binary(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="binary data"):
        load(write(tmp_path, "data.txt", bytes(range(256)) * 16))


@given(
    st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "\u00a0", "\u2003", "\x1c"]), max_size=80),
    st.integers(min_value=1, max_value=9),
)
def test_collapse_whitespace_equals_joining_the_split_words_whatever_the_chunk(text, chunk):
    assert collapse_whitespace(text, chunk) == " ".join(text.split())


def test_markdown_headings_are_listed_as_the_text_shows_them() -> None:
    from qa_reader.ingest.markdown import markdown_headings, strip_markdown

    source = "# The *Guide*\n\nBody.\n\n```\n# not a heading\n```\n\nSection\n-------\n\n### Deep #\n"
    assert markdown_headings(source) == [(1, "The Guide"), (2, "Section"), (3, "Deep")]
    plain, title = strip_markdown(source)
    assert title == "The Guide" and all(text in plain.split("\n") for _, text in markdown_headings(source))
