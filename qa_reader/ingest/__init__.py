"""Ingestion: load(path) turns a PDF, text, Markdown, HTML or EPUB file into a Document."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from qa_reader.ingest.epub import load_epub
from qa_reader.ingest.files import SUFFIX_FORMATS, check_file, detect_format, sha256_file
from qa_reader.ingest.html import load_html
from qa_reader.ingest.pdf import load_pdf
from qa_reader.ingest.text import load_markdown, load_text
from qa_reader.types import Document

__all__ = ["SUPPORTED_SUFFIXES", "load", "sha256_file"]

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(SUFFIX_FORMATS)

PageProgress = Callable[[int, int], None]  # (pages done, page count)

_LOADERS: dict[str, Callable[[Path, str], Document]] = {
    "txt": load_text,
    "md": load_markdown,
    "html": load_html,
    "epub": load_epub,
}


def load(path: str | Path, sha256: str | None = None, progress: PageProgress | None = None) -> Document:
    """Read one document file into a Document: its text, pages, title and (for PDFs) character boxes.

    The format follows the content when it is unmistakable (a PDF named .txt loads as a PDF), else the
    suffix; see SUPPORTED_SUFFIXES.
    Returns the Document, with `path` made absolute and `sha256` the hash of the file's bytes.
    Raises UserError, with one sentence naming the file, for anything wrong with the input: a missing,
    empty, unreadable, damaged, encrypted, scanned or binary file.
    `sha256`, when the caller has already hashed the file, saves reading it twice; `progress` hears
    about each PDF page as it is read.
    """
    path = Path(os.path.abspath(Path(path).expanduser()))
    check_file(path)
    file_format = detect_format(path)
    sha256 = sha256 or sha256_file(path)
    if file_format == "pdf":
        return load_pdf(path, sha256, progress)
    return _LOADERS[file_format](path, sha256)
