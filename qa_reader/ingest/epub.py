"""EPUB books with the standard library: the package file's spine gives the chapters, one page each."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

from qa_reader.errors import UserError
from qa_reader.ingest.html import decode_html, extract_html
from qa_reader.ingest.layout import PARAGRAPH_BREAK
from qa_reader.types import Document, Page

_CONTAINER = "META-INF/container.xml"
_ENCRYPTION = "META-INF/encryption.xml"
_CHAPTER_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/x-dtbook+xml"})
# A chapter bigger than this is a damaged or hostile archive, not a chapter.
_MAX_CHAPTER_BYTES = 64 << 20


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
        raise UserError(f"{name} is not a valid EPUB: it is not a ZIP archive.") from None
    except OSError as error:
        raise UserError(f"{name} cannot be read: {(error.strerror or str(error)).lower()}.") from None
    warnings: list[str] = []
    with archive:
        package_path = _package_path(archive, name)
        try:
            package = _parse_xml(_read_member(archive, package_path, name), name, "package file")
        except KeyError:
            raise UserError(f"{name} is not a valid EPUB: its package file {package_path} is missing.") from None
        chapter_paths = _spine_paths(package, posixpath.dirname(package_path), name)
        protected = _encrypted_paths(archive, name)
        chapters = []
        for member in chapter_paths:
            if member in protected:
                raise UserError(f"{name} is protected by DRM: QA Reader cannot read its text.")
            try:
                data = _read_member(archive, member, name)
            except KeyError:
                warnings.append(f"{name} lists a chapter that is missing from the book ({member}); it was skipped.")
                continue
            markup, _ = decode_html(data, name)
            page = extract_html(markup)
            label = page.first_heading or page.title or f"Chapter {len(chapters) + 1}"
            chapters.append(_Chapter(label=label, text=PARAGRAPH_BREAK.join(page.paragraphs)))
        book_title = _book_title(package)

    if not any(chapter.text for chapter in chapters):
        raise UserError(f"{name} contains no text.")
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


def _package_path(archive: zipfile.ZipFile, name: str) -> str:
    try:
        container = _parse_xml(_read_member(archive, _CONTAINER, name), name, "container file")
    except KeyError:
        raise UserError(f"{name} is not a valid EPUB: it has no {_CONTAINER}.") from None
    for element in container.iter():
        if _local_name(element.tag) == "rootfile" and element.get("full-path"):
            return element.get("full-path", "")
    raise UserError(f"{name} is not a valid EPUB: its container file names no package file.")


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
        raise UserError(f"{name} is not a valid EPUB: its package file lists no chapters.")
    return paths


def _book_title(package: ElementTree.Element) -> str:
    for element in package.iter():
        if _local_name(element.tag) == "title" and element.text and element.text.strip():
            return " ".join(element.text.split())
    return ""


def _encrypted_paths(archive: zipfile.ZipFile, name: str) -> set[str]:
    """Archive paths listed as encrypted; fonts often are (obfuscation), chapters only under DRM."""
    try:
        encryption = _parse_xml(_read_member(archive, _ENCRYPTION, name), name, "encryption file")
    except KeyError:
        return set()
    return {
        unquote(element.get("URI", ""))
        for element in encryption.iter()
        if _local_name(element.tag) == "CipherReference"
    }


def _read_member(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    """One file of the archive; KeyError when it is not there.

    Raises UserError when it is damaged or unreasonably large.
    """
    info = archive.getinfo(member)
    if info.file_size > _MAX_CHAPTER_BYTES:
        raise UserError(f"{name} holds a file too large to be a chapter ({member}); it may be damaged.")
    try:
        return archive.read(info)
    # RuntimeError is how zipfile says a member is password-protected.
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, RuntimeError):
        raise UserError(f"{name} is damaged: {member} cannot be unpacked from it.") from None


def _parse_xml(data: bytes, name: str, what: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise UserError(f"{name} is not a valid EPUB: its {what} is damaged.") from None
