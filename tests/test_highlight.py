"""Character boxes merge into one rectangle per line."""

import numpy as np

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


def test_no_boxes_no_rects():
    assert line_rects(np.zeros((0, 4), dtype=np.float32)) == []
    assert line_rects(np.full((3, 4), np.nan, dtype=np.float32)) == []
