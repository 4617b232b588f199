"""PDF text with per-character boxes, in reading order, without running headers: the only pymupdf importer."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np
import pymupdf

from qa_reader.errors import DocumentError, UserError
from qa_reader.ingest.layout import (
    PARAGRAPH_BREAK,
    clean_line,
    continues_paragraph,
    ends_hyphenated,
    is_page_number,
    reading_order,
    repeated_keys,
    running_key,
    split_block_columns,
)
from qa_reader.types import Document, FailureReason, Page, Rect

# Flags for get_text("rawdict"), each left out on purpose:
# - TEXT_PRESERVE_LIGATURES: without it MuPDF spells "ﬁ" out as "f" + "i", each with its own box;
# - TEXT_PRESERVE_WHITESPACE: without it tabs and odd spaces arrive as plain spaces;
# - TEXT_PRESERVE_IMAGES: images carry no text, and leaving them out keeps extraction lean;
# - TEXT_DEHYPHENATE: we join hyphenated words ourselves, with a stricter rule that keeps every box right;
# - TEXT_CID_FOR_UNKNOWN_UNICODE: a glyph without Unicode becomes U+FFFD instead of a made-up character.
# TEXT_MEDIABOX_CLIP is kept: text outside the page (printer's marks, overflow) is not part of the document.
_EXTRACT_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP

# Running headers and footers live in the top and bottom 8% of the page. Lines repeated in the left and right
# 8% are dropped too: printers' stamps and line numbers run down the side of the page.
_MARGIN_BAND_SHARE = 0.08
# Running headers and footers are short: a title, a chapter, a page number.
_MAX_RUNNING_CHARS = 100

# MuPDF reports what it repairs on stderr, which nobody using the app reads; damaged files get a warning
# or a UserError from this module instead.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

_MUPDF_ERRORS = (RuntimeError, pymupdf.mupdf.FzErrorBase)

# A metadata title is only a title when it is not a leftover from the program that made the file.
_TOOL_TITLE_PREFIXES = ("microsoft word - ", "microsoft powerpoint - ", "untitled")
_FILE_NAME_SUFFIXES = (".doc", ".docx", ".pdf", ".tex", ".dvi", ".ps", ".eps", ".rtf", ".odt", ".indd", ".pptx", ".txt")


@dataclass
class _Line:
    """One cleaned line of a page: its text, one box per character and its place on the page."""

    text: str
    boxes: np.ndarray
    bbox: Rect
    margin_key: str | None  # the line's running_key() when it lies in a margin band, else None
    bare_page_number: bool  # only a page number, in the top or bottom band


@dataclass
class _PageText:
    """What one page contributes, kept until the running headers of the whole document are known."""

    blocks: list[list[_Line]] = field(default_factory=list)
    margin_keys: set[str] = field(default_factory=set)
    width: float = 0.0
    height: float = 0.0
    label: str = ""
    readable: bool = True
    # A page without text on which MuPDF reported errors: damaged, not scanned.
    damaged: bool = False

    @property
    def has_text(self) -> bool:
        return bool(self.blocks)


class _TextBuilder:
    """Accumulates the document text and its character boxes piece by piece, in step with each other."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.box_pieces: list[np.ndarray] = []
        self.length = 0

    def add(self, text: str, boxes: np.ndarray) -> None:
        self.pieces.append(text)
        self.box_pieces.append(boxes)
        self.length += len(text)

    def add_inserted(self, text: str) -> None:
        """Characters the extractor adds between lines and blocks: they have no box (NaN)."""
        self.add(text, np.full((len(text), 4), np.nan, dtype=np.float32))

    def drop_last_char(self) -> None:
        self.pieces[-1] = self.pieces[-1][:-1]
        self.box_pieces[-1] = self.box_pieces[-1][:-1]
        self.length -= 1

    def text(self) -> str:
        return "".join(self.pieces)

    def boxes(self) -> np.ndarray:
        if not self.box_pieces:
            return np.empty((0, 4), dtype=np.float32)
        return np.concatenate(self.box_pieces).astype(np.float32, copy=False)


# PyMuPDF is not thread-safe: the worker extracts while the page view renders on its own thread.
_MUPDF_LOCK = threading.RLock()


