"""HTML pages: visible text only, block elements as paragraphs, the declared charset honoured."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_reader.errors import UserError
from qa_reader.ingest import load
from qa_reader.ingest.html import extract_html

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>  The   Page Title </title>
  <style>body { font-family: serif; } p::after { content: "styled"; }</style>
  <script>var hidden = "script text";</script>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/about">About</a></nav>
  <h1>Main heading</h1>
  <p>First paragraph
     spread over lines, with <b>bold</b> and <a href="#">a link</a>.</p>
  <div>A div<br>broken by a line break</div>
  <ul><li>One &amp; only</li><li>Second&nbsp;item</li></ul>
  <table><tr><td>cell a</td><td>cell b</td></tr><tr><td>cell c</td></tr></table>
  <script type="module">document.write("more script")</script>
  <noscript>Enable JavaScript</noscript>
  <p>Last paragraph.</p>
</body>
</html>
"""


def test_scripts_styles_and_navigation_are_dropped_and_paragraphs_kept(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    document = load(path)

    assert document.format == "html"
    assert document.title == "The Page Title"
    assert document.text.split("\n\n") == [
        "Main heading",
        "First paragraph spread over lines, with bold and a link.",
        "A div",
        "broken by a line break",
        "One & only",
        "Second item",
        "cell a cell b",
        "cell c",
        "Last paragraph.",
    ]
    assert document.char_boxes is None and len(document.pages) == 1


def test_the_meta_charset_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "old.htm"
    markup = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
    path.write_bytes((markup + "<body><p>Déjà vu – “quoted”</p></body></html>").encode("cp1252"))
    document = load(path)

    assert document.text == "Déjà vu – “quoted”"
    assert document.warnings == ()
    assert document.title == "old"


def test_undeclared_non_utf8_html_falls_back_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "legacy.xhtml"
    path.write_bytes("<p>Crème brûlée</p>".encode("cp1252"))
    document = load(path)

    assert document.text == "Crème brûlée"
    assert "cp1252" in document.warnings[0]


def test_an_unclosed_head_does_not_hide_the_body() -> None:
    page = extract_html("<html><head><title>T</title><body><p>Visible.</p><h2>Sub</h2></body>")
    assert (page.title, page.first_heading, page.paragraphs) == ("T", "Sub", ["Visible.", "Sub"])


def test_html_without_visible_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>Nothing</title><script>x()</script></head><body> </body></html>")
    with pytest.raises(UserError, match=r"^empty\.html contains no text\.$"):
        load(path)


def test_internet_explorer_conditional_sections_leave_their_content_and_no_markers() -> None:
    page = extract_html("<p>Text</p><![if !IE]><p>Shown</p><![endif]><p>After</p>")

    assert page.paragraphs == ["Text", "Shown", "After"]
