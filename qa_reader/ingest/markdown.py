"""Markdown reduced to the text a reader sees: markup stripped, headings and list items as paragraphs."""

from __future__ import annotations

import re

# Every pattern bounds how far it looks ahead so that a megabyte-long line with stray '*' or '[' stays linear.
_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n.*?\n(?:---|\+\+\+|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|(?:-[ \t]*){3,})$")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]{1,999}\]:[ \t]*\S")
_TABLE_DELIMITER_ROW = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_BLOCKQUOTE = re.compile(r"^(?: {0,3}>[ \t]?)+")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?")

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_IMAGE = re.compile(r"!\[[^\]\n]{0,999}\](?:\([^)\n]{0,999}\)|\[[^\]\n]{0,999}\])")
_INLINE_LINK = re.compile(r"\[([^\]\n]{1,999})\]\([^)\n]{0,999}\)")
_REFERENCE_LINK = re.compile(r"\[([^\]\n]{1,999})\]\[[^\]\n]{0,999}\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^\s<>]{1,999})>")
_INLINE_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,30}(?:\s[^<>\n]{0,999})?/?>")
_INLINE_CODE = re.compile(r"(`{1,3})([^`\n]{1,999}?)\1")
_STRONG = re.compile(r"(\*\*|__)(?=\S)([^\n]{1,999}?)(?<=\S)\1")
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
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    source = _FRONT_MATTER.sub("", source, count=1)
    source = _HTML_COMMENT.sub("", source)
    lines: list[str] = []
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
            text = strip_inline(heading.group(2) or "")
            if len(heading.group(1)) == 1 and not title:
                title = text
            lines.extend(["", text, ""])
            continue
        underline = _SETEXT_UNDERLINE.match(line)
        if underline and lines and lines[-1].strip():
            # The paragraph above is a heading; "===" marks level 1.
            if underline.group(1).startswith("=") and not title:
                title = lines[-1]
            lines.append("")
            continue
        if _THEMATIC_BREAK.match(line) or _REFERENCE_DEFINITION.match(line) or _TABLE_DELIMITER_ROW.match(line):
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
    return "\n".join(lines), title.strip()


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
