"""Unshowable glyphs from PDFs: bullets where they stand alone, nothing inside a word."""

from __future__ import annotations

import pytest

from qa_reader.glyphs import readable


@pytest.mark.parametrize(
    ("extracted", "shown"),
    [
        ("\uf0b7 Preparation comes first", "• Preparation comes first"),
        ("phases:\n\uf0a7 detection\n\ufffd analysis", "phases:\n• detection\n• analysis"),
        ("e\ufffdcient and e\ue001ective", "ecient and eective"),
        ("plain text • already fine", "plain text • already fine"),
        ("", ""),
    ],
)
def test_unshowable_glyphs_become_bullets_or_go(extracted: str, shown: str) -> None:
    assert readable(extracted) == shown


def test_no_private_use_glyph_survives() -> None:
    text = "".join(chr(c) for c in range(0xE000, 0xF900, 97)) + " a\ufffdb \uf8ff"
    assert not any(0xE000 <= ord(c) <= 0xF8FF or c == "\ufffd" for c in readable(text))