def load_pdf(path: Path, sha256: str, progress: Callable[[int, int], None] | None = None) -> Document:
    """Extract a PDF's text page by page, with each character's box, in reading order.

    Returns a Document whose `char_boxes` holds one (x0, y0, x1, y1) per character, NaN for the spaces and
    paragraph breaks inserted between lines and blocks.
    Raises UserError when the file is damaged, encrypted, or has no text layer on any page.
    `progress(pages_done, page_count)` is called after each page.
    """
    name = path.name
    try:
        with _MUPDF_LOCK:
            document = pymupdf.open(path, filetype="pdf")
    except _MUPDF_ERRORS as error:
        raise DocumentError(
            f"{name} is damaged or not a PDF at all: it cannot be opened.", FailureReason.DAMAGED
        ) from error
    with document:
        # MuPDF trusts content over the requested type: text or an image named .pdf opens as such.
        if not document.is_pdf:
            raise DocumentError(f"{name} is damaged or not a PDF at all: it cannot be opened.", FailureReason.DAMAGED)
        if document.needs_pass:
            raise DocumentError(
                f"{name} is encrypted: open it in a PDF viewer, save an unprotected copy and add that.",
                FailureReason.ENCRYPTED,
            )
        if document.page_count == 0:
            raise DocumentError(f"{name} is damaged: no page of it can be read.", FailureReason.DAMAGED)
        has_labels = _has_page_labels(document)
        pages = []
        with _garbage_collector_paused():
            for index in range(document.page_count):
                # One page per lock: a page view rendering on another thread waits one page, not the file.
                with _MUPDF_LOCK:
                    pages.append(_extract_page(document, index, has_labels))
                if progress is not None:
                    progress(index + 1, document.page_count)
        repaired = document.is_repaired
        metadata_title = (document.metadata or {}).get("title") or ""

    # A page MuPDF fails on is damaged, not scanned: OCR would not help it. A page without text that MuPDF
    # read without complaint is scanned (images, inline or not) or blank, and both are told to run OCR.
    unreadable = [index for index, page in enumerate(pages) if not page.readable or page.damaged]
    scanned = [index for index, page in enumerate(pages) if page.readable and not page.damaged and not page.has_text]
    if len(unreadable) == len(pages) or (repaired and not any(page.has_text for page in pages)):
        raise DocumentError(f"{name} is damaged: no page of it can be read.", FailureReason.DAMAGED)
    if not any(page.has_text for page in pages):
        if scanned:
            raise DocumentError(f"{name} is scanned: it has no text layer; run OCR on it first.", FailureReason.SCANNED)
        raise DocumentError(f"{name} is damaged: no page of it can be read.", FailureReason.DAMAGED)

    builder = _TextBuilder()
    page_records = _assemble(pages, builder)
    text = builder.text()
    if not text:
        raise DocumentError(f"{name} contains no text besides page headers and page numbers.", FailureReason.NO_TEXT)

    warnings = []
    if repaired:
        warnings.append(f"{name} is damaged; QA Reader repaired it, but some of its text may be missing.")
    if unreadable:
        warnings.append(
            _pages_sentence(unreadable, "could not be read and was skipped", "could not be read and were skipped")
        )
    if scanned:
        warnings.append(
            _pages_sentence(
                scanned,
                "has no text layer (scanned); it cannot be searched",
                "have no text layer (scanned); they cannot be searched",
            )
        )
    return Document(
        path=str(path),
        title=_sensible_title(metadata_title) or path.stem,
        format="pdf",
        sha256=sha256,
        text=text,
        pages=tuple(page_records),
        char_boxes=builder.boxes(),
        scanned_pages=tuple(scanned),
        warnings=tuple(warnings),
    )


@contextmanager
def _garbage_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while pages are extracted.

    "rawdict" builds a dict per glyph; hundreds of thousands of them set off collection after collection
    (a third of the load time of a long PDF), yet none of them is part of a reference cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _has_page_labels(document: pymupdf.Document) -> bool:
    """Whether the PDF defines page labels; a damaged label tree counts as none."""
    try:
        return bool(document.get_page_labels())
    except _MUPDF_ERRORS:
        return False


