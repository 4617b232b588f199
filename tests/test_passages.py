"""Passages: exact offsets, sizes, every word kept."""

import re
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_reader import passages as passages_module
from qa_reader.passages import PassageSettings, looks_like_contents, split_passages

words = st.text(alphabet="abcdefghij", min_size=1, max_size=8)
sentences = st.lists(words, min_size=1, max_size=40).map(lambda ws: " ".join(ws) + ".")
paragraphs = st.lists(sentences, min_size=1, max_size=12).map(" ".join)
documents = st.lists(paragraphs, min_size=1, max_size=15).map("\n\n".join)


@settings(max_examples=80, deadline=None)
@given(documents)
def test_passage_text_is_its_slice_and_every_word_is_kept_in_order(text):
    passages = split_passages(text)
    for passage in passages:
        assert passage.text == text[passage.char_start : passage.char_end]
    assert [p.index for p in passages] == list(range(len(passages)))
    starts = [p.char_start for p in passages]
    assert starts == sorted(starts)
    assert " ".join(p.text for p in passages).split() == text.split()


@settings(max_examples=60, deadline=None)
@given(documents)
def test_no_passage_exceeds_the_maximum(text):
    limits = PassageSettings()
    for passage in split_passages(text, limits):
        assert len(passage.text.split()) <= limits.max_words


def test_long_paragraph_is_split_at_sentence_ends():
    text = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(80))
    passages = split_passages(text)
    assert len(passages) > 1
    for passage in passages[:-1]:
        assert passage.text.endswith(".")
        assert 60 <= len(passage.text.split()) <= 200


def test_short_fragments_are_merged():
    text = "\n\n".join(f"Heading {i}" for i in range(30))
    passages = split_passages(text)
    assert len(passages) < 30
    assert all(len(p.text.split()) >= 60 for p in passages[:-1])


def test_a_huge_single_line_without_punctuation_is_cut_at_words():
    text = "word " * 50_000
    passages = split_passages(text)
    assert max(len(p.text.split()) for p in passages) <= 200
    assert sum(len(p.text.split()) for p in passages) == 50_000


def test_empty_and_blank_text_give_no_passages():
    assert split_passages("") == []
    assert split_passages(" \n\n \n") == []


def test_table_of_contents_is_recognised_and_prose_is_not():
    contents = (
        "1. Introduction .......................... 1\n2. Organizing a Capability .............. 6\n"
        "3. Handling an Incident . . . . . . . . . . 21\nAppendix A— Scenarios …………… 49"
    )
    assert looks_like_contents(contents)
    assert not looks_like_contents("The team met at 9 a.m. on Monday... and then, well... it rained.")


def _words(count: int, stem: str) -> str:
    """A paragraph of `count` distinct words ending with a full stop."""
    return " ".join(f"{stem}{i}" for i in range(count)) + "."


def test_a_short_last_paragraph_joins_the_passage_before_it():
    text = _words(100, "body") + "\n\n" + _words(5, "tail")
    [passage] = split_passages(text)
    assert passage.text == text


def test_a_short_last_paragraph_stays_apart_when_joining_would_pass_the_maximum():
    text = _words(190, "body") + "\n\n" + _words(50, "tail")
    passages = split_passages(text)
    assert [len(p.text.split()) for p in passages] == [190, 50]


def test_a_short_paragraph_is_not_merged_into_a_following_one_past_the_maximum():
    text = _words(50, "head") + "\n\n" + _words(190, "body")
    passages = split_passages(text)
    assert [len(p.text.split()) for p in passages] == [50, 190]


def test_question_and_exclamation_marks_end_sentences_too():
    text = " ".join(f"Is part {i} of the machine ready for use? Yes, part {i} is ready!" for i in range(40))
    passages = split_passages(text)
    assert len(passages) > 1
    for passage in passages[:-1]:
        assert passage.text.endswith(("?", "!"))


# Small limits (and long words of a few characters) so that short generated texts reach every rule: in
# the first the character limit binds before the word limit, in the second the other way round.
SMALL_LIMITS = [
    PassageSettings(min_words=3, target_words=6, max_words=10, max_chars=40),
    PassageSettings(min_words=2, target_words=5, max_words=8, max_chars=60),
]
SMALL_WORD_CHARS = 7
# Mostly plain spaces, so that sentences and paragraphs grow past the limits.
spaces = st.sampled_from([" "] * 6 + ["\n", "\n\n", " \n \n", "\t", "\u00a0", "\r\n\r\n"])
short_words = st.text(alphabet="abcdefghij", min_size=1, max_size=5)
long_words = st.text(alphabet="abcdefghij,", min_size=SMALL_WORD_CHARS + 1, max_size=4 * SMALL_WORD_CHARS)  # cut up
sentence_ends = st.sampled_from(["end.", "end!", "end?", 'end."', "end.)", "...", "é."])
tokens = st.one_of(short_words, short_words, long_words, sentence_ends)
texts = st.lists(st.tuples(st.one_of(st.just(""), spaces), tokens, spaces), max_size=60).map(
    lambda parts: "".join(before + token + after for before, token, after in parts)
)


