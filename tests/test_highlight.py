"""Character boxes merge into one rectangle per line."""

import numpy as np

from qa_reader.highlight import line_rects


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


def test_a_jump_to_the_next_column_starts_a_new_rect():
    boxes = np.array([[300, 500, 305, 510], [40, 80, 45, 90]], dtype=np.float32)
    assert len(line_rects(boxes)) == 2


def test_no_boxes_no_rects():
    assert line_rects(np.zeros((0, 4), dtype=np.float32)) == []
    assert line_rects(np.full((3, 4), np.nan, dtype=np.float32)) == []
