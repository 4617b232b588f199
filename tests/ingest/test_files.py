"""What load() says about files that are not there, not files, empty, unreadable or of an unknown kind."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_reader.errors import UserError
from qa_reader.ingest import SUPPORTED_SUFFIXES, load, sha256_file


def test_supported_suffixes() -> None:
    assert set(SUPPORTED_SUFFIXES) == {".pdf", ".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".epub"}


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^gone\.pdf does not exist"):
        load(tmp_path / "gone.pdf")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "papers.pdf"
    folder.mkdir()
    with pytest.raises(UserError, match=r"^papers\.pdf is a folder"):
        load(folder)


@pytest.mark.parametrize("name", ["empty.pdf", "empty.txt", "empty.epub", "empty"])
def test_an_empty_file_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.touch()
    with pytest.raises(UserError, match=rf"^{name} is empty \(0 bytes\)"):
        load(path)


def test_an_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "private.txt"
    path.write_text("secret")

    # Tests may run as root, who reads any file whatever its mode; the refusal itself is what matters.
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(UserError, match=r"^private\.txt cannot be read: permission denied\.$"):
        load(path)


def test_sha256_file_matches_hashlib_and_load(tmp_path: Path) -> None:
    data = b"some bytes\n" * 300_000
    path = tmp_path / "big.txt"
    path.write_bytes(data)
    assert sha256_file(path) == sha256_file(str(path)) == hashlib.sha256(data).hexdigest()
    assert load(path).sha256 == hashlib.sha256(data).hexdigest()


def test_load_makes_the_path_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "note.txt").write_text("Hello.")
    monkeypatch.chdir(tmp_path)
    assert load("note.txt").path == str(tmp_path / "note.txt")


def test_an_unknown_suffix_is_sniffed_as_text_or_html(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("Plain words.")
    (tmp_path / "page.php").write_text("<!DOCTYPE html><html><title>T</title><p>Marked up.</p></html>")
    assert load(tmp_path / "README").format == "txt"
    page = load(tmp_path / "page.php")
    assert (page.format, page.text, page.title) == ("html", "Marked up.", "T")


def test_a_zip_that_is_not_an_epub_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UserError, match=r"^letter\.docx is a ZIP-based file QA Reader cannot read"):
        load(path)


def test_binary_data_with_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(UserError, match=r"^photo\.png holds binary data, not text"):
        load(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(min_size=1, max_size=3000),
        st.builds(lambda tail: b"%PDF-1.4\n" + tail, st.binary(max_size=3000)),
        st.builds(lambda tail: b"PK\x03\x04" + tail, st.binary(max_size=500)),
        st.text(st.sampled_from("<>![]-/?&#;= apxhtml\n\x00"), min_size=1, max_size=300).map(str.encode),
    ),
    suffix=st.sampled_from([*SUPPORTED_SUFFIXES, ".bin", ""]),
)
def test_bad_input_gives_a_user_error_never_a_traceback(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    try:
        load(path)
    except UserError as error:
        message = str(error)
        assert message.startswith(path.name) and message.endswith(".") and "\n" not in message
