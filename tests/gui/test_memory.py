"""What an open PDF keeps in memory stays bounded however far it is scrolled: page images and character boxes."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from qa_reader.gui.document_view import PIXMAPS_KEPT, range_highlights
from qa_reader.memory import release_free_memory
from qa_reader.store import BOXES_KEPT
from tests.gui.conftest import open_and_wait

PAGES = 60


@pytest.fixture
def long_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "docs" / "long.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = pymupdf.open()
    for number in range(1, PAGES + 1):
        page = document.new_page(width=612, height=792)
        text = f"Page {number} of the long handbook describes step {number} of the process in plain words."
        page.insert_textbox(pymupdf.Rect(72, 100, 540, 700), text, fontsize=12, fontname="helv")
    document.save(path)
    document.close()
    return path


def test_scrolling_a_long_pdf_keeps_only_the_pages_near_the_viewport(qtbot, window, long_pdf: Path) -> None:
    open_and_wait(qtbot, window, long_pdf)
    pdf = window.document.pdf
    most = 0
    for page_index in range(0, PAGES, 3):
        pdf.go_to_page(page_index)
        pdf.viewport().repaint()
        qtbot.waitUntil(lambda: pdf.current_page in pdf.rendered_pages(), timeout=5000)
        around = len(pdf.visible_pages(extra=0.5))
        assert pdf.images_held <= max(PIXMAPS_KEPT, around)
        most = max(most, pdf.images_held)
    assert most < PAGES // 3  # far fewer images than pages looked at


def test_character_boxes_are_read_per_page_and_bounded(qtbot, window, long_pdf: Path) -> None:
    open_and_wait(qtbot, window, long_pdf)
    content = window.document.content
    assert content.is_pdf and len(content.boxes) == PAGES
    assert content.boxes.held() == {}  # nothing read before it is needed
    for page in content.pages:
        highlights = range_highlights(content, page.char_start, page.char_start + 4)
        assert [h.page_index for h in highlights] == [page.page_index]
    assert len(content.boxes.held()) == min(BOXES_KEPT, PAGES)
    first = content.pages[0]
    page_start, boxes = content.boxes[0]  # read again after it was dropped
    assert page_start == first.char_start and len(boxes) >= 4


def test_release_free_memory_is_harmless() -> None:
    assert release_free_memory() in (True, False)
    assert release_free_memory() in (True, False)
