"""Pure page-layout rules for PDF text: cleaning a line's glyphs, reading order, running headers, hyphens."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np

from qa_reader.types import Rect

# Paragraphs are separated by one blank line in every Document's text; passages are cut there.
PARAGRAPH_BREAK = "\n\n"

# What a glyph becomes in the text: "" drops it, " " is a space, longer strings are ligatures spelled out.
_SPACE_CHARS = "\t\u00a0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
# Invisible format characters: they carry no text, and a search for a word must not trip over them.
_INVISIBLE_CHARS = "\u00ad\ufeff" + "".join(
    map(chr, [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065), *range(0x2066, 0x206A)])
)
_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
GLYPH_MAP: dict[str, str] = {
    **{chr(code): "" for code in range(0x20) if chr(code) != "\t"},
    **{chr(code): "" for code in range(0x7F, 0xA0)},
    **dict.fromkeys(_SPACE_CHARS, " "),
    **dict.fromkeys(_INVISIBLE_CHARS, ""),
    **_LIGATURES,
}
# A line needs the slow, glyph-by-glyph cleaning only when it holds one of these.
_NEEDS_MAPPING = re.compile("[" + re.escape("".join(GLYPH_MAP)) + "]")
_SPACE_RUN = re.compile(" {2,}")

HYPHENS = frozenset("-\u2010")
_SOFT_HYPHEN = "\u00ad"
_SENTENCE_ENDS = frozenset(".!?:;")

# Tolerances in points: glyph boxes of neighbouring lines overlap a little (ascenders and descenders), which
# must not hide the white band between two blocks.
_BAND_OVERLAP_TOLERANCE = 0.5


def clean_line(chars: Sequence[str], boxes: np.ndarray) -> tuple[str, np.ndarray]:
    """Clean one line of glyphs: spell out ligatures, drop control and invisible characters, collapse spaces.

    `chars[i]` is the text of glyph i (usually one character) and `boxes[i]` its (x0, y0, x1, y1).
    Returns the line's text and a float32 (len(text), 4) array of boxes, one per character; a ligature's box
    is cut into equal slices so that each spelled-out letter still has a box of its own.
    """
    text = "".join(chars)
    if len(text) != len(chars) or _NEEDS_MAPPING.search(text) is not None:
        return _clean_glyph_by_glyph(chars, boxes)
    # The common case, kept fast: most lines only carry a trailing space (word processors end lines so).
    start = len(text) - len(text.lstrip(" "))
    end = len(text.rstrip(" "))
    text, boxes = text[start:end], boxes[start:end]
    if "  " not in text:
        return text, boxes
    is_space = np.array([char == " " for char in text])
    keep = ~(is_space & np.concatenate(([False], is_space[:-1])))
    return _SPACE_RUN.sub(" ", text), boxes[keep]


def _clean_glyph_by_glyph(chars: Sequence[str], boxes: np.ndarray) -> tuple[str, np.ndarray]:
    kept_chars: list[str] = []
    kept_boxes: list[Sequence[float]] = []
    # A soft hyphen shows only where a line breaks: there it is a hyphen (which may join the word), elsewhere
    # it is invisible. Glyphs that show nothing (a zero-width space, a control character) do not end a line.
    last_glyph = max(
        (index for index, glyph in enumerate(chars) if glyph == _SOFT_HYPHEN or _glyph_text(glyph).strip()),
        default=-1,
    )
    for index, (glyph, box) in enumerate(zip(chars, boxes, strict=True)):
        glyph_text = "-" if glyph == _SOFT_HYPHEN and index == last_glyph else _glyph_text(glyph)
        for char, char_box in _spell_out(glyph_text, box):
            if char == " " and (not kept_chars or kept_chars[-1] == " "):
                continue
            kept_chars.append(char)
            kept_boxes.append(char_box)
    if kept_chars and kept_chars[-1] == " ":
        kept_chars.pop()
        kept_boxes.pop()
    return "".join(kept_chars), np.asarray(kept_boxes, dtype=np.float32).reshape(-1, 4)


def _glyph_text(glyph: str) -> str:
    """What one glyph contributes to the text (a glyph may carry several characters)."""
    mapped = GLYPH_MAP.get(glyph)
    if mapped is not None:
        return mapped
    if len(glyph) == 1:
        return glyph
    return "".join(GLYPH_MAP.get(char, char) for char in glyph)


def _spell_out(glyph_text: str, box: Sequence[float]) -> list[tuple[str, Sequence[float]]]:
    """The characters of one glyph, each with an equal horizontal slice of the glyph's box."""
    if len(glyph_text) <= 1:
        return [(glyph_text, box)] if glyph_text else []
    x0, y0, x1, y1 = (float(value) for value in box)
    step = (x1 - x0) / len(glyph_text)
    return [
        (char, (x0 + position * step, y0, x0 + (position + 1) * step, y1)) for position, char in enumerate(glyph_text)
    ]


