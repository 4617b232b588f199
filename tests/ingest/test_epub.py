"""EPUB books: chapters in spine order, one page each, and the ways an EPUB can be broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_reader.errors import UserError
from qa_reader.ingest import load

from .builders import write_epub


def test_chapters_follow_the_spine_one_page_each(tmp_path: Path) -> None:
    document = load(write_epub(tmp_path / "book.epub"))

    assert document.format == "epub"
    assert document.title == "A Tiny Book"
    assert document.text == (
        "The Beginning\n\nAlice was beginning to get very tired.\n\nSo she considered."
        "\n\nDown the Hole\n\nThe rabbit-hole went straight on like a tunnel."
    )
    assert [page.label for page in document.pages] == ["The Beginning", "Down the Hole"]
    first, second = document.pages
    assert (first.char_start, first.char_end, second.char_end) == (0, second.char_start, len(document.text))
    assert document.text[second.char_start :].startswith("\n\nDown the Hole")
    assert document.char_boxes is None


def test_a_chapter_without_a_heading_is_labelled_by_its_title_else_its_number(tmp_path: Path) -> None:
    document = load(write_epub(tmp_path / "book.epub", second_heading=""))

    # The chapter's <title> is the book's title here; a heading would have been better, a title will do.
    assert [page.label for page in document.pages] == ["The Beginning", "A Tiny Book"]


def test_an_epub_found_under_another_name_is_read_as_an_epub(tmp_path: Path) -> None:
    assert load(write_epub(tmp_path / "book.bin")).format == "epub"


def test_an_epub_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.epub"
    path.write_text("this is not an archive")
    with pytest.raises(UserError, match=r"^broken\.epub is not a valid EPUB: it is not a ZIP archive\.$"):
        load(path)


def test_an_epub_protected_by_drm_is_refused(tmp_path: Path) -> None:
    encryption = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        '<enc:CipherData><enc:CipherReference URI="OEBPS/text/chapter1.xhtml"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    path = write_epub(tmp_path / "drm.epub", extra_files={"META-INF/encryption.xml": encryption})
    with pytest.raises(UserError, match=r"^drm\.epub is protected by DRM"):
        load(path)


def test_an_epub_with_a_damaged_package_file_is_refused(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "bad.epub", container_xml="<container><rootfiles")
    with pytest.raises(UserError, match=r"^bad\.epub is not a valid EPUB: its container file is damaged\.$"):
        load(path)