def _extract_page(document: pymupdf.Document, page_index: int, has_labels: bool) -> _PageText:
    """Read one page's lines and boxes; the page's raw extraction is dropped as soon as this returns."""
    # MuPDF reports a damaged content stream as a warning and returns what it could read, often nothing.
    pymupdf.TOOLS.reset_mupdf_warnings()
    try:
        page = document[page_index]
        raw = page.get_text("rawdict", flags=_EXTRACT_FLAGS)
        rect = page.rect
        label = page.get_label() if has_labels else ""
    except _MUPDF_ERRORS:
        return _PageText(readable=False)
    problems = pymupdf.TOOLS.mupdf_warnings()

    page_text = _PageText(width=float(rect.width), height=float(rect.height), label=label)
    # Glyphs of the whole page go into one list first so that their boxes become a single numpy array.
    glyphs: list[str] = []
    glyph_boxes: list[Sequence[float]] = []
    raw_blocks: list[list[tuple[int, int, Rect]]] = []
    for block in raw["blocks"]:
        if block.get("type", 0) != 0:
            continue
        raw_lines = []
        for line in block["lines"]:
            start = len(glyphs)
            for span in line["spans"]:
                span_chars = span["chars"]
                glyphs.extend([char["c"] for char in span_chars])
                glyph_boxes.extend([char["bbox"] for char in span_chars])
            raw_lines.append((start, len(glyphs), tuple(line["bbox"])))
        raw_blocks.append(raw_lines)
    if not glyphs:
        page_text.damaged = bool(problems)
        return page_text

    box_array = np.fromiter(chain.from_iterable(glyph_boxes), dtype=np.float32, count=4 * len(glyph_boxes))
    box_array = box_array.reshape(-1, 4)
    if page.rotation % 360:
        # MuPDF extracts text on the unrotated page; people see (and highlights go on) the rotated one.
        box_array = _rotate_boxes(box_array, page.rotation_matrix)
        raw_blocks = [
            [(start, end, _rotate_bbox(bbox, page.rotation_matrix)) for start, end, bbox in raw_lines]
            for raw_lines in raw_blocks
        ]
    # Glyph boxes may poke out of the page (a descender on the last line); a highlight must stay on it.
    np.clip(box_array[:, 0::2], rect.x0, rect.x1, out=box_array[:, 0::2])
    np.clip(box_array[:, 1::2], rect.y0, rect.y1, out=box_array[:, 1::2])
    top_band = rect.y0 + _MARGIN_BAND_SHARE * rect.height
    bottom_band = rect.y1 - _MARGIN_BAND_SHARE * rect.height
    left_band = rect.x0 + _MARGIN_BAND_SHARE * rect.width
    right_band = rect.x1 - _MARGIN_BAND_SHARE * rect.width
    for raw_lines in raw_blocks:
        placed = []
        for start, end, bbox in raw_lines:
            text, boxes = clean_line(glyphs[start:end], box_array[start:end])
            if not text:
                continue
            middle_x = (bbox[0] + bbox[2]) / 2
            middle_y = (bbox[1] + bbox[3]) / 2
            in_top_or_bottom = middle_y < top_band or middle_y > bottom_band
            in_margin = in_top_or_bottom or middle_x < left_band or middle_x > right_band
            placed.append((text, boxes, bbox, in_top_or_bottom, in_margin))
        # A running header stands apart from the body: a block that reaches out of the margin bands is body
        # text whose first line starts high on a tightly set page ("Item 1 of the list ..." on each of 3,200
        # pages), and a long line is a sentence, not a header.
        block_in_margin = all(in_margin for *_, in_margin in placed)
        lines = []
        for text, boxes, bbox, in_top_or_bottom, in_margin in placed:
            running = in_margin and block_in_margin and len(text) <= _MAX_RUNNING_CHARS
            margin_key = running_key(text) if running else None
            if margin_key is not None:
                page_text.margin_keys.add(margin_key)
            lines.append(_Line(text, boxes, bbox, margin_key, in_top_or_bottom and is_page_number(text)))
        if lines:
            page_text.blocks.append(lines)
    return page_text


def _rotate_boxes(boxes: np.ndarray, matrix: pymupdf.Matrix) -> np.ndarray:
    """Boxes moved by a page's rotation matrix; opposite corners stay opposite under quarter turns."""
    xs, ys = boxes[:, 0::2].astype(np.float64), boxes[:, 1::2].astype(np.float64)
    new_xs = matrix.a * xs + matrix.c * ys + matrix.e
    new_ys = matrix.b * xs + matrix.d * ys + matrix.f
    rotated = np.stack([new_xs.min(axis=1), new_ys.min(axis=1), new_xs.max(axis=1), new_ys.max(axis=1)], axis=1)
    return rotated.astype(np.float32)


