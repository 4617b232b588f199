"""PDF ingestion on small PDFs built here: reading order, hyphens, running headers, boxes, damaged files."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from qa_reader.errors import DocumentError, UserError
from qa_reader.ingest import load
from qa_reader.types import Document, FailureReason

from .builders import PAGE_HEIGHT, PAGE_WIDTH, paragraph_lines, write_pdf

LEFT_COLUMN = ["Alpha begins the left column and", "bravo carries it on down to the", "charlie at the left bottom."]
RIGHT_COLUMN = ["Delta opens the right column and", "echo follows it further down to", "foxtrot at the right bottom."]
TITLE = "Reading Order Across Two Columns Of Text"


def assert_pages_cover_text(document: Document) -> None:
    assert document.pages[0].char_start == 0
    for previous, page in zip(document.pages, document.pages[1:], strict=False):
        assert page.char_start == previous.char_end
    assert document.pages[-1].char_end == len(document.text)
    assert [page.page_index for page in document.pages] == list(range(len(document.pages)))


def assert_boxes_consistent(document: Document) -> None:
    """Boxes: one row per character, NaN exactly for inserted separators, every box inside its page."""
    boxes = document.char_boxes
    assert boxes is not None
    assert boxes.dtype == np.float32
    assert boxes.shape == (len(document.text), 4)
    for page in document.pages:
        page_boxes = boxes[page.char_start : page.char_end]
        has_box = ~np.isnan(page_boxes).any(axis=1)
        assert (np.isnan(page_boxes).all(axis=1) | has_box).all()
        inside = page_boxes[has_box]
        assert (inside[:, 0] >= 0).all() and (inside[:, 2] <= page.width).all()
        assert (inside[:, 1] >= 0).all() and (inside[:, 3] <= page.height).all()
        assert (inside[:, 0] <= inside[:, 2]).all() and (inside[:, 1] <= inside[:, 3]).all()
    inserted = np.isnan(boxes).all(axis=1)
    # Only the spaces and line breaks that join lines and blocks lack a box.
    assert {document.text[index] for index in np.flatnonzero(inserted)} <= {" ", "\n"}


def two_column_page() -> list:
    # Lines go into the page left, right, left, right, as some producers write them; order must not care.
    placed = [(72.0, 72.0, TITLE, 20.0)]
    for left, right in zip(paragraph_lines(72, 130, LEFT_COLUMN), paragraph_lines(330, 130, RIGHT_COLUMN), strict=True):
        placed += [left, right]
    return placed


def test_two_columns_read_left_column_then_right_with_the_title_first(tmp_path: Path) -> None:
    document = load(write_pdf(tmp_path / "columns.pdf", [two_column_page()]))

    positions = [document.text.index(line) for line in [TITLE, *LEFT_COLUMN, *RIGHT_COLUMN]]
    assert positions == sorted(positions)
    assert document.text.startswith(TITLE + "\n\n")
    assert " ".join(LEFT_COLUMN) in document.text
    assert " ".join(RIGHT_COLUMN) in document.text
    assert_pages_cover_text(document)
    assert_boxes_consistent(document)


def test_columns_whose_paragraph_gaps_line_up_still_read_column_by_column(tmp_path: Path) -> None:
    # Both columns have a paragraph break at the same height: a naive XY-cut would read across.
    placed = [(72.0, 72.0, TITLE, 20.0)]
    placed += paragraph_lines(72, 130, LEFT_COLUMN[:2]) + paragraph_lines(72, 200, LEFT_COLUMN[2:])
    placed += paragraph_lines(330, 130, RIGHT_COLUMN[:2]) + paragraph_lines(330, 200, RIGHT_COLUMN[2:])
    document = load(write_pdf(tmp_path / "aligned.pdf", [placed]))

    positions = [document.text.index(line) for line in [TITLE, *LEFT_COLUMN, *RIGHT_COLUMN]]
    assert positions == sorted(positions)


def test_hyphenated_line_breaks_are_joined(tmp_path: Path) -> None:
    lines = ["The inter-", "national committee met on COVID-", "19 and pre-", "War topics."]
    document = load(write_pdf(tmp_path / "hyphens.pdf", [paragraph_lines(72, 100, lines)]))

    assert "The international committee met on COVID- 19 and pre- War topics." in document.text
    assert_boxes_consistent(document)
    start = document.text.index("international")
    # "inter" and "national" keep the boxes of their glyphs; the dropped hyphen left no trace.
    assert not np.isnan(document.char_boxes[start : start + len("international")]).any()


def test_running_headers_footers_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    pages = []
    for number in range(1, 5):
        body = paragraph_lines(72, 200, [f"Body text of page {number} talks about the Annual Report.", "It stays."])
        pages.append(
            [
                (72.0, 40.0, "Annual Report 2024 - Internal", 9.0),
                *body,
                (72.0, 760.0, "Confidential draft", 9.0),
                (500.0, 760.0, f"Page {number} of 4", 9.0),
            ]
        )
    document = load(write_pdf(tmp_path / "report.pdf", pages))

    assert "Internal" not in document.text
    assert "Confidential" not in document.text
    assert "of 4" not in document.text
    for number in range(1, 5):
        assert f"Body text of page {number} talks about the Annual Report. It stays." in document.text
    assert_pages_cover_text(document)


def test_lone_page_numbers_are_dropped_even_in_short_documents(tmp_path: Path) -> None:
    pages = [[*paragraph_lines(72, 200, ["Short body."]), (300.0, 770.0, "7", 10.0)]]
    pages.append([*paragraph_lines(72, 200, ["Another body."]), (300.0, 770.0, "viii", 10.0)])
    document = load(write_pdf(tmp_path / "short.pdf", pages))

    assert document.text == "Short body.\n\nAnother body."


def test_a_line_in_the_margin_that_does_not_repeat_is_kept(tmp_path: Path) -> None:
    pages = [[(72.0, 40.0, f"Chapter {title}", 12.0), *paragraph_lines(72, 200, ["Body."])] for title in "ABCD"]
    document = load(write_pdf(tmp_path / "chapters.pdf", pages))

    # "Chapter A".."Chapter D" differ in letters, not digits: they are headings, not running headers.
    for title in "ABCD":
        assert f"Chapter {title}" in document.text


def test_each_word_has_the_boxes_of_where_it_was_printed(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "boxes.pdf", [[(100.0, 300.0, "Zebra crossing", 12.0), (72.0, 500.0, "Other", 12.0)]])
    document = load(path)

    start = document.text.index("Zebra")
    boxes = document.char_boxes[start : start + 5]
    assert boxes[0, 0] == pytest.approx(100.0, abs=0.5)
    assert (boxes[:, 1] < 300.0).all() and (boxes[:, 3] > 300.0 - 1).all()
    assert (np.diff(boxes[:, 0]) > 0).all()
    assert_boxes_consistent(document)

    # Every box found in the document is the box pymupdf gives that very character.
    with pymupdf.open(path) as pdf:
        raw = pdf[0].get_text("rawdict")
    glyph_at = {
        tuple(round(value, 2) for value in char["bbox"]): char["c"]
        for block in raw["blocks"]
        for line in block.get("lines", [])
        for span in line["spans"]
        for char in span["chars"]
    }
    for char, box in zip(document.text, document.char_boxes, strict=True):
        if not math.isnan(box[0]):
            assert glyph_at[tuple(round(float(value), 2) for value in box)] == char


def test_pages_have_sizes_and_labels(tmp_path: Path) -> None:
    labels = [{"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1}]
    pages = [paragraph_lines(72, 200, [f"Page body {number}."]) for number in range(3)]
    document = load(write_pdf(tmp_path / "labels.pdf", pages, labels=labels))

    assert [page.label for page in document.pages] == ["i", "ii", "iii"]
    assert {(page.width, page.height) for page in document.pages} == {(PAGE_WIDTH, PAGE_HEIGHT)}
    assert_pages_cover_text(document)
    for number, page in enumerate(document.pages):
        assert f"Page body {number}." in document.text[page.char_start : page.char_end]
        assert document.page_of(document.text.index(f"Page body {number}.")) == page


def test_title_comes_from_sensible_metadata_else_the_file_name(tmp_path: Path) -> None:
    pages = [paragraph_lines(72, 200, ["Body."])]
    named = load(write_pdf(tmp_path / "a.pdf", pages, metadata={"title": "Guide to Things"}))
    leftover = load(write_pdf(tmp_path / "quarterly.pdf", pages, metadata={"title": "Microsoft Word - q3.docx"}))

    assert named.title == "Guide to Things"
    assert leftover.title == "quarterly"
    assert named.format == "pdf" and os.path.isabs(named.path)


def test_a_scanned_page_is_listed_and_warned_about(tmp_path: Path) -> None:
    pages = [paragraph_lines(72, 200, ["First page text."]), None, paragraph_lines(72, 200, ["Third page text."])]
    document = load(write_pdf(tmp_path / "mixed.pdf", pages))

    assert document.scanned_pages == (1,)
    assert document.warnings == ("Page 2 has no text layer (scanned); it cannot be searched.",)
    assert document.text == "First page text.\n\nThird page text."
    assert document.pages[1].char_start == document.pages[1].char_end == len("First page text.")
    assert_pages_cover_text(document)


def test_several_scanned_pages_are_named_in_one_sentence(tmp_path: Path) -> None:
    pages = [paragraph_lines(72, 200, ["Text."]), None, None, paragraph_lines(72, 200, ["More."])]
    document = load(write_pdf(tmp_path / "mixed.pdf", pages))

    assert document.warnings == ("Pages 2, 3 have no text layer (scanned); they cannot be searched.",)


def test_a_fully_scanned_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^scan\.pdf is scanned: it has no text layer; run OCR on it first\.$"):
        load(write_pdf(tmp_path / "scan.pdf", [None, None]))


def test_an_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    options = {"encryption": pymupdf.PDF_ENCRYPT_AES_256, "user_pw": "secret", "owner_pw": "owner"}
    path = write_pdf(tmp_path / "secret.pdf", [paragraph_lines(72, 200, ["Hidden."])], save_options=options)

    with pytest.raises(UserError, match=r"^secret\.pdf is encrypted: .*save an unprotected copy"):
        load(path)


def test_refusals_say_why_in_a_code_as_well_as_in_words(tmp_path: Path) -> None:
    options = {"encryption": pymupdf.PDF_ENCRYPT_AES_256, "user_pw": "secret", "owner_pw": "owner"}
    noise = tmp_path / "scanned-notes.pdf"  # a name that says "scanned", on a file that is damaged
    noise.write_bytes(bytes(range(256)) * 8)
    cases = {
        write_pdf(tmp_path / "scan.pdf", [None, None]): FailureReason.SCANNED,
        write_pdf(tmp_path / "secret.pdf", [paragraph_lines(72, 200, ["Hidden."])], save_options=options): (
            FailureReason.ENCRYPTED
        ),
        noise: FailureReason.DAMAGED,
        write_pdf(tmp_path / "blank.pdf", [[(72, 30, "7", 10)]]): FailureReason.NO_TEXT,
    }
    for path, reason in cases.items():
        with pytest.raises(DocumentError) as refused:
            load(path)
        assert refused.value.reason is reason, (path.name, str(refused.value))


def test_a_pdf_with_only_an_owner_password_loads(tmp_path: Path) -> None:
    options = {"encryption": pymupdf.PDF_ENCRYPT_AES_256, "owner_pw": "owner", "permissions": 0}
    path = write_pdf(tmp_path / "locked.pdf", [paragraph_lines(72, 200, ["Readable anyway."])], save_options=options)

    assert load(path).text == "Readable anyway."


@pytest.mark.parametrize("keep_bytes", [0, 20, 300])
def test_a_truncated_pdf_is_refused(tmp_path: Path, keep_bytes: int) -> None:
    whole = write_pdf(tmp_path / "whole.pdf", [paragraph_lines(72, 200, ["Some text."])]).read_bytes()
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + whole[9 : 9 + keep_bytes] if keep_bytes else b"%PDF-1.7\n")

    with pytest.raises(UserError, match=r"^broken\.pdf is damaged"):
        load(path)


def test_random_bytes_named_pdf_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.pdf"
    path.write_bytes(bytes(range(256)) * 8)

    with pytest.raises(UserError, match=r"^noise\.pdf is damaged or not a PDF"):
        load(path)


def test_a_pdf_named_txt_loads_as_a_pdf(tmp_path: Path) -> None:
    document = load(write_pdf(tmp_path / "notes.txt", [paragraph_lines(72, 200, ["Really a PDF."])]))

    assert document.format == "pdf"
    assert document.text == "Really a PDF."
    assert document.char_boxes is not None


def test_boxes_on_a_rotated_page_are_where_the_reader_sees_the_words(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "turned.pdf", [[(72.0, 700.0, "Rotated page text", 12.0)]])
    with pymupdf.open(path) as pdf:
        pdf[0].set_rotation(90)
        pdf.save(tmp_path / "rotated.pdf")
    document = load(tmp_path / "rotated.pdf")

    page = document.pages[0]
    assert (page.width, page.height) == (PAGE_HEIGHT, PAGE_WIDTH)
    assert_boxes_consistent(document)
    with pymupdf.open(tmp_path / "rotated.pdf") as pdf:
        shown = pdf[0].search_for("Rotated")[0] * pdf[0].rotation_matrix
    word = document.char_boxes[: len("Rotated")]
    found = (word[:, 0].min(), word[:, 1].min(), word[:, 2].max(), word[:, 3].max())
    assert found == pytest.approx(tuple(shown), abs=0.5)


def test_progress_is_reported_for_every_page(tmp_path):
    import pymupdf

    from qa_reader import ingest

    path = tmp_path / "three.pdf"
    with pymupdf.open() as document:
        for number in range(3):
            page = document.new_page()
            page.insert_text((72, 72), f"Page {number} has some words on it.")
        document.save(path)
    calls = []
    ingest.load(path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_body_lines_repeated_at_the_top_of_every_page_are_kept(tmp_path: Path) -> None:
    # A tightly set page: the body's first line lies in the top margin band and, apart from its digits, is
    # the same on every page; the running header above it stands apart.
    pages = []
    for number in range(1, 7):
        body = paragraph_lines(
            72,
            48,
            [
                f"Item {number} of the list covers the safety checks for unit {number} of the plant.",
                f"The checks for unit {number} are done every week by the shift engineer.",
                "They are written down in the log book.",
            ],
        )
        pages.append([(72.0, 16.0, f"Plant Manual - {number}", 8.0), *body])
    document = load(write_pdf(tmp_path / "manual.pdf", pages))

    for number in range(1, 7):
        assert f"Item {number} of the list covers the safety checks for unit {number} of the plant." in document.text
    assert "Plant Manual" not in document.text
    assert_pages_cover_text(document)


def _damage_page(path: Path, page_index: int) -> Path:
    """Replace a page's content stream with bytes that claim to be compressed and are not."""
    document = pymupdf.open(path)
    contents = document[page_index].get_contents()[0]
    document.update_stream(contents, b"x\x9c\x00\x01 not a deflate stream", compress=False)
    document.xref_set_key(contents, "Filter", "/FlateDecode")
    damaged = path.with_name("damaged-" + path.name)
    document.save(damaged)
    document.close()
    return damaged


def test_a_damaged_page_is_called_damaged_not_scanned(tmp_path: Path) -> None:
    pages = [paragraph_lines(72, 200, [f"Text of page {number}."]) for number in (1, 2, 3)]
    path = _damage_page(write_pdf(tmp_path / "three.pdf", pages), 1)

    document = load(path)

    assert document.scanned_pages == ()
    assert document.warnings == ("Page 2 could not be read and was skipped.",)
    assert document.text == "Text of page 1.\n\nText of page 3."


def test_a_pdf_whose_only_page_is_damaged_is_refused_as_damaged(tmp_path: Path) -> None:
    path = _damage_page(write_pdf(tmp_path / "one.pdf", [paragraph_lines(72, 200, ["Only text."])]), 0)

    with pytest.raises(UserError, match=r"^damaged-one\.pdf is damaged: no page of it can be read\.$"):
        load(path)
