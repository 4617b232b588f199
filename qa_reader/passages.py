"""Pure: cut a document's text into SQuAD-sized passages with exact character offsets.

Paragraphs (separated by blank lines) are the unit; paragraphs longer than `max_words` are split at
sentence boundaries, runs of short fragments are merged up to `target_words`, and no passage spans more
than `max_chars` characters. A "word" longer than MAX_WORD_CHARS (minified JSON, a run of brackets) counts
as one word per MAX_WORD_CHARS characters and may be cut between them, so one enormous token can neither
make a passage huge nor reach the tokenizer whole. Linear in the text size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from qa_reader.types import Passage

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORD = re.compile(r"\S+")
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) and whitespace.
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*\s+")
MAX_WORD_CHARS = 200


@dataclass(frozen=True)
class PassageSettings:
    """Passage sizes in words."""

    min_words: int = 60
    target_words: int = 150
    max_words: int = 200
    # SQuAD paragraphs of 200 words average about 1,200 characters; this bounds the word pieces (and so the
    # reader's windows) of a passage of punctuation or one long token, about one piece per character.
    max_chars: int = 2000


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _word_bounds(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """[start, end) of each word, a word over MAX_WORD_CHARS given as pieces of that many characters.

    A generator: a paragraph of millions of words is walked, never held as a list.
    """
    for match in _WORD.finditer(text, start, end):
        word_start, word_end = match.span()
        if word_end - word_start <= MAX_WORD_CHARS:
            yield word_start, word_end
            continue
        for piece_start in range(word_start, word_end, MAX_WORD_CHARS):
            yield piece_start, min(piece_start + MAX_WORD_CHARS, word_end)


def _count_words(text: str, start: int, end: int) -> int:
    """How many words _word_bounds gives for text[start:end]."""
    count = 0
    for match in _WORD.finditer(text, start, end):
        count += -(-(match.end() - match.start()) // MAX_WORD_CHARS)
    return count


def _hard_cuts(words: Iterator[tuple[int, int]], settings: PassageSettings) -> Iterator[tuple[int, int, int]]:
    """(start, end, words) pieces of at most target_words words and max_chars characters, cut between words."""
    first_start = last_end = count = 0
    for word_start, word_end in words:
        if count and (count >= settings.target_words or word_end - first_start > settings.max_chars):
            yield first_start, last_end, count
            count = 0
        if not count:
            first_start = word_start
        last_end = word_end
        count += 1
    if count:
        yield first_start, last_end, count


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    for match in _SENTENCE_END.finditer(text, start, end):
        yield position, match.end()
        position = match.end()
    if position < end:
        yield position, end


def _pieces(text: str, start: int, end: int, settings: PassageSettings) -> Iterator[tuple[int, int, int]]:
    """(start, end, words) of each sentence, sentences over max_words or max_chars cut between words."""
    for sentence_start, sentence_end in _sentences(text, start, end):
        words = _count_words(text, sentence_start, sentence_end)
        if not words:
            continue
        if words <= settings.max_words and _span_chars(text, sentence_start, sentence_end) <= settings.max_chars:
            yield sentence_start, sentence_end, words
        else:
            yield from _hard_cuts(_word_bounds(text, sentence_start, sentence_end), settings)


def _split_long(text: str, start: int, end: int, settings: PassageSettings) -> Iterator[tuple[int, int]]:
    """Cut one long paragraph at sentence ends into pieces of about target_words (hard cuts at word
    boundaries for sentences that alone exceed max_words or max_chars)."""
    pieces = _pieces(text, start, end, settings)
    first = next(pieces, None)
    if first is None:
        return
    current_start, current_end, current_words = first
    for piece_start, piece_end, words in pieces:
        if current_words + words > settings.target_words and current_words >= settings.min_words:
            yield current_start, current_end
            current_start, current_end, current_words = piece_start, piece_end, words
        elif (
            current_words + words > settings.max_words
            or _span_chars(text, current_start, piece_end) > settings.max_chars
        ):
            yield current_start, current_end
            current_start, current_end, current_words = piece_start, piece_end, words
        else:
            current_end, current_words = piece_end, current_words + words
    yield current_start, current_end


def _span_chars(text: str, start: int, end: int) -> int:
    """Characters from the first to the last non-space of text[start:end] (pieces keep trailing spaces)."""
    start, end = _trimmed(text, start, end)
    return end - start


_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}|(?:·\s?){4,}")


def looks_like_contents(text: str) -> bool:
    """True for table-of-contents-like text (dot leaders before page numbers): it matches every
    heading word in BM25 yet answers nothing, so search skips it."""
    leaders = _LEADER.findall(text)
    return len(leaders) >= 3 or sum(len(run) for run in leaders) > 0.2 * max(1, len(text))


def _units(text: str, settings: PassageSettings) -> Iterator[tuple[int, int, int]]:
    """(start, end, words) of each paragraph, long paragraphs cut into pieces, in order."""
    for raw_start, raw_end in _paragraph_spans(text):
        start, end = _trimmed(text, raw_start, raw_end)
        if start == end:
            continue
        words = _count_words(text, start, end)
        if words > settings.max_words or end - start > settings.max_chars:
            for piece_start, piece_end in _split_long(text, start, end, settings):
                piece_start, piece_end = _trimmed(text, piece_start, piece_end)
                yield piece_start, piece_end, _count_words(text, piece_start, piece_end)
        else:
            yield start, end, words


def split_passages(text: str, settings: PassageSettings | None = None) -> list[Passage]:
    """Passages covering every word of `text`, in order; each `passage.text == text[start:end]`."""
    settings = settings or PassageSettings()
    merged: list[tuple[int, int]] = []
    current: tuple[int, int, int] | None = None
    for start, end, words in _units(text, settings):
        if current is None:
            current = (start, end, words)
        elif (
            current[2] < settings.min_words
            and current[2] + words <= settings.max_words
            and end - current[0] <= settings.max_chars
        ):
            current = (current[0], end, current[2] + words)
        else:
            merged.append((current[0], current[1]))
            current = (start, end, words)
    if current is not None:
        if merged and current[2] < settings.min_words:
            previous_start, previous_end = merged[-1]
            previous_words = _count_words(text, previous_start, previous_end)
            if previous_words + current[2] <= settings.max_words and current[1] - previous_start <= settings.max_chars:
                merged[-1] = (previous_start, current[1])
                current = None
        if current is not None:
            merged.append((current[0], current[1]))
    return [Passage(index, start, end, text[start:end]) for index, (start, end) in enumerate(merged)]
