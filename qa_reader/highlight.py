"""Pure geometry: turn the character boxes of an answer span into one rectangle per line."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from qa_reader.types import Highlight, Page, Rect

# page_index -> (char_start of the page, float (n, 4) boxes of its characters), or None for flowing text
PageBoxes = Callable[[int], "tuple[int, np.ndarray] | None"]


def span_highlights(pages: Sequence[Page], page_boxes: PageBoxes, char_start: int, char_end: int) -> list[Highlight]:
    """Rectangles (per page, one per line) covering the document characters [char_start, char_end)."""
    result = []
    for page in pages:
        if page.char_end <= char_start or page.char_start >= char_end:
            continue
        stored = page_boxes(page.page_index)
        if stored is None:
            continue
        page_start, boxes = stored
        local = boxes[max(char_start, page.char_start) - page_start : min(char_end, page.char_end) - page_start]
        rects = line_rects(local)
        if rects:
            result.append(Highlight(page.page_index, tuple(rects)))
    return result


def line_rects(boxes: np.ndarray) -> list[Rect]:
    """Merge consecutive character boxes (float (n, 4), NaN rows skipped) into one rectangle per line.

    A new line starts when a box's vertical centre leaves the current line's band or the text jumps
    back to the left (a wrapped line or a new column).
    """
    rects: list[Rect] = []
    current: list[float] | None = None
    for x0, y0, x1, y1 in np.asarray(boxes, dtype=np.float64):
        if np.isnan(x0) or x1 < x0 or y1 < y0:
            continue
        centre = (y0 + y1) / 2
        if current is not None:
            same_band = current[1] <= centre <= current[3]
            moving_right = x0 >= current[2] - (current[3] - current[1])
            if same_band and moving_right:
                current = [min(current[0], x0), min(current[1], y0), max(current[2], x1), max(current[3], y1)]
                continue
            rects.append((current[0], current[1], current[2], current[3]))
        current = [float(x0), float(y0), float(x1), float(y1)]
    if current is not None:
        rects.append((current[0], current[1], current[2], current[3]))
    return rects
