"""The pure layout rules: reading order by XY-cut, line cleaning, hyphens, page numbers, running headers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa_reader.ingest.layout import (
    clean_line,
    continues_paragraph,
    ends_hyphenated,
    is_page_number,
    reading_order,
    repeated_keys,
    running_key,
    split_block_columns,
)


def boxes_for(text: str, x: float = 0.0) -> np.ndarray:
    """One 5-point-wide box per character, side by side from x."""
    starts = x + 5.0 * np.arange(len(text), dtype=np.float32)
    return np.stack([starts, np.zeros_like(starts), starts + 5, np.full_like(starts, 10)], axis=1)


def test_reading_order_puts_a_full_width_title_first_then_columns_left_to_right() -> None:
    boxes = [
        (320, 100, 560, 300),  # right column
        (50, 40, 560, 70),  # title across both columns
        (50, 100, 300, 200),  # left column, first paragraph
        (50, 210, 300, 300),  # left column, second paragraph
        (50, 320, 560, 360),  # full-width figure caption under both columns
    ]
    assert reading_order(boxes) == [1, 2, 3, 0, 4]


def test_reading_order_reads_three_columns() -> None:
    boxes = [(400, 100, 560, 700), (50, 100, 200, 400), (225, 100, 375, 700), (50, 420, 200, 700), (50, 40, 560, 80)]
    assert reading_order(boxes) == [4, 1, 3, 2, 0]


def test_reading_order_keeps_columns_whole_when_paragraph_gaps_line_up() -> None:
    boxes = [(50, 100, 300, 200), (320, 100, 560, 200), (50, 220, 300, 300), (320, 220, 560, 300)]
    assert reading_order(boxes) == [0, 2, 1, 3]


def test_reading_order_of_a_single_column_is_top_to_bottom() -> None:
    boxes = [(50, 300, 500, 400), (50, 100, 500, 200), (60, 205, 480, 290)]
    assert reading_order(boxes) == [1, 2, 0]


@given(st.lists(st.tuples(st.floats(0, 500), st.floats(0, 700), st.floats(1, 100), st.floats(1, 100)), max_size=60))
def test_reading_order_is_a_permutation(corners: list[tuple[float, float, float, float]]) -> None:
    boxes = [(x, y, x + width, y + height) for x, y, width, height in corners]
    assert sorted(reading_order(boxes)) == list(range(len(boxes)))


def test_reading_order_copes_with_thousands_of_blocks() -> None:
    corners = [(float(index % 50) * 12, float(index // 50) * 12) for index in range(3000)]
    boxes = [(x, y, x + 10, y + 10) for x, y in corners]
    assert sorted(reading_order(boxes)) == list(range(3000))


def test_split_block_columns_cuts_interleaved_columns_but_not_a_numbered_heading() -> None:
    interleaved = [(50, 100, 290, 110), (320, 100, 560, 110), (50, 112, 290, 122), (320, 112, 560, 122)]
    assert split_block_columns(interleaved) == [[0, 2], [1, 3]]
    assert split_block_columns([(50, 100, 56, 110), (70, 100, 150, 110)]) == [[0, 1]]


def test_clean_line_leaves_clean_lines_alone() -> None:
    boxes = boxes_for("plain words")
    text, kept = clean_line(list("plain words"), boxes)
    assert text == "plain words"
    assert kept is not None and np.array_equal(kept, boxes)


def test_clean_line_collapses_spaces_and_trims_ends() -> None:
    text, kept = clean_line(list("  a \t b  "), boxes_for("  a \t b  "))
    assert text == "a b"
    assert kept[:, 0].tolist() == [10.0, 15.0, 30.0]


def test_clean_line_collapses_runs_of_plain_spaces_keeping_the_first_space_s_box() -> None:
    # Only plain spaces (the fast path) and the same with a tab (glyph by glyph): the same text and boxes.
    for line in ("  two  words   here ", "  two \t words   here "):
        text, kept = clean_line(list(line), boxes_for(line))
        assert text == "two words here", line
        assert kept.shape == (len(text), 4) and kept.dtype == np.float32
        assert [line[int(x0 // 5)] for x0 in kept[:, 0]] == list(text)
        first_space = line.index(" ", 2)
        assert kept[3, 0] == 5.0 * first_space, line


def test_clean_line_of_spaces_and_tabs_only_is_empty() -> None:
    text, kept = clean_line([" ", "\t", " "], boxes_for("   "))
    assert text == "" and kept.shape == (0, 4) and kept.dtype == np.float32


def test_clean_line_refuses_glyphs_and_boxes_that_do_not_pair_up() -> None:
    with pytest.raises(ValueError):
        clean_line(["a", "\t", "b"], boxes_for("ab"))


def test_clean_line_spells_out_ligatures_with_a_box_each() -> None:
    text, kept = clean_line(list("ﬁne ﬄy"), boxes_for("ﬁne ﬄy"))
    assert text == "fine ffly"
    assert kept.shape == (9, 4)
    assert kept[0].tolist() == [0.0, 0.0, 2.5, 10.0] and kept[1].tolist() == [2.5, 0.0, 5.0, 10.0]
    assert kept[5, 0] == pytest.approx(20.0) and kept[7, 2] == pytest.approx(25.0)


def test_clean_line_drops_controls_and_invisible_characters_and_turns_nbsp_into_space() -> None:
    glyphs = ["a", "\u200b", "b", "\x07", "\u00a0", "c", "\ufeff", "\u00ad", "d"]
    text, kept = clean_line(glyphs, boxes_for("".join(glyphs)))
    assert text == "ab cd"
    assert kept[:, 0].tolist() == [0.0, 10.0, 20.0, 25.0, 40.0]


def test_a_soft_hyphen_is_a_hyphen_only_at_the_end_of_a_line() -> None:
    assert clean_line(list("co\u00adop\u00ad "), boxes_for("co\u00adop\u00ad "))[0] == "coop-"


def test_a_soft_hyphen_followed_only_by_glyphs_that_show_nothing_still_ends_the_line() -> None:
    for tail in ("\u200b", "\ufeff", "\x07 "):
        text = "co\u00ad" + tail
        assert clean_line(list(text), boxes_for(text))[0] == "co-"


def test_clean_line_of_nothing_but_spaces_is_empty() -> None:
    text, kept = clean_line(list("   "), boxes_for("   "))
    assert text == "" and kept.shape == (0, 4)


def test_clean_line_splits_a_glyph_carrying_several_characters() -> None:
    text, kept = clean_line(["x", "ab", "y"], boxes_for("xay"))
    assert text == "xaby"
    assert kept[:, 0].tolist() == [0.0, 5.0, 7.5, 10.0]


def test_a_glyph_of_several_characters_has_its_ligatures_and_invisibles_cleaned_too() -> None:
    text, kept = clean_line(["x", "\ufb01\u200b", "y"], boxes_for("xay"))
    assert text == "xfiy"
    assert kept.shape == (4, 4)


@pytest.mark.parametrize(
    ("previous", "following", "joined"),
    [
        ("inter-", "national", True),
        ("in the inter\u2010", "national", True),
        ("COVID-", "19 cases", False),
        ("pre-", "War Europe", False),
        ("-", "lowercase", False),
        ("1-", "to-one", False),
        ("end", "next", False),
        ("e-", "mail", True),
    ],
)
def test_ends_hyphenated(previous: str, following: str, joined: bool) -> None:
    assert ends_hyphenated(previous, following) is joined


def test_continues_paragraph_only_for_a_lowercase_line_right_below() -> None:
    above = (72.0, 100.0, 400.0, 112.0)
    assert continues_paragraph("a list item that wraps", above, "onto a second line", (90.0, 113.0, 300.0, 125.0))
    assert not continues_paragraph("a sentence ends.", above, "lowercase anyway", (90.0, 113.0, 300.0, 125.0))
    assert not continues_paragraph("no full stop", above, "Capital start", (90.0, 113.0, 300.0, 125.0))
    assert not continues_paragraph("no full stop", above, "far below", (90.0, 160.0, 300.0, 172.0))
    assert not continues_paragraph("no full stop", above, "other column", (420.0, 113.0, 560.0, 125.0))
    # A lowercase start is enough, whatever follows it (a brand, a symbol).
    assert continues_paragraph("a list item that wraps", above, "iPhone models", (90.0, 113.0, 300.0, 125.0))


def test_a_block_beside_the_line_does_not_continue_it_wherever_it_is_on_the_page() -> None:
    # Entirely right or entirely left of the line above (high and low on the page), or only touching its edge.
    right_low = ((10.0, 500.0, 100.0, 512.0), (150.0, 513.0, 250.0, 525.0))
    left_high = ((300.0, 100.0, 400.0, 112.0), (50.0, 113.0, 250.0, 125.0))
    left_low = ((300.0, 500.0, 400.0, 512.0), (50.0, 513.0, 250.0, 525.0))
    touching_right = ((72.0, 100.0, 200.0, 112.0), (200.0, 113.0, 300.0, 125.0))
    touching_left = ((200.0, 100.0, 300.0, 112.0), (72.0, 113.0, 200.0, 125.0))
    for above, below in (right_low, left_high, left_low, touching_right, touching_left):
        assert not continues_paragraph("no full stop", above, "lowercase start", below), below


def test_how_far_below_a_block_may_start_to_continue_the_line() -> None:
    # Up to 1 point of overlap (ascenders, descenders) and less than 0.8 of the line's 10-point height.
    above = (72.0, 100.0, 400.0, 110.0)

    def continues_at(gap: float) -> bool:
        return continues_paragraph("no full stop", above, "lowercase start", (72.0, 110.0 + gap, 400.0, 120.0 + gap))

    assert continues_at(-1.0) and continues_at(0.0) and continues_at(7.9)
    assert not continues_at(-1.2) and not continues_at(8.0) and not continues_at(10.0)


@pytest.mark.parametrize(
    "text", ["12", "Page 12", "page 3 of 40", "12 of 40", "3/40", "- 7 -", "xiv", "IV", "— 2 —", "3-12", "B-3", "A.1"]
)
def test_is_page_number(text: str) -> None:
    assert is_page_number(text)


@pytest.mark.parametrize(
    "text",
    ["Figure 2", "Page", "12 Angry Men", "Chapter 1", "v2.0", "ivy", "", "1990-2020", "AB-3", "dim", "civic", "mild"],
)
def test_is_not_page_number(text: str) -> None:
    assert not is_page_number(text)


def test_running_key_ignores_digits_and_spacing() -> None:
    assert running_key("Report  2024,  page 7") == running_key("Report 2025, page 12") == "Report #, page #"


def test_repeated_keys_need_three_pages_and_a_quarter_of_them() -> None:
    assert repeated_keys([{"h"}, {"h"}]) == set()
    assert repeated_keys([{"h"}, {"h"}, {"h"}]) == {"h"}
    twenty = [{"h"} if index < 4 else set() for index in range(20)]
    assert repeated_keys(twenty) == set()
    assert repeated_keys([{"h"} if index < 5 else set() for index in range(20)]) == {"h"}


def test_two_blocks_are_read_top_first_whatever_order_they_come_in() -> None:
    assert reading_order([(72.0, 400.0, 500.0, 420.0), (72.0, 100.0, 500.0, 120.0)]) == [1, 0]


def test_blocks_that_no_gap_separates_are_read_top_to_bottom_then_left_to_right() -> None:
    # Overlapping in both directions: no band and no gap to cut at.
    assert reading_order([(0.0, 100.0, 200.0, 150.0), (50.0, 20.0, 250.0, 120.0)]) == [1, 0]
    assert reading_order([(100.0, 20.0, 300.0, 120.0), (0.0, 20.0, 200.0, 120.0)]) == [1, 0]


def test_clean_line_keeps_the_letters_of_a_glyph_that_starts_with_a_collapsed_space() -> None:
    # The third glyph carries " b": its space follows a space and goes, its letter stays.
    text, kept = clean_line(["a", " ", " b", "c"], boxes_for("a bc"))
    assert text == "a bc"
    assert kept[:, 0].tolist() == [0.0, 5.0, 12.5, 15.0]


def test_columns_that_touch_without_a_white_gutter_are_still_read_one_after_the_other() -> None:
    boxes = [(50, 100, 300, 200), (300, 100, 560, 200), (50, 220, 300, 300), (300, 220, 560, 300)]
    assert reading_order(boxes) == [0, 2, 1, 3]


def test_a_heading_of_overlapping_blocks_is_read_before_the_columns_under_it() -> None:
    boxes = [
        (50, 40, 400, 70),  # title
        (350, 50, 560, 80),  # a date overlapping the title's end
        (50, 100, 300, 200),  # left column
        (320, 100, 560, 200),  # right column
        (50, 220, 300, 300),  # left column
        (320, 220, 560, 300),  # right column
    ]
    assert reading_order(boxes) == [0, 1, 2, 4, 3, 5]


def test_a_title_whose_descenders_reach_into_the_columns_below_is_still_cut_off_from_them() -> None:
    # The title's boxes overlap the columns' first lines by 0.3 points, less than the half-point tolerance.
    boxes = [
        (50, 40, 560, 100.3),  # title
        (50, 100, 300, 200),  # left column
        (320, 100, 560, 200),  # right column
        (50, 220, 300, 300),  # left column
        (320, 220, 560, 300),  # right column
    ]
    assert reading_order(boxes) == [0, 1, 3, 2, 4]


def test_lines_overlapping_sideways_even_by_a_fraction_of_a_point_are_not_columns() -> None:
    lines = [(50, 100, 290.4, 110), (290, 100, 560, 110), (50, 112, 290.4, 122), (290, 112, 560, 122)]
    assert split_block_columns(lines) == [[0, 1, 2, 3]]
