"""What a batch reads: DOCS (files, folders searched recursively, glob patterns) turned into file paths."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from qa_reader.errors import UserError
from qa_reader.ingest import SUPPORTED_SUFFIXES

_GLOB_CHARACTERS = frozenset("*?[")


def expand_documents(specs: Sequence[str | Path]) -> list[str]:
    """The absolute paths of the files that DOCS name, each once, in the order named (a folder's and a
    pattern's files sorted).

    A file named outright is kept whatever it is (a missing or unreadable one becomes a failure row later);
    a folder gives the files below it with a supported suffix (hidden ones left out); a pattern (`*`, `?`,
    `[`; `**` for any depth) gives what it matches, folders searched as above. Raises UserError for a pattern
    that matches nothing, or when nothing at all is found.
    """
    paths: dict[str, None] = {}
    for spec in specs:
        text = os.fspath(spec)
        if _GLOB_CHARACTERS & set(text) and not os.path.lexists(text):
            matches = sorted(glob.glob(os.path.expanduser(text), recursive=True))
            if not matches:
                raise UserError(f"{text} matches no file.")
            for match in matches:
                paths.update(dict.fromkeys(_files(match)))
        else:
            paths.update(dict.fromkeys(_files(os.path.expanduser(text))))
    if not paths:
        raise UserError("DOCS name no document: give files, folders or patterns that hold some.")
    return list(paths)


def _files(path: str) -> Iterator[str]:
    absolute = os.path.abspath(path)
    if not os.path.isdir(absolute):
        yield absolute
        return
    for folder, subfolders, names in os.walk(absolute):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield os.path.join(folder, name)
