"""Markdown reduced to the text a reader sees: markup stripped, headings and list items as paragraphs."""

from __future__ import annotations

import re

# Every pattern bounds how far it looks ahead so that a megabyte-long line with stray '*' or '[' stays linear,
# and no pattern has two whitespace runs that could trade characters (a line of 50,000 spaces would make
# such a pattern quadratic). A span pattern's content excludes its own opening character, so that a scan
# from one opener stops at the next one and no character is scanned twice ("[[[[..." is linear).
_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n.*?\n(?:---|\+\+\+|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_COMMENT_OPEN = "<!--"
_COMMENT_CLOSE = "-->"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# The opening hashes only; the heading's text and closing hashes are cut with string methods.
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?=[ \t]|$)")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|(?:-[ \t]*){3,})$")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]{1,999}\]:[ \t]*\S")
# One cell of a table's delimiter row ("| :--- | ---: |"), matched after the row is split at its pipes.
_DELIMITER_CELL = re.compile(r" *:?-+:? *")
_BLOCKQUOTE = re.compile(r"^(?: {0,3}>[ \t]?)+")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?")

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
# A link target may hold one level of parentheses, as Wikipedia addresses do: (https://w/Foo_(bar)).
_TARGET = r"\((?:[^()\n]|\([^()\n]{0,999}\)){0,999}\)"
_IMAGE = re.compile(r"!\[[^\[\]\n]{0,999}\](?:" + _TARGET + r"|\[[^\[\]\n]{0,999}\])")
_INLINE_LINK = re.compile(r"\[([^\[\]\n]{1,999})\]" + _TARGET)
_REFERENCE_LINK = re.compile(r"\[([^\[\]\n]{1,999})\]\[[^\[\]\n]{0,999}\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^\s<>]{1,999})>")
_INLINE_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,30}(?:\s[^<>\n]{0,999})?/?>")
_INLINE_CODE = re.compile(r"(`{1,3})([^`\n]{1,999}?)\1")
# Strong text may hold a single '*' or '_' (emphasis inside it) but never the closing pair itself.
_STRONG = re.compile(r"(\*\*|__)(?=\S)((?:[^*_\n]|\*(?!\*)|_(?!_)){1,999}?)(?<=\S)\1")
_EMPHASIS_STAR = re.compile(r"\*(?=[^\s*])([^*\n]{1,999}?)(?<=[^\s*])\*")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<!\w)_(?=[^\s_])([^_\n]{1,999}?)(?<=[^\s_])_(?!\w)")
_STRIKETHROUGH = re.compile(r"~~(?=\S)([^~\n]{1,999}?)(?<=\S)~~")

# Escaped punctuation is parked in the supplementary private use area while markup is stripped, so that
# "\*" survives as a literal '*' instead of opening an emphasis.
_PARKING_OFFSET = 0xF0000


def strip_markdown(source: str) -> tuple[str, str]:
    """Turn Markdown into plain text with paragraphs separated by blank lines.

    Headings, list items and table rows become paragraphs of their own; fenced code keeps its text;
    front matter, HTML comments, images, link targets and emphasis markers disappear.
    Returns the text and the first level-1 heading ("" when there is none).
    """
    text, title, _ = _reduce(source)
    return text, title


def markdown_headings(source: str) -> list[tuple[int, str]]:
    """(level 1-6, text) of every heading, in order, each text exactly the line strip_markdown makes of it."""
    return _reduce(source)[2]


def _reduce(source: str) -> tuple[str, str, list[tuple[int, str]]]:
    """The plain text, the first level-1 heading and every heading (level, text) of a Markdown source."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    source = _FRONT_MATTER.sub("", source, count=1)
    source = _drop_comments(source)
    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    title = ""
    fence = ""
    for line in source.split("\n"):
        if fence:
            if line.strip().startswith(fence):
                fence = ""
                lines.append("")
            else:
                lines.append(line)
            continue
        fence_match = _FENCE.match(line)
        if fence_match:
            fence = fence_match.group(1)
            lines.append("")
            continue
        heading = _ATX_HEADING.match(line)
        if heading:
            text = strip_inline(_heading_text(line[heading.end() :]))
            if len(heading.group(1)) == 1 and not title:
                title = text
            headings.append((len(heading.group(1)), text))
            lines.extend(["", text, ""])
            continue
        underline = _SETEXT_UNDERLINE.match(line)
        if underline and lines and lines[-1].strip():
            # The paragraph above is a heading; "===" marks level 1.
            level = 1 if underline.group(1).startswith("=") else 2
            if level == 1 and not title:
                title = lines[-1]
            headings.append((level, lines[-1]))
            lines.append("")
            continue
        if _THEMATIC_BREAK.match(line) or _REFERENCE_DEFINITION.match(line) or _is_delimiter_row(line):
            lines.append("")
            continue
        line = _BLOCKQUOTE.sub("", line)
        item = _LIST_ITEM.match(line)
        if item:
            lines.extend(["", strip_inline(line[item.end() :])])
            continue
        if line.lstrip().startswith("|"):
            cells = [strip_inline(cell) for cell in line.strip().strip("|").split("|")]
            lines.extend(["", "  ".join(cell for cell in cells if cell.strip()), ""])
            continue
        lines.append(strip_inline(line))
    return "\n".join(lines), title.strip(), headings


def _drop_comments(source: str) -> str:
    """The source without its HTML comments; an unclosed "<!--" stays as text (and so does what follows it).

    One pass: once no "-->" follows an opener, no later opener can be closed either.
    """
    pieces: list[str] = []
    position = 0
    while True:
        start = source.find(_COMMENT_OPEN, position)
        if start < 0:
            break
        end = source.find(_COMMENT_CLOSE, start + len(_COMMENT_OPEN))
        if end < 0:
            break
        pieces.append(source[position:start])
        position = end + len(_COMMENT_CLOSE)
    pieces.append(source[position:])
    return "".join(pieces)


def _heading_text(rest: str) -> str:
    """An ATX heading's text from what follows its opening hashes: closing hashes and spaces cut off."""
    text = rest.strip(" \t")
    without_hashes = text.rstrip("#")
    if not without_hashes or without_hashes[-1] in " \t":
        # Closing hashes count only after a space ("# C#" keeps its '#').
        text = without_hashes.rstrip(" \t")
    return text


def _is_delimiter_row(line: str) -> bool:
    """Whether a line is a table's delimiter row: cells of dashes with optional colons, between pipes."""
    row = line.strip(" \t").replace("\t", " ")
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    return bool(row) and all(_DELIMITER_CELL.fullmatch(cell) for cell in row.split("|"))


def strip_inline(text: str) -> str:
    """Inline Markdown reduced to its visible text: links keep their words, code keeps its content."""
    text = _ESCAPED.sub(lambda match: chr(_PARKING_OFFSET + ord(match.group(1))), text)
    text = _IMAGE.sub("", text)
    text = _INLINE_LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _INLINE_CODE.sub(r"\2", text)
    text = _INLINE_HTML_TAG.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS_STAR.sub(r"\1", text)
    text = _EMPHASIS_UNDERSCORE.sub(r"\1", text)
    text = _STRIKETHROUGH.sub(r"\1", text)
    return re.sub("[\U000f0000-\U000f007f]", lambda match: chr(ord(match.group()) - _PARKING_OFFSET), text)
