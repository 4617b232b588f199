"""Safe reading of input files, their SHA-256, and their format told from the name and the first bytes."""

from __future__ import annotations

import hashlib
import stat
import zipfile
import zlib
from pathlib import Path

from qa_reader.errors import DocumentError
from qa_reader.types import FailureReason

SUFFIX_FORMATS = {
    ".pdf": "pdf",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".epub": "epub",
}

# The PDF header may follow some junk; readers look for it in the first 1024 bytes.
_PDF_HEADER_WINDOW = 1024
_HEAD_SIZE = 4096
_CHUNK_SIZE = 1 << 20
SAMPLE_BLOCK = 64 * 1024
_EPUB_MIMETYPE = b"application/epub+zip"
_ZIP_MAGIC = b"PK\x03\x04"


def check_file(path: Path, name: str | None = None) -> None:
    """Make sure `path` is a non-empty regular file that can be looked at, without opening it.

    `name` is what messages call it (default: the file's name), e.g. the name of a link to it.
    Raises UserError for a missing file, a folder, a special file (a FIFO, a device), an empty file or a
    permission problem.
    """
    name = name or path.name or str(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise DocumentError(
            f"{name} does not exist: it may have been moved or deleted.", FailureReason.UNREADABLE
        ) from None
    except OSError as error:
        raise _read_error(path, error) from None
    except ValueError:
        # The operating system cannot even look up a name with a NUL character in it.
        raise DocumentError(f"{name!r} is not a valid file name.", FailureReason.UNREADABLE) from None
    if stat.S_ISDIR(status.st_mode):
        raise DocumentError(
            f"{name} is a folder, not a document: add the files inside it instead.", FailureReason.UNSUPPORTED
        )
    if not stat.S_ISREG(status.st_mode):
        raise DocumentError(
            f"{name} is not a regular file, so it cannot be read as a document.", FailureReason.UNSUPPORTED
        )
    if status.st_size == 0:
        raise DocumentError(f"{name} is empty (0 bytes): there is nothing in it to read.", FailureReason.NO_TEXT)


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (at most `limit` of them).

    Raises UserError when the file cannot be read.
    """
    try:
        with path.open("rb") as file:
            return file.read() if limit is None else file.read(limit)
    except OSError as error:
        raise _read_error(path, error) from None


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes as 64 hex digits, read in chunks so that big files stay out of memory.

    Raises UserError when the file cannot be read.
    """
    path = Path(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK_SIZE):
                digest.update(chunk)
    except OSError as error:
        raise _read_error(path, error) from None
    return digest.hexdigest()


def sample_sha256(path: str | Path, size: int) -> str:
    """The SHA-256 of a file's size and of its first, middle and last SAMPLE_BLOCK bytes, as 64 hex digits:
    three short reads, and the whole file when it is at most three blocks long. Tells most edits that keep a
    file's size and modification time from no edit, without reading a big file.

    Raises UserError when the file cannot be read.
    """
    path = Path(path)
    digest = hashlib.sha256(f"{size}\n".encode())
    offsets = sorted({0, max(0, size // 2 - SAMPLE_BLOCK // 2), max(0, size - SAMPLE_BLOCK)})
    try:
        with path.open("rb") as file:
            for offset in offsets:
                file.seek(offset)
                digest.update(file.read(SAMPLE_BLOCK))
    except OSError as error:
        raise _read_error(path, error) from None
    return digest.hexdigest()


def detect_format(path: Path) -> str:
    """The format to read `path` as: "pdf", "txt", "md", "html" or "epub".

    The content wins over the name when it is unmistakable (a PDF header, an EPUB archive), so a PDF saved
    as .txt still loads as a PDF; otherwise the suffix decides, and an unknown suffix is sniffed.
    Raises UserError for a ZIP-based file that is not an EPUB (a .docx, say), or when the file cannot be read.
    """
    head = read_bytes(path, _HEAD_SIZE)
    suffix_format = SUFFIX_FORMATS.get(path.suffix.lower())
    if b"%PDF-" in head[:_PDF_HEADER_WINDOW]:
        return "pdf"
    if head.startswith(_ZIP_MAGIC):
        if suffix_format == "epub" or _is_epub(path):
            return "epub"
        raise DocumentError(
            f"{path.name} is a ZIP-based file QA Reader cannot read: add PDF, text, Markdown, HTML or EPUB files.",
            FailureReason.UNSUPPORTED,
        )
    if suffix_format is not None:
        return suffix_format
    if _looks_like_html(head):
        return "html"
    return "txt"


def _is_epub(path: Path) -> bool:
    """Whether a ZIP archive is an EPUB: it names its type in "mimetype" or holds the EPUB container file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                # Read no more than the type takes: a hostile "mimetype" may unpack to gigabytes.
                with archive.open("mimetype") as mimetype:
                    if mimetype.read(len(_EPUB_MIMETYPE) + 64).strip() == _EPUB_MIMETYPE:
                        return True
            return "META-INF/container.xml" in names
    except (zipfile.BadZipFile, zlib.error, OSError, KeyError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return False


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _read_error(path: Path, error: OSError) -> DocumentError:
    """A sentence for an operating-system error while reading a file."""
    name = path.name or str(path)
    if isinstance(error, PermissionError):
        return DocumentError(f"{name} cannot be read: permission denied.", FailureReason.UNREADABLE)
    if isinstance(error, IsADirectoryError):
        return DocumentError(
            f"{name} is a folder, not a document: add the files inside it instead.", FailureReason.UNSUPPORTED
        )
    reason = (error.strerror or str(error)).rstrip(".").lower()
    return DocumentError(f"{name} cannot be read: {reason}.", FailureReason.UNREADABLE)
