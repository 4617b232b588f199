"""A PDF's character boxes, read from the library a page at a time when first needed (store.PageBoxes)."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from qa_reader.store import Library, PageBoxes
from qa_reader.types import Document, Page, Passage
from tests.conftest import paged_document

PAGE_TEXTS = ["The first page.", "Then a second page.", "A third one.", "And the last page of all."]


def save(library: Library, document: Document) -> int:
    return library.save_document(document, [Passage(0, 0, len(document.text), document.text)], 1.0, 1)


def expected(document: Document, page_index: int) -> tuple[int, np.ndarray]:
    page = document.pages[page_index]
    return page.char_start, document.char_boxes[page.char_start : page.char_end]


def assert_boxes(found: tuple[int, np.ndarray] | None, document: Document, page_index: int) -> None:
    assert found is not None
    start, boxes = expected(document, page_index)
    assert found[0] == start
    np.testing.assert_array_equal(found[1], boxes)


@pytest.fixture
def file_library(tmp_path):
    library = Library(tmp_path / "library.sqlite3")
    yield library
    library.close()


def test_a_file_librarys_boxes_are_read_a_page_at_a_time_when_first_asked_for(file_library):
    document = paged_document(PAGE_TEXTS)
    document_id = save(file_library, document)
    boxes = file_library.character_boxes(document_id, file_library.pages(document_id))
    assert len(boxes) == 4 and 3 in boxes and 4 not in boxes
    assert boxes.held() == {}
    assert_boxes(boxes[2], document, 2)
    assert list(boxes.held()) == [2]
    assert_boxes(boxes.get(0), document, 0)
    assert list(boxes.held()) == [2, 0]
    assert boxes.get(4) is None
    with pytest.raises(KeyError) as missing:
        boxes[4]
    assert missing.value.args == (4,)


def test_a_document_of_flowing_text_has_no_boxes(file_library):
    text = "Flowing text without pages."
    document_id = save(file_library, Document("/virtual/a.txt", "a", "txt", "sha", text, (Page(0, 0, len(text)),)))
    boxes = file_library.character_boxes(document_id, file_library.pages(document_id))
    assert len(boxes) == 0 and 0 not in boxes and boxes.get(0) is None


def test_an_in_memory_library_hands_over_every_page_at_once_and_keeps_them_all():
    # No other connection can read an in-memory library, so nothing is left to read later.
    library = Library(None)
    document = paged_document(PAGE_TEXTS)
    document_id = save(library, document)
    boxes = library.character_boxes(document_id, library.pages(document_id))
    assert sorted(boxes.held()) == [0, 1, 2, 3] and len(boxes) == 4
    for page_index in range(4):
        assert_boxes(boxes.held()[page_index], document, page_index)
        assert_boxes(boxes[page_index], document, page_index)
    held = {index: expected(document, index) for index in range(4)}
    few = PageBoxes(None, document_id, document.pages, set(), held, kept=2)
    for page_index in (0, 1, 2, 3, 0):
        assert_boxes(few.get(page_index), document, page_index)
    assert sorted(few.held()) == [0, 1, 2, 3]


def test_only_the_pages_used_most_recently_stay_in_memory(file_library):
    document = paged_document(PAGE_TEXTS)
    document_id = save(file_library, document)
    pages = file_library.pages(document_id)
    boxes = PageBoxes(file_library.path, document_id, pages, file_library.pages_with_boxes(document_id), kept=2)
    for page_index in (0, 1, 0, 2):
        assert_boxes(boxes.get(page_index), document, page_index)
    assert sorted(boxes.held()) == [0, 2]  # page 1 was the least recently used
    assert_boxes(boxes.get(1), document, 1)  # read again
    assert sorted(boxes.held()) == [1, 2]


def test_boxes_of_a_page_that_moved_since_the_text_was_shown_are_not_used(file_library):
    # The file was indexed again while its old text is on screen: a page that now starts elsewhere has no boxes
    # for that text; one that starts where it did has the new ones.
    document = paged_document(PAGE_TEXTS)
    document_id = save(file_library, document)
    shown = file_library.pages(document_id)
    boxes = file_library.character_boxes(document_id, shown)
    edited = paged_document(["The first page, now longer.", *PAGE_TEXTS[1:]])
    assert save(file_library, edited) == document_id
    assert_boxes(boxes.get(0), edited, 0)
    assert boxes.get(1) is None
    with pytest.raises(KeyError):
        boxes[1]
    assert list(boxes.held()) == [0]


def test_boxes_are_read_from_any_thread(file_library):
    document = paged_document(PAGE_TEXTS)
    document_id = save(file_library, document)
    boxes = file_library.character_boxes(document_id, file_library.pages(document_id))
    assert_boxes(boxes.get(0), document, 0)  # opens the connection on this thread
    found = []
    reader = threading.Thread(target=lambda: found.append(boxes.get(1)))
    reader.start()
    reader.join()
    assert_boxes(found[0], document, 1)


def test_a_library_that_cannot_be_read_any_more_shows_no_boxes_and_says_why(file_library, caplog):
    document = paged_document(PAGE_TEXTS)
    document_id = save(file_library, document)
    boxes = file_library.character_boxes(document_id, file_library.pages(document_id))
    file_library.close()
    for path in file_library.path.parent.glob("library.sqlite3*"):
        path.unlink()
    with caplog.at_level(logging.WARNING, logger="qa_reader.store"):
        assert boxes.get(1) is None
    assert [record.getMessage() for record in caplog.records] == [
        "Character boxes of page 2 could not be read: unable to open database file"
    ]
    assert boxes.held() == {}