def ends_hyphenated(previous: str, following: str) -> bool:
    """Whether `previous` ends in a word broken by a hyphen that `following` completes.

    Only a letter followed by a hyphen, then a lowercase letter, counts: "inter-" + "national" joins, while
    "COVID-" + "19" and "pre-" + "World War" stay apart.
    """
    return (
        len(previous) >= 2
        and previous[-1] in HYPHENS
        and previous[-2].isalpha()
        and bool(following)
        and following[0].islower()
    )


def continues_paragraph(previous: str, previous_bbox: Rect, following: str, following_bbox: Rect) -> bool:
    """Whether a line that starts a new block still belongs to the paragraph of the line just above it.

    PDF producers often put the wrapped lines of a list item or a hanging indent into a block of their own.
    The next block continues the paragraph when it starts in lowercase, the line before it does not end a
    sentence, and it sits right below that line (less than a line's height apart, overlapping sideways).
    """
    if not following[:1].islower() or previous[-1:] in _SENTENCE_ENDS:
        return False
    line_height = previous_bbox[3] - previous_bbox[1]
    gap = following_bbox[1] - previous_bbox[3]
    overlaps_sideways = following_bbox[0] < previous_bbox[2] and previous_bbox[0] < following_bbox[2]
    return -_BAND_OVERLAP_TOLERANCE * 2 <= gap < 0.8 * line_height and overlaps_sideways


def split_block_columns(line_boxes: Sequence[Rect]) -> list[list[int]]:
    """Cut a block whose lines stand in side-by-side columns into one group of lines per column.

    Some producers write two-column text line by line across the page, and MuPDF then makes one block of
    both columns. A block is cut only when every column holds at least two lines, so a heading set as
    "1" and "Introduction" on one baseline stays whole.
    Returns groups of line indexes, each in the block's own order, left to right.
    """
    columns = _split(list(range(len(line_boxes))), line_boxes, axis=0)
    if len(columns) < 2 or any(len(column) < 2 for column in columns):
        return [list(range(len(line_boxes)))]
    return [sorted(column) for column in columns]


def reading_order(boxes: Sequence[Rect]) -> list[int]:
    """Order text blocks for reading with a recursive XY-cut on their bounding boxes.

    A region is first cut at white bands running across its whole width (top to bottom), else at white gaps
    running down its whole height (left to right); a region no band or gap cuts reads top to bottom.
    Bands that only separate paragraphs inside columns (the columns' gutter runs through both sides of
    the band) are not cut, so that a column is read to its end before the next one.

    Returns the indexes of `boxes` in reading order.
    """
    order: list[int] = []
    # An explicit stack rather than recursion: a page with thousands of tiny blocks must not hit the
    # recursion limit. Parts go on the stack last-first so that they come off it in reading order.
    regions = [list(range(len(boxes)))]
    while regions:
        region = regions.pop()
        if len(region) <= 1:
            order.extend(region)
            continue
        parts = _merge_bands_inside_columns(_split(region, boxes, axis=1), boxes)
        if len(parts) == 1:
            parts = _split(region, boxes, axis=0)
        if len(parts) == 1:
            order.extend(sorted(region, key=lambda index: (boxes[index][1], boxes[index][0])))
            continue
        regions.extend(reversed(parts))
    return order


