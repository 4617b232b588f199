"""EPUB books with the standard library: the package file's spine gives the chapters, one page each."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

from qa_reader.errors import DocumentError
from qa_reader.ingest.html import decode_html, extract_html
from qa_reader.ingest.layout import PARAGRAPH_BREAK
from qa_reader.types import Document, FailureReason, Page

_CONTAINER = "META-INF/container.xml"
_ENCRYPTION = "META-INF/encryption.xml"
_CHAPTER_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/x-dtbook+xml"})
# What one book may unpack, all reads together (a chapter the spine lists twice counts twice). A long novel
# is 1-4 MB of markup; a small archive that expands past this (deflate packs 1,000:1) is hostile or broken,
# and reading it would take gigabytes: five 60 MB chapters took 2.9 GB and wrote a 708 MB library.
MAX_BOOK_MB = 32
_READ_CHUNK = 1 << 20


class _Budget:
    """The bytes a book may still unpack; refuses a read before it starts when the zip's declared size is
    over it, and while it runs when the data turns out longer than declared."""

    def __init__(self, name: str, limit: int = MAX_BOOK_MB << 20) -> None:
        self.name = name
        self.left = limit

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise DocumentError(
                f"{self.name} expands to more than {MAX_BOOK_MB} MB of text; "
                f"QA Reader reads at most {MAX_BOOK_MB} MB per document.",
                FailureReason.TOO_LARGE,
            )

    def check(self, declared: int) -> None:
        if declared > self.left:
            self.spend(declared)


@dataclass(frozen=True)
class _Chapter:
    label: str
    text: str


def load_epub(path: Path, sha256: str) -> Document:
    """Read an EPUB book's chapters in spine order through the HTML text extraction.

    Returns a Document with one Page per chapter, labelled with the chapter's heading (or "Chapter N").
    Raises UserError when the file is not a ZIP archive, its package file is missing or damaged, it is
    protected by DRM, or no chapter holds text.
    """
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DocumentError(f"{name} is not a valid EPUB: it is not a ZIP archive.", FailureReason.DAMAGED) from None
    except OSError as error:
        raise DocumentError(
            f"{name} cannot be read: {(error.strerror or str(error)).lower()}.", FailureReason.UNREADABLE
        ) from None
    warnings: list[str] = []
    budget = _Budget(name)
    with archive:
        package_path = _package_path(archive, name, budget)
        try:
            package = _parse_xml(_read_member(archive, package_path, name, budget), name, "package file")
        except KeyError:
            raise DocumentError(
                f"{name} is not a valid EPUB: its package file {package_path} is missing.", FailureReason.DAMAGED
            ) from None
        chapter_paths = _spine_paths(package, posixpath.dirname(package_path), name)
        protected = _encrypted_paths(archive, name, budget)
        # The whole spine is paid for up front by its declared sizes, before a byte of it is unpacked.
        budget.check(sum(_declared_size(archive, member) for member in chapter_paths))
        chapters = []
        for member in chapter_paths:
            if member in protected:
                raise DocumentError(
                    f"{name} is protected by DRM: QA Reader cannot read its text.", FailureReason.ENCRYPTED
                )
            try:
                data = _read_member(archive, member, name, budget)
            except KeyError:
                warnings.append(f"{name} lists a chapter that is missing from the book ({member}); it was skipped.")
                continue
            markup, _ = decode_html(data, name)
            page = extract_html(markup)
            label = page.first_heading or page.title or f"Chapter {len(chapters) + 1}"
            chapters.append(_Chapter(label=label, text=PARAGRAPH_BREAK.join(page.paragraphs)))
        book_title = _book_title(package)

    if not any(chapter.text for chapter in chapters):
        raise DocumentError(f"{name} contains no text.", FailureReason.NO_TEXT)
    pieces: list[str] = []
    pages = []
    length = 0
    for index, chapter in enumerate(chapters):
        start = length
        if chapter.text:
            # The break between chapters belongs to the start of the next one, as between PDF pages.
            piece = PARAGRAPH_BREAK + chapter.text if length else chapter.text
            pieces.append(piece)
            length += len(piece)
        pages.append(Page(page_index=index, char_start=start, char_end=length, label=chapter.label))
    return Document(
        path=str(path),
        title=book_title or path.stem,
        format="epub",
        sha256=sha256,
        text="".join(pieces),
        pages=tuple(pages),
        warnings=tuple(warnings),
    )


def _local_name(tag: str) -> str:
    """An XML tag without its namespace: EPUB 2 and 3 books disagree on namespaces and prefixes."""
    return tag.rsplit("}", 1)[-1]


def _package_path(archive: zipfile.ZipFile, name: str, budget: _Budget) -> str:
    try:
        container = _parse_xml(_read_member(archive, _CONTAINER, name, budget), name, "container file")
    except KeyError:
        raise DocumentError(f"{name} is not a valid EPUB: it has no {_CONTAINER}.", FailureReason.DAMAGED) from None
    for element in container.iter():
        if _local_name(element.tag) == "rootfile" and element.get("full-path"):
            return element.get("full-path", "")
    raise DocumentError(f"{name} is not a valid EPUB: its container file names no package file.", FailureReason.DAMAGED)


def _spine_paths(package: ElementTree.Element, base: str, name: str) -> list[str]:
    """The archive paths of the chapters, in reading order."""
    manifest: dict[str, tuple[str, str]] = {}
    spine: list[str] = []
    for element in package.iter():
        tag = _local_name(element.tag)
        if tag == "item" and element.get("id") and element.get("href"):
            manifest[element.get("id", "")] = (element.get("href", ""), element.get("media-type", ""))
        elif tag == "itemref" and element.get("idref"):
            spine.append(element.get("idref", ""))
    paths = []
    for idref in spine:
        href, media_type = manifest.get(idref, ("", ""))
        if not href or (media_type and media_type not in _CHAPTER_TYPES):
            continue
        href = unquote(href.split("#", 1)[0])
        paths.append(posixpath.normpath(posixpath.join(base, href)))
    if not paths:
        raise DocumentError(f"{name} is not a valid EPUB: its package file lists no chapters.", FailureReason.DAMAGED)
    return paths


def _book_title(package: ElementTree.Element) -> str:
    for element in package.iter():
        if _local_name(element.tag) == "title" and element.text and element.text.strip():
            return " ".join(element.text.split())
    return ""


def _encrypted_paths(archive: zipfile.ZipFile, name: str, budget: _Budget) -> set[str]:
    """Archive paths listed as encrypted; fonts often are (obfuscation), chapters only under DRM."""
    try:
        encryption = _parse_xml(_read_member(archive, _ENCRYPTION, name, budget), name, "encryption file")
    except KeyError:
        return set()
    return {
        unquote(element.get("URI", ""))
        for element in encryption.iter()
        if _local_name(element.tag) == "CipherReference"
    }


def _read_member(archive: zipfile.ZipFile, member: str, name: str, budget: _Budget) -> bytes:
    """One file of the archive, paid for from the book's budget; KeyError when it is not there.

    Raises UserError when it is damaged or the book's budget runs out: before unpacking when the declared
    size is over it, while unpacking when the data is longer than declared.
    """
    info = archive.getinfo(member)
    budget.check(info.file_size)
    chunks: list[bytes] = []
    try:
        with archive.open(info) as unpacked:
            while chunk := unpacked.read(_READ_CHUNK):
                budget.spend(len(chunk))
                chunks.append(chunk)
        return b"".join(chunks)
    # RuntimeError is how zipfile says a member is password-protected.
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, RuntimeError):
        raise DocumentError(f"{name} is damaged: {member} cannot be unpacked from it.", FailureReason.DAMAGED) from None


def _declared_size(archive: zipfile.ZipFile, member: str) -> int:
    try:
        return archive.getinfo(member).file_size
    except KeyError:
        return 0


def _parse_xml(data: bytes, name: str, what: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise DocumentError(f"{name} is not a valid EPUB: its {what} is damaged.", FailureReason.DAMAGED) from None