def _word_starts_and_ends(text: str) -> tuple[set[int], set[int]]:
    """Where a passage may begin and end: at a word's edges, or between pieces of a long word."""
    starts, ends = set(), set()
    for match in re.finditer(r"\S+", text):
        starts.update(range(match.start(), match.end(), SMALL_WORD_CHARS))
        ends.update(range(match.start() + SMALL_WORD_CHARS, match.end(), SMALL_WORD_CHARS))
        ends.add(match.end())
    return starts, ends


@pytest.mark.parametrize("limits", SMALL_LIMITS, ids=["characters-bind", "words-bind"])
@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_passages_tile_the_text_at_word_bounds_within_the_limits(limits, text):
    with patch.object(passages_module, "MAX_WORD_CHARS", SMALL_WORD_CHARS):
        passages = split_passages(text, limits)
    owners = [0] * len(text)
    for passage in passages:
        assert passage.text == text[passage.char_start : passage.char_end]
        for position in range(passage.char_start, passage.char_end):
            owners[position] += 1
    # Passages never overlap, and every non-space character is in one of them.
    assert [count for char, count in zip(text, owners) if not char.isspace()] == [
        1 for char in text if not char.isspace()
    ]
    assert max(owners, default=0) <= 1
    word_starts, word_ends = _word_starts_and_ends(text)
    for passage in passages:
        assert passage.char_start in word_starts and passage.char_end in word_ends, passage
        assert passage.char_end - passage.char_start <= limits.max_chars, passage
        pieces = sum(-(-len(word) // SMALL_WORD_CHARS) for word in passage.text.split())
        assert pieces <= limits.max_words, passage
    assert [p.char_start for p in passages] == sorted(p.char_start for p in passages)


def test_a_paragraph_of_exactly_the_maximum_stays_whole_and_one_word_more_is_cut_at_the_target():
    limits = PassageSettings()
    exactly = _words(limits.max_words, "w")
    assert [len(p.text.split()) for p in split_passages(exactly)] == [limits.max_words]
    # One sentence too long: hard cuts of target_words, and the rest (too big to join back) apart.
    over = _words(limits.max_words + 1, "w")
    assert [len(p.text.split()) for p in split_passages(over)] == [limits.target_words, 51]


def test_a_paragraph_of_exactly_the_character_limit_stays_whole():
    limits = PassageSettings()
    words = ["x" * 19] * 100  # 100 words of 19 characters and 99 spaces: 1,999 characters
    text = " ".join(words) + "."
    assert len(text) == limits.max_chars
    assert [p.text for p in split_passages(text)] == [text]
    assert len(split_passages(text + "y")) == 2


def test_contents_take_three_leaders_or_leaders_over_a_fifth_of_the_text():
    prose = "This guide explains how the team handles an incident from the first report to the review. " * 3
    assert looks_like_contents(prose + "Scope .... 1 Roles .... 2 Tools .... 3")
    assert not looks_like_contents(prose + "Scope .... 1 Roles .... 2")
    # One leader: contents only when it is more than a fifth of the text.
    assert looks_like_contents("Introduction ........ 1")
    assert not looks_like_contents("abcdefghijklmnop....")  # 4 of 20 characters: exactly a fifth
    assert not looks_like_contents("")


def test_short_paragraphs_merge_up_to_exactly_the_maximum_and_a_paragraph_of_the_minimum_stands_alone():
    assert [len(p.text.split()) for p in split_passages(_words(50, "a") + "\n\n" + _words(150, "b"))] == [200]
    assert [len(p.text.split()) for p in split_passages(_words(60, "a") + "\n\n" + _words(100, "b"))] == [60, 100]
    assert [len(p.text.split()) for p in split_passages(_words(100, "a") + "\n\n" + _words(60, "b"))] == [100, 60]
    # A short last paragraph joins the one before it up to exactly the maximum too.
    assert [len(p.text.split()) for p in split_passages(_words(150, "a") + "\n\n" + _words(50, "b"))] == [200]


def test_short_paragraphs_far_into_a_document_merge_as_they_do_at_its_start():
    # The character limits count from where a passage starts, not from the start of the document.
    long_words = " ".join("x" * 14 for _ in range(100)) + "."  # 100 words, 1,500 characters
    middle = [_words(10, "p"), _words(10, "q"), _words(100, "r")]
    passages = split_passages("\n\n".join([long_words, *middle]))
    assert [len(p.text.split()) for p in passages] == [100, 120]
    last = [_words(100, "r"), _words(10, "s")]
    passages = split_passages("\n\n".join([long_words, *last]))
    assert [len(p.text.split()) for p in passages] == [100, 110]


def _two_sentences(words: int, characters: int) -> str:
    """A paragraph of two sentences of words / 2 words each, exactly `characters` long."""
    half = ["w" * 8] * (words // 2 - 1)
    first, second = " ".join([*half, "end."]), " ".join([*half, "x"])
    second += "x" * (characters - len(first) - 1 - len(second) - 1) + "."
    return first + " " + second


def test_a_paragraph_within_both_limits_is_never_cut_at_its_sentences():
    exact_words = _two_sentences(PassageSettings().max_words, 1500)
    assert [len(p.text.split()) for p in split_passages(exact_words)] == [200]
    # Exactly at the character limit, after another paragraph (the limit is the paragraph's own length).
    exact_characters = _two_sentences(160, PassageSettings().max_chars)
    assert len(exact_characters) == PassageSettings().max_chars
    passages = split_passages(_words(100, "a") + "\n\n" + exact_characters)
    assert [len(p.text.split()) for p in passages] == [100, 160]


def test_a_sentence_of_exactly_the_maximum_inside_a_long_paragraph_stays_whole():
    text = _words(200, "s") + " " + _words(10, "t")
    assert [len(p.text.split()) for p in split_passages(text)] == [200, 10]


def test_sentences_of_a_long_paragraph_are_gathered_up_to_the_target():
    # 80 sentences of 7 words: passages of 147 words (a 22nd sentence would pass 150), the rest at the end.
    limits = PassageSettings()
    text = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(80))
    sizes = [len(p.text.split()) for p in split_passages(text, limits)]
    assert sizes == [147, 147, 147, 119]


def _sentence(words: int, characters: int, letter: str) -> str:
    """One sentence of `words` words, exactly `characters` long: its last word takes up the slack."""
    size = (characters - words) // words  # words - 1 spaces and a full stop
    last = characters - words - size * (words - 1)
    return " ".join([letter * size] * (words - 1) + [letter * last]) + "."


def test_a_sentence_of_exactly_the_character_limit_inside_a_long_paragraph_stays_whole():
    limits = PassageSettings()
    exact = _sentence(160, limits.max_chars, "s")
    assert len(exact) == limits.max_chars
    passages = split_passages(exact + " " + _words(10, "t"))
    assert [p.text for p in passages] == [exact, _words(10, "t")]


def test_an_overlong_sentence_is_cut_into_pieces_of_exactly_the_character_limit():
    limits = PassageSettings()
    words = ["x" * 19] * 99 + ["y" * 20]  # 100 words, 2,000 characters with the spaces between them
    first = " ".join(words)
    assert len(first) == limits.max_chars
    passages = split_passages(first + " " + _words(10, "z"))
    assert [p.text for p in passages] == [first, _words(10, "z")]


def test_sentences_of_a_long_paragraph_are_gathered_up_to_exactly_the_character_limit():
    limits = PassageSettings()
    together = _sentence(70, 990, "a") + " " + _sentence(70, 1009, "b")
    assert len(together) == limits.max_chars
    passages = split_passages(together + " " + _words(10, "c"))
    assert [p.text for p in passages] == [together, _words(10, "c")]


def test_sentences_of_a_long_paragraph_are_gathered_up_to_exactly_the_target():
    text = " ".join(_words(10, f"s{i}x") for i in range(30))
    assert [len(p.text.split()) for p in split_passages(text)] == [150, 150]


def test_a_run_of_exactly_the_minimum_ends_where_the_next_sentence_would_pass_the_target():
    text = " ".join([_words(60, "a"), _words(100, "b"), _words(100, "c")])
    assert [len(p.text.split()) for p in split_passages(text)] == [60, 100, 100]


def test_with_the_target_at_the_maximum_sentences_are_gathered_up_to_exactly_the_maximum():
    limits = PassageSettings(target_words=200)
    text = " ".join([_words(100, "a"), _words(100, "b"), _words(50, "c")])
    assert [len(p.text.split()) for p in split_passages(text, limits)] == [200, 50]


def test_a_long_paragraph_far_into_a_document_is_cut_as_at_its_start():
    # A sentence of 100 words, then one too long for a passage: cut at the target, its rest apart.
    paragraph = _words(100, "a") + " " + _words(201, "b")
    alone = [p.text for p in split_passages(paragraph)]
    assert [len(text.split()) for text in alone] == [100, 150, 51]
    after = split_passages(_sentence(100, 1900, "p") + "\n\n" + paragraph)
    assert [p.text for p in after][1:] == alone


def test_paragraphs_merge_up_to_exactly_the_character_limit():
    limits = PassageSettings()
    short, long = _sentence(50, 500, "a"), _sentence(100, 1498, "b")
    assert len(short + "\n\n" + long) == limits.max_chars
    assert [p.text for p in split_passages(short + "\n\n" + long)] == [short + "\n\n" + long]
    assert [p.text for p in split_passages(long + "\n\n" + short)] == [long + "\n\n" + short]
    # One character more and they stay apart, whichever comes first.
    longer = long[:-1] + "bb."
    assert [p.text for p in split_passages(short + "\n\n" + longer)] == [short, longer]
    assert [p.text for p in split_passages(longer + "\n\n" + short)] == [longer, short]