def _split(indexes: list[int], boxes: Sequence[Rect], axis: int) -> list[list[int]]:
    """Group boxes that overlap along one axis (0: x, 1: y); the groups are separated by white gaps."""
    ordered = sorted(indexes, key=lambda index: boxes[index][axis])
    tolerance = _BAND_OVERLAP_TOLERANCE if axis == 1 else 0.0
    groups: list[list[int]] = []
    group_end = float("-inf")
    for index in ordered:
        start, end = boxes[index][axis], boxes[index][axis + 2]
        if not groups or start >= group_end - tolerance:
            groups.append([index])
            group_end = end
        else:
            groups[-1].append(index)
            group_end = max(group_end, end)
    return groups


def _covered_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge (start, end) spans along the x axis into the disjoint spans they cover, left to right."""
    covered: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if covered and start < covered[-1][1]:
            covered[-1] = (covered[-1][0], max(covered[-1][1], end))
        else:
            covered.append((start, end))
    return covered


def _merge_bands_inside_columns(bands: list[list[int]], boxes: Sequence[Rect]) -> list[list[int]]:
    """Join neighbouring bands while a vertical gap still runs through the joined region.

    In a two-column page the white space between paragraphs sometimes lines up across both columns; cutting
    there would read the top halves of both columns before the bottom halves. A full-width title or figure
    between the bands has no gap at the gutter, so it stays cut off.
    """
    merged: list[list[int]] = []
    merged_spans: list[tuple[float, float]] = []
    for band in bands:
        spans = _covered_spans((boxes[index][0], boxes[index][2]) for index in band)
        if merged:
            joined_spans = _covered_spans(merged_spans + spans)
            if len(joined_spans) > 1:
                merged[-1] = merged[-1] + band
                merged_spans = joined_spans
                continue
        merged.append(band)
        merged_spans = spans
    return merged


# "12", "Page 12", "12 of 40", "- 12 -", "xiv", and section-page numbers such as "3-12" or "B-3".
_PAGE_NUMBER = re.compile(
    r"^[-\u2013\u2014\s]*(?:page\s+)?"
    r"(?:(?P<roman>[ivxlcdm]{1,12})|\d{1,5}|(?:[A-Z]|\d{1,3})[-\u2013.]\d{1,4})"
    r"(?:\s*(?:of|/)\s*\d{1,5})?[-\u2013\u2014\s]*$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"^m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$", re.IGNORECASE)


def is_page_number(text: str) -> bool:
    """Whether a line is only a page number: "12", "Page 12", "12 of 40", "- 12 -", "xiv", "3-12", "B-3"."""
    match = _PAGE_NUMBER.match(text)
    if match is None:
        return False
    roman = match.group("roman")
    return roman is None or _ROMAN.match(roman) is not None


def running_key(text: str) -> str:
    """The form of a line that repeats from page to page: each run of digits becomes '#', spaces normalised.

    A run rather than each digit, so that "Page 9" and "Page 10" of one running footer share a key.
    """
    return " ".join(_DIGITS.sub("#", unicodedata.normalize("NFKC", text)).split())


def repeated_keys(keys_per_page: Sequence[set[str]], *, min_pages: int = 3, min_share: float = 0.25) -> set[str]:
    """Running headers and footers: keys found on at least `min_pages` pages and `min_share` of all pages.

    Returns an empty set for documents shorter than `min_pages` pages, where nothing can be said to repeat.
    """
    page_count = len(keys_per_page)
    if page_count < min_pages:
        return set()
    counts: dict[str, int] = {}
    for keys in keys_per_page:
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    needed = max(min_pages, min_share * page_count)
    return {key for key, count in counts.items() if count >= needed}
