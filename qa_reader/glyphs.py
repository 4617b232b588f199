"""Text for people: the glyphs a PDF's text layer holds that no font can show (private-use code points of
symbol fonts, U+FFFD for glyphs the PDF never mapped) become a bullet or disappear.

Only text that is shown or exported passes through here; the document text and every character offset
stay as extracted, so highlights still land on the right characters.
"""

from __future__ import annotations

import re

BULLET = "•"

# Symbol and Wingdings bullets arrive in the private-use area (U+F0B7 is Symbol's bullet, U+F0A7 and U+F0D8
# Wingdings' square and arrow); U+FFFD stands for a glyph the PDF gave no Unicode value.
_UNSHOWABLE = "\ue000-\uf8ff\ufffd"
# One at the start of a line or between spaces is a list bullet: it keeps its place as "•".
_STANDING_ALONE = re.compile(rf"(?<!\S)[{_UNSHOWABLE}]+(?!\S)")
# One inside a word (an unmapped ligature such as "ﬁ") has nothing to stand for: it is dropped.
_IN_A_WORD = re.compile(rf"[{_UNSHOWABLE}]+")


def readable(text: str) -> str:
    """`text` with private-use glyphs and U+FFFD shown as "•" where they stand alone, dropped inside words.

    Returns a string of possibly different length: never use its offsets against the document text.
    """
    if not _IN_A_WORD.search(text):
        return text
    return _IN_A_WORD.sub("", _STANDING_ALONE.sub(BULLET, text))
