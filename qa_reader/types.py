"""Plain frozen records passed between the engine, the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np

# A rectangle in PDF points on one page: (x0, y0, x1, y1), y growing downwards (pymupdf's convention).
Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Page:
    """Where one page's text lies in the document text, and the page's size in points (0 for flowing text)."""

    page_index: int  # 0-based
    char_start: int
    char_end: int
    width: float = 0.0
    height: float = 0.0
    label: str = ""  # what people call it: the printed page number, or a chapter title

    @property
    def page_number(self) -> int:
        """1-based page number."""
        return self.page_index + 1


@dataclass(frozen=True, eq=False)
class Document:
    """One file's text, with every character mapped to its page and (for PDFs) its box on that page.

    Invariants: pages cover `text` in order without gaps; `char_boxes` is None for flowing formats,
    else float32 (len(text), 4) holding each character's Rect, NaN for characters the extractor
    inserted (spaces and line breaks that join lines and blocks).
    """

    path: str
    title: str
    format: str  # "pdf", "txt", "md", "html", "epub"
    sha256: str
    text: str
    pages: tuple[Page, ...]
    char_boxes: np.ndarray | None = None
    scanned_pages: tuple[int, ...] = ()  # page indexes with no text layer
    warnings: tuple[str, ...] = ()

    def page_of(self, char_offset: int) -> Page:
        """The page holding a character offset (the last page for the end offset)."""
        starts = [page.char_start for page in self.pages]
        index = int(np.searchsorted(np.asarray(starts), char_offset, side="right")) - 1
        return self.pages[max(0, min(index, len(self.pages) - 1))]


@dataclass(frozen=True)
class Passage:
    """A SQuAD-sized chunk of a document: `text == document.text[char_start:char_end]`."""

    index: int
    char_start: int
    char_end: int
    text: str


@dataclass(frozen=True)
class Highlight:
    """Rectangles to paint on one page for (part of) an answer span."""

    page_index: int
    rects: tuple[Rect, ...]


@dataclass(frozen=True)
class Answer:
    """One answer: a verbatim span of a document, with where it is and how sure the model is."""

    text: str
    score: float  # probability that the answer is right (calibration.py); span probability if uncalibrated
    document_id: int
    document_title: str
    document_path: str
    page_number: int  # 1-based
    char_start: int
    char_end: int
    sentence: str  # the sentence around the answer
    sentence_char_start: int  # offset of `sentence` in the document text
    highlights: tuple[Highlight, ...] = field(default=())
    page_label: str = ""  # the number printed on a PDF's page ("47", "xii") when the PDF defines page labels
    # What the threshold is compared with ("not found"): the calibration's support (see calibration.py); None
    # when it has no support model, and then `score` is compared.
    support: float | None = None

    @property
    def passes(self) -> float:
        """The value the answer threshold applies to: its support, else its score."""
        return self.score if self.support is None else self.support

    @property
    def page_reference(self) -> str:
        """How to cite the page: "p. 47 (PDF page 56)" when the printed label differs from the page number,
        else "p. 56"."""
        if self.page_label and self.page_label != str(self.page_number):
            return f"p. {self.page_label} (PDF page {self.page_number})"
        return f"p. {self.page_number}"


@dataclass(frozen=True)
class AnswerSet:
    """The ranked answers to one question; `found` is False when none passes the threshold."""

    question: str
    answers: tuple[Answer, ...]  # answers passing the threshold, best first
    guesses: tuple[Answer, ...]  # best candidates below the threshold, best first
    threshold: float
    from_cache: bool = False
    elapsed_ms: float = 0.0

    @property
    def found(self) -> bool:
        return bool(self.answers)


class DocumentStatus(StrEnum):
    """What the library holds of a file (stored in its documents table)."""

    READY = "ready"
    PARTIAL = "partial"  # some pages have no text layer (scanned); the others are searchable
    FAILED = "failed"  # nothing: the file could not be indexed, for the record's `reason`

    @property
    def searchable(self) -> bool:
        """Whether a question can read the document."""
        return self is not DocumentStatus.FAILED


class FailureReason(StrEnum):
    """Why a file could not be indexed, stored beside its message (which is for people, not for code)."""

    NONE = ""  # the document did not fail
    SCANNED = "scanned"  # a PDF without a text layer: OCR would make it readable
    ENCRYPTED = "encrypted"  # a password or DRM keeps its text out of reach
    DAMAGED = "damaged"  # corrupt, or not the format it claims to be
    NO_TEXT = "no_text"  # readable, with nothing in it to search
    UNSUPPORTED = "unsupported"  # binary data, another ZIP-based format, a folder or a device
    TOO_LARGE = "too_large"  # more text than one document may hold
    UNREADABLE = "unreadable"  # missing, not allowed, or the system failed to read it


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the library knows it."""

    id: int
    path: str
    title: str
    format: str
    sha256: str
    size: int
    mtime: float
    page_count: int
    passage_count: int
    status: DocumentStatus
    error: str  # why it failed, a sentence for people ("" unless failed)
    warnings: tuple[str, ...]
    indexed_at: float  # when the file's content was last read or hashed in full
    sample_sha256: str = ""  # ingest.files.sample_sha256 of the file as indexed ("": not known)
    reason: FailureReason = FailureReason.NONE
    scanned_pages: tuple[int, ...] = ()  # page indexes without a text layer (known for files indexed since v3)


@dataclass(frozen=True)
class LibraryEntry:
    """A document of the library and how its file on disk compares with what was indexed."""

    record: DocumentRecord
    stale: bool  # the file changed since it was indexed: it is indexed again
    missing: bool  # the file is gone


class PageBoxSource(Protocol):
    """A PDF's character boxes by page index, read when first asked for (see store.PageBoxes)."""

    def get(self, page_index: int) -> tuple[int, np.ndarray] | None: ...

    def __getitem__(self, page_index: int) -> tuple[int, np.ndarray]: ...

    def __contains__(self, page_index: object) -> bool: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, eq=False)
class DocumentContent:
    """What the document view shows of one document: its text, pages and (PDF) character boxes."""

    record: DocumentRecord
    text: str
    pages: tuple[Page, ...]
    boxes: PageBoxSource  # page_index -> (char_start, float32 (n, 4) boxes)
    headings: tuple[tuple[int, str], ...] = ()  # (level, text) of a Markdown file's headings, in order

    @property
    def is_pdf(self) -> bool:
        return self.record.format == "pdf" and len(self.boxes) > 0
