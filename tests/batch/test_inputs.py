"""DOCS: files as named, folders searched recursively for documents, glob patterns; each file once."""

from __future__ import annotations

import os

import pytest

from qa_reader.batch.inputs import expand_documents
from qa_reader.errors import UserError


def test_a_folder_gives_its_documents_below_it_sorted(documents):
    (documents / ".hidden").mkdir()
    (documents / ".hidden" / "secret.txt").write_text("not this")
    (documents / ".draft.txt").write_text("nor this")
    found = expand_documents([documents])
    assert found == [
        str(documents / name)
        for name in ("corrupt.pdf", "empty.txt", "life-cycle.txt", "notes.md", "report.pdf", "scanned.pdf")
    ] + [str(documents / "sub" / "pets.txt")]  # no picture.png: a folder gives documents only


def test_files_are_kept_as_named_and_each_path_comes_once(documents, monkeypatch):
    monkeypatch.chdir(documents)
    found = expand_documents(["picture.png", "missing.pdf", documents / "sub", "sub/pets.txt", "./picture.png"])
    assert found == [
        str(documents / "picture.png"),
        str(documents / "missing.pdf"),
        str(documents / "sub" / "pets.txt"),
    ]


def test_patterns_match_files_and_folders_at_any_depth(documents):
    assert expand_documents([os.path.join(documents, "*.md")]) == [str(documents / "notes.md")]
    assert expand_documents([os.path.join(documents, "**", "*.txt")]) == [
        str(documents / name) for name in ("empty.txt", "life-cycle.txt", "sub/pets.txt")
    ]
    assert expand_documents([os.path.join(documents, "s*")]) == [
        str(documents / "scanned.pdf"),
        str(documents / "sub" / "pets.txt"),
    ]


def test_a_pattern_that_matches_nothing_is_refused(documents):
    with pytest.raises(UserError, match=r"\*.epub matches no file"):
        expand_documents([documents / "*.epub"])


def test_a_file_whose_name_looks_like_a_pattern_is_a_file(tmp_path):
    odd = tmp_path / "draft[1].txt"
    odd.write_text("text")
    assert expand_documents([odd]) == [str(odd)]


def test_nothing_to_read_is_refused(tmp_path):
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(UserError, match="name no document"):
        expand_documents([tmp_path / "empty-folder"])
