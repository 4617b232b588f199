"""Builders for the files the ingest tests read: small PDFs made with pymupdf, EPUBs made with zipfile."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pymupdf

# One piece of text on a page: (x, y of the baseline, text, font size).
Placed = tuple[float, float, str, float]

PAGE_WIDTH = 612.0
PAGE_HEIGHT = 792.0


def write_pdf(
    path: Path,
    pages: Sequence[Sequence[Placed] | None],
    *,
    save_options: dict[str, object] | None = None,
    metadata: dict[str, str] | None = None,
    labels: list[dict[str, object]] | None = None,
) -> Path:
    """Write a PDF whose pages hold the given texts; a page given as None holds only an image (scanned)."""
    document = pymupdf.open()
    for placed in pages:
        page = document.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        if placed is None:
            pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 16, 16), False)
            pixmap.clear_with(180)
            page.insert_image(pymupdf.Rect(72, 72, 540, 720), pixmap=pixmap)
            continue
        for x, y, text, font_size in placed:
            page.insert_text((x, y), text, fontsize=font_size, fontname="helv")
    if metadata:
        document.set_metadata(metadata)
    if labels:
        document.set_page_labels(labels)
    document.save(path, **(save_options or {}))
    document.close()
    return path


def paragraph_lines(x: float, y: float, lines: Sequence[str], size: float = 11) -> list[Placed]:
    """Lines set one under the other like a paragraph, the first baseline at (x, y)."""
    return [(x, y + index * size * 1.3, line, size) for index, line in enumerate(lines)]


_CONTAINER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

# The manifest lists the chapters in the wrong order and the spine in the right one: the spine must win.
_PACKAGE_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:uuid:12345678</dc:identifier>
    <dc:title>A Tiny Book</dc:title>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>
    <item id="style" href="style.css" media-type="text/css"/>
    <item id="second" href="text/chapter%202.xhtml" media-type="application/xhtml+xml"/>
    <item id="first" href="text/chapter1.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine>
    <itemref idref="first"/>
    <itemref idref="second"/>
  </spine>
</package>
"""


def chapter_xhtml(heading: str, paragraphs: Sequence[str]) -> str:
    """An XHTML chapter with a <title> shared by the whole book, a heading of its own and paragraphs."""
    body = "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)
    heading_markup = f"<h1>{heading}</h1>\n" if heading else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>A Tiny Book</title>'
        "<style>p { margin: 0 }</style></head>\n"
        f"<body>{heading_markup}{body}</body></html>\n"
    )


def write_epub(
    path: Path,
    *,
    extra_files: dict[str, str] | None = None,
    second_heading: str = "Down the Hole",
    container_xml: str = _CONTAINER_XML,
) -> Path:
    """Write a two-chapter EPUB ("The Beginning", then `second_heading`) with zipfile."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", container_xml)
        archive.writestr("OEBPS/content.opf", _PACKAGE_OPF)
        archive.writestr("OEBPS/style.css", "p { color: black }")
        archive.writestr(
            "OEBPS/text/chapter1.xhtml",
            chapter_xhtml("The Beginning", ["Alice was beginning to get very tired.", "So she considered."]),
        )
        archive.writestr(
            "OEBPS/text/chapter 2.xhtml",
            chapter_xhtml(second_heading, ["The rabbit-hole went straight on like a tunnel."]),
        )
        for member, content in (extra_files or {}).items():
            archive.writestr(member, content)
    return path
