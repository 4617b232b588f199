"""HTML to paragraphs with the standard library's parser: block elements break paragraphs, scripts vanish."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from qa_reader.ingest.files import read_bytes
from qa_reader.ingest.text import declared_codec, decode_text, flowing_document, normalise_paragraph
from qa_reader.types import Document

# Elements whose content is not text a reader sees on the page.
_SKIPPED = frozenset({"script", "style", "head", "nav", "noscript", "template", "svg", "iframe", "object"})
# Elements that start and end a paragraph of their own.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
# Table cells share their row's paragraph, but their texts must not run together.
_CELLS = frozenset({"td", "th"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_META_CHARSET = re.compile(rb"""<meta[^>]{0,500}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_MARKED_SECTION = re.compile(r"<!\[(?!CDATA\[)")
# What html.parser looks for to end a comment, a marked section (<![CDATA[ ... ]]>) and Internet
# Explorer's conditional sections (<![if !IE]> ... <![endif]>), which end at "]>".
_COMMENT_END = re.compile(r"--\s*>")
_SECTION_END = re.compile(r"\]\s*\]\s*>")
_CONDITIONAL_END = re.compile(r"\]\s*>")
_CONDITIONAL_NAME = re.compile(r"(?:if|else|endif)(?![-_.a-zA-Z0-9])", re.IGNORECASE)
_OPENER = re.compile(r"<(!--|!\[)?")
# Browsers look for the charset declaration in the first 1024 bytes; be a little more lenient.
_CHARSET_WINDOW = 4096


@dataclass
class HtmlText:
    """What a page shows: its <title>, its first heading and its paragraphs."""

    title: str = ""
    first_heading: str = ""
    paragraphs: list[str] = field(default_factory=list)


class _TextCollector(HTMLParser):
    """Collects visible text, cutting it into paragraphs at block elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.result = HtmlText()
        self._pieces: list[str] = []
        self._skipping: list[str] = []
        self._skipping_count: dict[str, int] = {}
        self._title_pieces: list[str] | None = None
        self._heading_pieces: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and self._skipping_count.get("head"):
            # A <head> left open must not hide the whole body.
            self._skipping = [skipped for skipped in self._skipping if skipped != "head"]
            self._skipping_count["head"] = 0
        if tag == "title" and not self.result.title:
            self._title_pieces = []
        if tag in _SKIPPED:
            self._skipping.append(tag)
            self._skipping_count[tag] = self._skipping_count.get(tag, 0) + 1
        if tag in _BLOCKS:
            self._end_paragraph()
        if tag in _CELLS:
            self._pieces.append(" ")
        if tag in _HEADINGS and not self.result.first_heading and not self._skipping:
            self._heading_pieces = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title_pieces is not None:
            self.result.title = _normalise(self._title_pieces)
            self._title_pieces = None
        if self._skipping_count.get(tag):
            # Close the innermost element of that name, and whatever was left open inside it (counted, so
            # that thousands of unclosed elements cost no more than they take to read).
            while True:
                closed = self._skipping.pop()
                self._skipping_count[closed] -= 1
                if closed == tag:
                    break
        if tag in _HEADINGS and self._heading_pieces is not None:
            self.result.first_heading = _normalise(self._heading_pieces)
            self._heading_pieces = None
        if tag in _BLOCKS:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._title_pieces is not None:
            self._title_pieces.append(data)
            return
        if self._skipping:
            return
        self._pieces.append(data)
        if self._heading_pieces is not None:
            self._heading_pieces.append(data)

    def close(self) -> None:
        super().close()
        self._end_paragraph()

    def _end_paragraph(self) -> None:
        if self._pieces:
            paragraph = normalise_paragraph("".join(self._pieces))
            if paragraph:
                self.result.paragraphs.append(paragraph)
            self._pieces = []


def _normalise(pieces: list[str]) -> str:
    return normalise_paragraph("".join(pieces))


def extract_html(markup: str) -> HtmlText:
    """The visible text of an HTML document: title, first heading and paragraphs (never raises on bad markup)."""
    try:
        return _collect(markup)
    except AssertionError:
        # html.parser asserts on marked sections it does not know ("<![foo]>"); read those as plain text.
        return _collect(_MARKED_SECTION.sub("&lt;![", markup))


def _defuse_unclosed(markup: str) -> str:
    """The markup with every '<' that opens something never closed written as "&lt;" (text, as a browser shows it).

    html.parser looks for the end of a tag, comment or marked section from each opener to the end of the
    input and, not finding it, moves on one character; 20,000 unclosed "<!--" took minutes. An opener after
    the last '>' (or the last comment or section end) cannot be closed, so it is text from the start.
    """
    last_tag_end = markup.rfind(">")
    last_comment_end = max((match.start() for match in _COMMENT_END.finditer(markup)), default=-1)
    last_section_end = max((match.start() for match in _SECTION_END.finditer(markup)), default=-1)
    last_conditional_end = max((match.start() for match in _CONDITIONAL_END.finditer(markup)), default=-1)

    def replace(match: re.Match[str]) -> str:
        start = match.start()
        opened = match.group(1)
        if opened == "![":
            conditional = _CONDITIONAL_NAME.match(markup, start + 3)
            unclosed = start + 3 > (last_conditional_end if conditional else last_section_end)
        else:
            unclosed = start > last_tag_end or (opened == "!--" and start + 4 > last_comment_end)
        return "&lt;" + match.group()[1:] if unclosed else match.group()

    return _OPENER.sub(replace, markup)


def _collect(markup: str) -> HtmlText:
    collector = _TextCollector()
    collector.feed(_defuse_unclosed(markup))
    collector.close()
    return collector.result


def decode_html(data: bytes, name: str) -> tuple[str, list[str]]:
    """Decode HTML bytes by their BOM, their <meta charset> or XML declaration, else as text files are.

    Returns the markup and warnings about an assumed encoding.
    Raises UserError when the bytes are binary data rather than markup.
    """
    head = data[:_CHARSET_WINDOW]
    declaration = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    declared = declared_codec(declaration.group(1)) if declaration else None
    return decode_text(data, name, declared=declared)


def load_html(path: Path, sha256: str) -> Document:
    """Read an HTML page as its visible text: scripts, styles, the head and navigation are left out.

    Returns a one-page Document titled with the page's <title>, else the file name's stem.
    Raises UserError for binary data, a page without text, or a file that cannot be read.
    """
    markup, warnings = decode_html(read_bytes(path), path.name)
    page = extract_html(markup)
    return flowing_document(path, sha256, "html", page.title, page.paragraphs, warnings)
