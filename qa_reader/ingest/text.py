"""Plain text and Markdown files: decoding bytes, splitting paragraphs, one flowing page."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from qa_reader.errors import DocumentError, UserError
from qa_reader.ingest.files import read_bytes
from qa_reader.ingest.layout import GLYPH_MAP, PARAGRAPH_BREAK
from qa_reader.ingest.markdown import markdown_headings, strip_markdown
from qa_reader.types import Document, FailureReason, Page

# Line and page separators become line breaks before paragraphs are found; everything else that
# layout.GLYPH_MAP drops or turns into a space is handled the same way as in PDFs.
_CLEAN_TABLE = str.maketrans(
    {
        **GLYPH_MAP,
        "\t": " ",
        "\n": "\n",
        "\r": "\n",
        "\v": "\n",
        "\x85": "\n",
        "\u2028": "\n",
        "\f": PARAGRAPH_BREAK,
        "\u2029": PARAGRAPH_BREAK,
    }
)
# A blank line: a line break, nothing but spaces, another line break.
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_WHITESPACE = re.compile(r"\s")  # the characters str.split() takes as whitespace
# Characters no text file holds in quantity: C0 and C1 controls (bar whitespace) and decoding failures.
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ufffd]")
_MAX_BINARY_SHARE = 0.05
# Names that web pages use for Windows-1252 (WHATWG encoding standard): decoding as true Latin-1 would turn
# curly quotes into control characters.
_CP1252_ALIASES = frozenset({"iso8859-1", "latin-1", "ascii", "us-ascii"})
# UTF-16 without a BOM: in text that is mostly ASCII, every other byte is NUL, on the odd bytes for
# little-endian and the even ones for big-endian. Judged on the first bytes only.
_UTF16_SAMPLE = 4096
_UTF16_NUL_SHARE = 0.3
_UTF16_OTHER_NUL_SHARE = 0.02
# East Asian encodings tried when a file is neither UTF-8 nor Windows-1252, each kept only when the bytes
# decode without an error and most non-ASCII characters are of that script (Western text rarely decodes
# cleanly as either: an accented letter followed by a space or a letter is not a valid pair).
_EAST_ASIAN = (
    # Shift-JIS: kana, kanji, CJK punctuation and full-width forms (not the half-width katakana that other
    # encodings' bytes turn into).
    ("shift_jis", "Shift-JIS", re.compile("[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]")),
    ("euc-kr", "EUC-KR", re.compile("[\uac00-\ud7a3\u3131-\u318e]")),
)
_NON_ASCII = re.compile("[^\x00-\x7f]")


def decode_text(data: bytes, name: str, declared: str | None = None) -> tuple[str, list[str]]:
    """Decode a text file's bytes: a BOM first (or UTF-16's pattern of NUL bytes), then a `declared`
    encoding, else UTF-8, cp1252, Shift-JIS or EUC-KR when the bytes are clean text in them, latin-1.

    Returns the text and warnings (which encoding was assumed when the file is not UTF-8).
    Raises UserError when the bytes are binary data rather than text.
    """
    warnings: list[str] = []
    binary_error = DocumentError(
        f"{name} holds binary data, not text: QA Reader reads PDF, text, Markdown, HTML and EPUB files.",
        FailureReason.UNSUPPORTED,
    )
    if data.startswith(codecs.BOM_UTF8):
        text = _decode_or_replace(data[len(codecs.BOM_UTF8) :], "utf-8", name, warnings)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_or_replace(data, "utf-16", name, warnings)
    elif b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise binary_error
        text = _decode_or_replace(data, utf16, name, warnings)
    else:
        text = _decode_declared(data, declared) if declared else None
        if text is None:
            text = _decode_with_fallbacks(data, name, warnings)
    if text and len(_BINARY_CHARS.findall(text)) > _MAX_BINARY_SHARE * len(text):
        raise binary_error
    return text, warnings


def declared_codec(label: bytes | str) -> str | None:
    """The Python codec for an encoding label found in a file, or None when the label is unknown."""
    if isinstance(label, bytes):
        label = label.decode("ascii", errors="replace")
    try:
        codec = codecs.lookup(label.strip()).name
        # Refuses codecs that are not text encodings (base64, rot13): a page may name anything.
        b"a".decode(codec)
    except (LookupError, ValueError):
        return None
    if codec in _CP1252_ALIASES:
        return "cp1252"
    # A UTF-16 label found by reading the bytes as ASCII is wrong by definition; a BOM would have said so.
    if codec.startswith("utf-16") or codec.startswith("utf-32"):
        return None
    return codec


def _decode_declared(data: bytes, codec: str) -> str | None:
    """Decode with the encoding a file declares; None when that codec cannot replace bad bytes (idna)."""
    try:
        return data.decode(codec, errors="replace")
    except (UnicodeError, LookupError):
        return None


def _decode_or_replace(data: bytes, encoding: str, name: str, warnings: list[str]) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        warnings.append(f"{name} is not valid {encoding.upper()} throughout; unreadable bytes were replaced.")
        return data.decode(encoding, errors="replace")


def _utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when the NUL bytes fall in the pattern of UTF-16 text, else None."""
    sample = data[:_UTF16_SAMPLE]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nuls = sample[0 : 2 * pairs : 2].count(0)
    odd_nuls = sample[1 : 2 * pairs : 2].count(0)
    if odd_nuls >= _UTF16_NUL_SHARE * pairs and even_nuls <= _UTF16_OTHER_NUL_SHARE * pairs:
        return "utf-16-le"
    if even_nuls >= _UTF16_NUL_SHARE * pairs and odd_nuls <= _UTF16_OTHER_NUL_SHARE * pairs:
        return "utf-16-be"
    return None


