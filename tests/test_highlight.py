"""Character boxes merge into one rectangle per line."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_reader.highlight import line_rects, span_highlights
from qa_reader.types import Highlight, Page


def test_boxes_on_one_line_merge_and_a_new_line_starts_a_new_rect():
    boxes = np.array(
        [
            [10, 100, 15, 110],
            [15, 100, 20, 110],
            [np.nan] * 4,  # an inserted space
            [25, 100, 30, 110],
            [10, 112, 15, 122],  # next line, back at the left margin
            [15, 112, 20, 122],
        ],
        dtype=np.float32,
    )
    assert line_rects(boxes) == [(10, 100, 30, 110), (10, 112, 20, 122)]


def test_a_jump_back_to_the_left_on_the_same_band_starts_a_new_rect():
    # Same height and same band, so only the leftward jump (the next column of a table row) tells them apart.
    boxes = np.array([[300, 100, 305, 110], [305, 100, 310, 110], [40, 100, 45, 110]], dtype=np.float32)
    assert line_rects(boxes) == [(300, 100, 310, 110), (40, 100, 45, 110)]


def test_kerned_glyphs_whose_boxes_overlap_stay_one_rect():
    boxes = np.array([[10, 100, 16, 110], [15, 100, 21, 110], [19.5, 100, 25, 110]], dtype=np.float32)
    assert line_rects(boxes) == [(10, 100, 25, 110)]


def test_a_jump_back_to_the_left_low_on_the_page_starts_a_new_rect_too():
    # How far a box may step back and still continue the line is one line height, wherever the line is.
    boxes = np.array([[300, 700, 305, 710], [305, 700, 310, 710], [40, 700, 45, 710]], dtype=np.float32)
    assert line_rects(boxes) == [(300, 700, 310, 710), (40, 700, 45, 710)]


def test_the_limits_of_a_line_are_inclusive():
    # A box whose centre is on the line's top or bottom edge, or that steps back by exactly one line height,
    # continues the line (the line below spans y 100-110 and x 0-30).
    line = [[0, 100, 10, 110], [10, 100, 30, 110]]
    centre_on_the_bottom_edge = [30, 105, 40, 115]
    centre_on_the_top_edge = [30, 95, 40, 105]
    one_height_back = [20, 100, 25, 110]
    for after in (centre_on_the_bottom_edge, centre_on_the_top_edge, one_height_back):
        assert len(line_rects(np.array([*line, after]))) == 1, after


def test_boxes_of_no_width_or_height_count_and_inverted_ones_do_not():
    # A zero-width box (a space, a combining mark) is a character of the line and widens it to where it is.
    assert line_rects(np.array([[0, 100, 10, 110], [14, 100, 14, 110]])) == [(0, 100, 14, 110)]
    assert line_rects(np.array([[0, 100, 10, 110], [10, 104, 12, 104]])) == [(0, 100, 12, 110)]
    # A box whose right edge is left of its left edge (or whose bottom is above its top) is not a glyph.
    assert line_rects(np.array([[0, 100, 10, 110], [30, 100, 12, 110]])) == [(0, 100, 10, 110)]
    assert line_rects(np.array([[0, 100, 10, 110], [10, 110, 12, 100]])) == [(0, 100, 10, 110)]


def test_rects_are_plain_floats_whatever_the_boxes_type():
    single = np.array([[0, 100, 10, 110], [10, 100, 20, 111]], dtype=np.float32)
    integers = [[0, 100, 10, 110], [10, 99, 20, 110]]
    for boxes in (single, integers):
        [rect] = line_rects(boxes)
        assert all(isinstance(value, float) for value in rect), rect


def _ten_wide_boxes(count: int) -> np.ndarray:
    """Boxes of `count` characters on one line, character i covering x in [10 i, 10 i + 10)."""
    return np.array([[10 * i, 100, 10 * i + 10, 110] for i in range(count)], dtype=np.float32)


def test_span_highlights_cover_exactly_the_answer_characters_on_their_page():
    pages = [Page(0, 0, 10), Page(1, 10, 20)]
    boxes = {0: (0, _ten_wide_boxes(10)), 1: (10, _ten_wide_boxes(10))}
    # Characters 12, 13 and 14: the 3rd to the 5th of the second page.
    assert span_highlights(pages, boxes.get, 12, 15) == [Highlight(1, ((20, 100, 50, 110),))]
    # Across the page break: the last two characters of page 0 and the first of page 1.
    assert span_highlights(pages, boxes.get, 8, 11) == [
        Highlight(0, ((80, 100, 100, 110),)),
        Highlight(1, ((0, 100, 10, 110),)),
    ]


def test_only_the_pages_the_span_touches_are_read():
    pages = [Page(0, 0, 10), Page(1, 10, 20), Page(2, 20, 30)]
    boxes = {0: (0, _ten_wide_boxes(10)), 1: (10, _ten_wide_boxes(10)), 2: (20, _ten_wide_boxes(10))}
    asked: list[int] = []

    def page_boxes(page_index: int):
        asked.append(page_index)
        return boxes[page_index]

    # The span is page 1 exactly: it ends where page 2 starts and starts where page 0 ends.
    assert span_highlights(pages, page_boxes, 10, 20) == [Highlight(1, ((0, 100, 100, 110),))]
    assert asked == [1]


def test_no_boxes_no_rects():
    assert line_rects(np.zeros((0, 4), dtype=np.float32)) == []
    assert line_rects(np.full((3, 4), np.nan, dtype=np.float32)) == []


# Property: on generated pages (columns, lines, kerned glyphs whose boxes overlap, inserted spaces without
# boxes), the rectangles of a span cover every glyph of the span and the centre of no other glyph, one
# rectangle per line of the span, none taller than a line.


@dataclass(frozen=True)
class Layout:
    """One page's character boxes in reading order (a column's lines, then the next column's)."""

    boxes: np.ndarray  # float32 (n, 4), NaN rows for inserted spaces
    lines: tuple[tuple[int, int], ...]  # (column, line) of each box; (-1, -1) for inserted spaces
    line_height: float