def _rotate_bbox(bbox: Rect, matrix: pymupdf.Matrix) -> Rect:
    x0, y0, x1, y1 = _rotate_boxes(np.asarray([bbox], dtype=np.float32), matrix)[0].tolist()
    return (x0, y0, x1, y1)


def _assemble(pages: list[_PageText], builder: _TextBuilder) -> list[Page]:
    """Write every page's body text into `builder` in reading order; returns the Page records.

    Pages are separated by a paragraph break that belongs to the start of the following page.
    """
    running = repeated_keys([page.margin_keys for page in pages])
    records = []
    for page_index, page in enumerate(pages):
        page_start = builder.length
        blocks = []
        for block in page.blocks:
            lines = _body_lines(block, running)
            for column in split_block_columns([line.bbox for line in lines]) if lines else []:
                blocks.append([lines[index] for index in column])
        block_boxes = [_union(line.bbox for line in block) for block in blocks]
        previous_line: _Line | None = None
        for block_index in reading_order(block_boxes):
            block = blocks[block_index]
            for line in block:
                _append_line(builder, previous_line, line, starts_block=line is block[0])
                previous_line = line
        records.append(
            Page(
                page_index=page_index,
                char_start=page_start,
                char_end=builder.length,
                width=page.width,
                height=page.height,
                label=page.label,
            )
        )
    return records


def _append_line(builder: _TextBuilder, previous: _Line | None, line: _Line, *, starts_block: bool) -> None:
    """Add a line after `previous` (None at the top of a page), joined the way the layout says."""
    if previous is None:
        if builder.length:
            builder.add_inserted(PARAGRAPH_BREAK)
    elif ends_hyphenated(previous.text, line.text):
        # The word goes on in this line: its hyphen goes, and nothing comes between the two halves.
        builder.drop_last_char()
    elif starts_block and not continues_paragraph(previous.text, previous.bbox, line.text, line.bbox):
        builder.add_inserted(PARAGRAPH_BREAK)
    else:
        builder.add_inserted(" ")
    builder.add(line.text, line.boxes)


def _body_lines(block: list[_Line], running: set[str]) -> list[_Line]:
    """The lines of a block that are not running headers, running footers or bare page numbers."""
    return [line for line in block if not (line.bare_page_number or line.margin_key in running)]


def _union(boxes: Iterable[Rect]) -> Rect:
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return (min(x0s), min(y0s), max(x1s), max(y1s))


def _pages_sentence(page_indexes: list[int], singular: str, plural: str) -> str:
    """A warning naming pages by number: "Page 3 has …" or "Pages 3, 7 have …"."""
    if len(page_indexes) == 1:
        return f"Page {page_indexes[0] + 1} {singular}."
    numbers = [str(index + 1) for index in page_indexes[:10]]
    if len(page_indexes) > 10:
        numbers.append(f"and {len(page_indexes) - 10} more")
    return f"Pages {', '.join(numbers)} {plural}."


def _sensible_title(title: str) -> str:
    """The metadata title when it names the document; "" when it is empty or a leftover file name."""
    title = " ".join(title.split())
    lowered = title.lower()
    if len(title) < 3 or not any(char.isalpha() for char in title):
        return ""
    if lowered.startswith(_TOOL_TITLE_PREFIXES) or lowered.endswith(_FILE_NAME_SUFFIXES):
        return ""
    return title


def render_page(path: str, page_index: int, scale: float) -> tuple[int, int, int, bytes]:
    """Render one page at `scale` (1.0 = 72 dpi) without alpha.

    Returns (width_px, height_px, stride, RGB888 samples). Raises UserError when the file or page cannot be
    rendered.
    """
    try:
        with _MUPDF_LOCK, pymupdf.open(path) as document:
            if not 0 <= page_index < document.page_count:
                raise UserError(f"{Path(path).name} has no page {page_index + 1}.")
            pixmap = document[page_index].get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False)
            return pixmap.width, pixmap.height, pixmap.stride, bytes(pixmap.samples)
    except _MUPDF_ERRORS as error:
        raise UserError(f"Page {page_index + 1} of {Path(path).name} cannot be rendered ({error}).") from error