def _decode_east_asian(data: bytes, dominant: bool) -> tuple[str, str] | None:
    """The text and the encoding's name when the bytes are clean Shift-JIS or EUC-KR text, else None.

    `dominant` also asks that a fifth of the text's visible characters be non-ASCII: EUC-KR bytes are all
    valid Windows-1252, so a Korean file is told from a Western one by how much of it is not ASCII.
    """
    for codec, label, script in _EAST_ASIAN:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        non_ascii = len(_NON_ASCII.findall(text))
        if not non_ascii or len(script.findall(text)) < 0.5 * non_ascii:
            continue
        if dominant and non_ascii < 0.2 * (len(text) - text.count(" ") - text.count("\n")):
            continue
        return text, label
    return None


def _decode_with_fallbacks(data: bytes, name: str, warnings: list[str]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Mostly East Asian text first (EUC-KR would also pass as Windows-1252), then Windows-1252, then East
    # Asian text with more ASCII in it (Shift-JIS punctuation is never valid Windows-1252), then Latin-1.
    east_asian = _decode_east_asian(data, dominant=True)
    if east_asian is None:
        try:
            text = data.decode("cp1252")
            warnings.append(f"{name} is not UTF-8; it was read as Windows-1252 (cp1252), so check its accents.")
            return text
        except UnicodeDecodeError:
            east_asian = _decode_east_asian(data, dominant=False)
    if east_asian is not None:
        text, label = east_asian
        warnings.append(f"{name} is not UTF-8; it was read as {label}.")
        return text
    warnings.append(f"{name} is not UTF-8; it was read as Latin-1 (ISO-8859-1), so check its accents.")
    return data.decode("latin-1")


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of flowing text: blocks between blank lines, each block's lines joined with one space.

    Control and invisible characters are dropped and runs of whitespace become one space. Linear in the
    length of the text, so a megabyte on one line is no trouble.
    """
    text = text.replace("\r\n", "\n").translate(_CLEAN_TABLE)
    paragraphs = (collapse_whitespace(block) for block in _BLANK_LINE.split(text))
    return [paragraph for paragraph in paragraphs if paragraph]


def collapse_whitespace(text: str, chunk_chars: int = 1 << 20) -> str:
    """Runs of whitespace as one space, none at either end: `" ".join(text.split())`, a megabyte at a time,
    so a 30 MB paragraph is not five million word strings at once (over 500 MB)."""
    if len(text) <= chunk_chars:
        return " ".join(text.split())
    pieces = []
    start = 0
    while start < len(text):
        boundary = _WHITESPACE.search(text, min(start + chunk_chars, len(text)))
        end = boundary.start() if boundary else len(text)  # cut in whitespace, never inside a word
        piece = " ".join(text[start : end + 1].split())
        if piece:
            pieces.append(piece)
        start = end + 1
    return " ".join(pieces)


def normalise_paragraph(text: str) -> str:
    """One paragraph from text whose line breaks mean nothing (HTML): whitespace runs become one space."""
    return collapse_whitespace(text.translate(_CLEAN_TABLE))


def flowing_document(
    path: Path,
    sha256: str,
    file_format: str,
    title: str,
    paragraphs: list[str],
    warnings: list[str],
) -> Document:
    """A Document for a format without pages: one Page over all of the text, no character boxes.

    Raises UserError when there is no text.
    """
    text = PARAGRAPH_BREAK.join(paragraphs)
    if not text:
        raise DocumentError(f"{path.name} contains no text.", FailureReason.NO_TEXT)
    return Document(
        path=str(path),
        title=title or path.stem,
        format=file_format,
        sha256=sha256,
        text=text,
        pages=(Page(page_index=0, char_start=0, char_end=len(text)),),
        warnings=tuple(warnings),
    )


def load_text(path: Path, sha256: str) -> Document:
    """Read a plain text file: paragraphs are separated by blank lines.

    Returns a one-page Document titled with the file name's stem.
    Raises UserError for binary data, a file without text, or a file that cannot be read.
    """
    text, warnings = decode_text(read_bytes(path), path.name)
    return flowing_document(path, sha256, "txt", path.stem, split_paragraphs(text), warnings)


def load_markdown(path: Path, sha256: str) -> Document:
    """Read a Markdown file as the text a reader sees, without the markup.

    Returns a one-page Document titled with the first level-1 heading, else the file name's stem.
    Raises UserError for binary data, a file without text, or a file that cannot be read.
    """
    source, warnings = decode_text(read_bytes(path), path.name)
    plain, heading = strip_markdown(source)
    title = normalise_paragraph(heading) or path.stem
    return flowing_document(path, sha256, "md", title, split_paragraphs(plain), warnings)


def headings_of_markdown(path: Path) -> list[tuple[int, str]]:
    """(level, text) of the headings of a Markdown file as it is on disk now, for showing them as headings.

    Returns [] when the file cannot be read or decoded: the text is then shown without heading styles.
    """
    try:
        source, _ = decode_text(read_bytes(path), path.name)
    except (UserError, OSError):
        return []
    return [(level, normalise_paragraph(text)) for level, text in markdown_headings(source)]