KERNING = 0.4  # at most this share of the narrower glyph overlaps its neighbour, as in tight PDF text


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    columns = draw(st.integers(1, 3))
    lines_per_column = draw(st.sampled_from([1, 1, 2, 3, 4]))  # one line: a table row's cells
    line_height = draw(st.sampled_from([6.0, 9.5, 12.0, 14.0]))
    leading = draw(st.sampled_from([0.0, 1.5, 4.0]))
    gutter = draw(st.sampled_from([6.0, 18.0, 30.0]))
    column_width = 130.0
    # Columns are mostly read left to right; right to left gives a jump back to the left on the same band.
    order = draw(st.sampled_from([range(columns), range(columns - 1, -1, -1)]))
    boxes: list[list[float]] = []
    lines: list[tuple[int, int]] = []
    for column in order:
        for line in range(lines_per_column):
            top = 40.0 + line * (line_height + leading)
            x = 20.0 + column * (column_width + gutter) + draw(st.sampled_from([0.0, 0.0, 12.0]))  # indents
            previous_width = None
            glyphs = st.tuples(st.sampled_from(["glyph"] * 4 + ["space", "inserted"]), st.floats(2, 8), st.floats(0, 1))
            for kind, width, overlap in draw(st.lists(glyphs, min_size=1, max_size=12)):
                if kind == "inserted":  # a space the extractor added: no box
                    boxes.append([np.nan] * 4)
                    lines.append((-1, -1))
                    x += 3.0
                    previous_width = None
                    continue
                if previous_width is not None:
                    x -= overlap * KERNING * min(width, previous_width)
                # Glyphs differ a little in height (ascenders, descenders) but stay inside their line.
                y0 = top + (overlap * 1.5 if kind == "glyph" else 1.0)
                boxes.append([x, y0, x + width, top + line_height - overlap])
                lines.append((column, line))
                x += width
                previous_width = width
            if draw(st.booleans()):
                boxes.append([np.nan] * 4)  # the space that joins two lines
                lines.append((-1, -1))
    return Layout(np.array(boxes, dtype=np.float32), tuple(lines), line_height)


def _expected_rect_count(lines: Sequence[tuple[int, int]]) -> int:
    """One rect per line, where the cells of a one-line row read left to right count as one line."""
    count, previous = 0, None
    for column, line in lines:
        if column < 0:
            continue
        if previous is None or line != previous[1] or column < previous[0]:
            count += 1
        previous = (column, line)
    return count


def _centre_inside(box: np.ndarray, rect: tuple[float, float, float, float]) -> bool:
    x = (box[0] + box[2]) / 2
    y = (box[1] + box[3]) / 2
    return rect[0] < x < rect[2] and rect[1] < y < rect[3]


def _check_cover(boxes: np.ndarray, start: int, end: int, rects: list, line_height: float) -> None:
    """The rects cover each glyph of boxes[start:end] whole, no other glyph's centre, one line each."""
    for index, box in enumerate(boxes):
        if np.isnan(box[0]):
            continue
        if start <= index < end:
            assert any(r[0] <= box[0] and r[1] <= box[1] and box[2] <= r[2] and box[3] <= r[3] for r in rects), index
        else:
            assert not any(_centre_inside(box, r) for r in rects), index
    for rect in rects:
        assert rect[3] - rect[1] <= line_height + 1e-3, rect


@settings(max_examples=150, deadline=None)
@given(layout=layouts(), data=st.data())
def test_line_rects_cover_exactly_the_glyphs_of_the_span(layout: Layout, data: st.DataObject) -> None:
    count = len(layout.boxes)
    start = data.draw(st.integers(0, count), label="start")
    end = data.draw(st.integers(start, count), label="end")
    rects = line_rects(layout.boxes[start:end])
    _check_cover(layout.boxes, start, end, rects, layout.line_height)
    assert len(rects) == _expected_rect_count(layout.lines[start:end])


@settings(max_examples=60, deadline=None)
@given(pages=st.lists(st.one_of(layouts(), st.none()), min_size=1, max_size=3), data=st.data())
def test_span_highlights_cover_exactly_the_span_on_each_page(pages: list, data: st.DataObject) -> None:
    """Pages of boxes and of flowing text (no boxes) in one document; a span across any of them."""
    page_list, stored, offset = [], {}, 0
    for page_index, layout in enumerate(pages):
        length = len(layout.boxes) if layout is not None else data.draw(st.integers(0, 20), label="flowing")
        page_list.append(Page(page_index, offset, offset + length))
        if layout is not None:
            stored[page_index] = (offset, layout.boxes)
        offset += length
    start = data.draw(st.integers(0, offset), label="start")
    end = data.draw(st.integers(start, offset), label="end")
    highlights = span_highlights(page_list, stored.get, start, end)
    by_page = {h.page_index: list(h.rects) for h in highlights}
    assert [h.page_index for h in highlights] == sorted(by_page)
    for page in page_list:
        if page.page_index not in stored:
            assert page.page_index not in by_page
            continue
        layout = pages[page.page_index]
        local_start = min(max(start - page.char_start, 0), len(layout.boxes))
        local_end = min(max(end - page.char_start, 0), len(layout.boxes))
        rects = by_page.get(page.page_index, [])
        _check_cover(layout.boxes, local_start, local_end, rects, layout.line_height)
        assert len(rects) == _expected_rect_count(layout.lines[local_start:local_end])
