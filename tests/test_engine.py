"""The engine end to end with the tiny model: answers, threshold, cache, located spans, bad input."""

import json
import math
import os
import re
import shutil
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_reader import search
from qa_reader.calibration import SpanEvidence, feature_matrix
from qa_reader.config import Settings
from qa_reader.engine import FIRST_MS_PER_PASSAGE, Candidates, Engine, ReadingSpeed, TooSlow, sentence_bounds
from qa_reader.errors import UserError
from qa_reader.ingest.files import SAMPLE_BLOCK
from qa_reader.reader.build import Reader
from qa_reader.reader.predict import ContextSpan
from qa_reader.types import Document, Page
from tests.conftest import LIFE_CYCLE, VOCABULARY, text_document
from tests.support.tiny_model import add_calibration, build_model_folder


def test_answer_is_the_expected_span_with_page_and_sentence(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    result = engine.ask("What are the phases of the incident response life cycle?", [document_id])
    assert result.found and not result.from_cache
    best = result.answers[0]
    assert best.text == "preparation, detection and analysis"
    assert LIFE_CYCLE[best.char_start : best.char_end] == best.text
    assert best.page_number == 1
    assert best.sentence.startswith("The incident response life cycle has four phases")
    assert 0.5 < best.score <= 1.0


def test_repeated_question_comes_from_the_cache(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    first = engine.ask("What are the phases?", [document_id])
    again = engine.ask("  what are the PHASES ", [document_id])
    assert again.from_cache
    assert again.answers == first.answers


def test_changed_document_never_serves_stale_answers(engine):
    engine.add_document(text_document(LIFE_CYCLE))
    engine.ask("What are the phases?")
    changed = LIFE_CYCLE.replace("preparation, detection and", "preparation and")
    engine.add_document(text_document(changed, sha256="sha-changed"))
    result = engine.ask("What are the phases?")
    assert not result.from_cache
    assert result.answers[0].text == "preparation and analysis"


def _edit_keeping_size_and_mtime(path, old: str, new: str) -> None:
    """Change a file's content without changing its size or its modification time (as some tools do)."""
    assert len(old.encode()) == len(new.encode())
    before = path.stat()
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode()))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def _indexed_long_ago(path) -> None:
    """Date the file an hour back, so that indexing it now is not a racy moment (see Engine.index)."""
    hour_ago = time.time() - 3600
    os.utime(path, (hour_ago, hour_ago))


def test_an_edit_that_keeps_size_and_mtime_is_not_served_stale_answers(tmp_path, tiny_model_dir):
    notes = tmp_path / "notes.txt"
    notes.write_text(LIFE_CYCLE, encoding="utf-8")
    _indexed_long_ago(notes)
    engine = Engine(tmp_path / "library.sqlite3", tiny_model_dir)
    record = engine.index(notes)
    assert engine.ask("What are the phases?").answers[0].text == "preparation, detection and analysis"
    _edit_keeping_size_and_mtime(notes, "detection", "discovery")
    assert engine.is_stale(record)
    engine.index(notes)
    assert engine.ask("What are the phases?").answers[0].text == "preparation, discovery and analysis"
    engine.close()


def test_a_file_edited_just_as_it_was_indexed_is_hashed_in_full_next_time(tmp_path, tiny_model_dir):
    notes = tmp_path / "notes.txt"

    def filler(count: int) -> str:
        return "\n\n".join(f"Filler paragraph {n} about cats and dogs and the weather." for n in range(count))

    text = f"{filler(1500)}\n\n{LIFE_CYCLE}\n\n{filler(4500)}"
    notes.write_text(text, encoding="utf-8")
    # The edit below falls outside the blocks the sample hash reads: only a full hash sees it.
    edit, size, block = text.index("detection"), len(text), SAMPLE_BLOCK
    assert block < edit < size // 2 - block // 2 and size // 2 + block // 2 < size - block
    engine = Engine(tmp_path / "library.sqlite3", tiny_model_dir)
    engine.index(notes)  # its mtime is now: an edit in the same second would keep it
    assert engine.ask("What are the phases?").answers[0].text == "preparation, detection and analysis"
    _edit_keeping_size_and_mtime(notes, "detection", "discovery")
    engine.index(notes)
    assert engine.ask("What are the phases?").answers[0].text == "preparation, discovery and analysis"
    engine.close()


def test_below_the_threshold_the_answer_is_not_found(engine):
    document_id = engine.add_document(
        text_document("The weather is sunny. Cats and dogs.", path="/v/w.txt", sha256="w")
    )
    result = engine.ask("What are the phases?", [document_id])
    assert not result.found
    assert all(guess.score < result.threshold for guess in result.guesses)


def test_whole_library_is_searched_when_no_document_is_given(engine):
    engine.add_document(text_document("The weather is sunny.", path="/v/w.txt", sha256="w"))
    engine.add_document(text_document(LIFE_CYCLE))
    result = engine.ask("What are the phases?")
    assert result.answers[0].document_path == "/virtual/life-cycle.txt"


@pytest.mark.parametrize("question", ["", "   ", "x" * 2000])
def test_empty_or_overlong_questions_are_user_errors(engine, question):
    engine.add_document(text_document(LIFE_CYCLE))
    with pytest.raises(UserError):
        engine.ask(question)


def test_a_question_holding_undecodable_bytes_is_a_user_error(engine):
    engine.add_document(text_document(LIFE_CYCLE))
    with pytest.raises(UserError, match="not UTF-8 text"):
        engine.ask("What are the \udcff phases?")


def test_empty_library_is_a_user_error(engine):
    with pytest.raises(UserError, match="no searchable document"):
        engine.ask("What are the phases?")


def test_highlights_come_from_the_character_boxes_and_lie_inside_the_page(engine):
    text = "Intro page.\n\n" + LIFE_CYCLE
    boxes = np.full((len(text), 4), np.nan, dtype=np.float32)
    for i, char in enumerate(text):
        if not char.isspace():
            line, column = divmod(i, 60)
            boxes[i] = (50 + 6 * column, 100 + 14 * line, 56 + 6 * column, 112 + 14 * line)
    pages = (Page(0, 0, 13, 612, 792), Page(1, 13, len(text), 612, 792))
    document_id = engine.add_document(Document("/v/p.pdf", "p", "pdf", "sha-p", text, pages, char_boxes=boxes))
    best = engine.ask("What are the phases?", [document_id]).answers[0]
    assert best.page_number == 2
    assert best.highlights and all(h.page_index == 1 for h in best.highlights)
    for highlight in best.highlights:
        for x0, y0, x1, y1 in highlight.rects:
            assert 0 <= x0 < x1 <= 612 and 0 <= y0 < y1 <= 792
    span_boxes = boxes[best.char_start : best.char_end]
    assert min(r[0] for h in best.highlights for r in h.rects) == pytest.approx(np.nanmin(span_boxes[:, 0]))


def _whole_words(text: str) -> list[str]:
    """The words of a text, hyphenated words counted as their parts (the tokenizer splits at "-")."""
    return [word for word in re.split(r"[\s-]+", text) if word]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(VOCABULARY + ["cats", "dogs", ".", ",", "\n\n"]), min_size=1, max_size=300))
def test_every_answer_is_a_verbatim_span_of_its_document(engine, words):
    text = " ".join(words).strip() or "cats"
    document_id = engine.add_document(text_document(text, sha256=str(hash(text))))
    result = engine.ask("What are the phases?", [document_id])
    known_words = set(_whole_words(text))
    for answer in result.answers + result.guesses:
        assert text[answer.char_start : answer.char_end] == answer.text
        # Independently of the offsets: the answer is whole words of the text (a cut one
        # character off would begin or end inside a word or on a space).
        assert answer.text == answer.text.strip()
        assert set(_whole_words(answer.text)) <= known_words
        assert answer.sentence == text[answer.sentence_char_start : answer.sentence_char_start + len(answer.sentence)]


def test_a_bert_style_graph_gets_its_token_type_ids(tmp_path):
    folder = build_model_folder(
        tmp_path / "bert", VOCABULARY, {"preparation": 9.0}, {"analysis": 9.0}, with_token_types=True
    )
    engine = Engine(None, folder)
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    assert engine.ask("phases?", [document_id]).answers[0].text == "preparation, detection and analysis"
    engine.close()


def test_sentence_bounds_stop_at_sentence_ends_and_paragraphs():
    text = "First one. The answer is here today. Third.\n\nNext paragraph."
    start = text.index("answer")
    bounds = sentence_bounds(text, start, start + 6)
    assert text[bounds[0] : bounds[1]] == "The answer is here today."


def test_answers_never_cross_a_paragraph_break(tiny_model_dir):
    engine = Engine(None, tiny_model_dir)
    text = "Cats preparation.\n\nDogs analysis here."  # the only high-scoring pair spans the break
    document_id = engine.add_document(text_document(text, sha256="cross"))
    result = engine.ask("What are the phases?", [document_id])
    assert all("\n\n" not in a.text for a in result.answers + result.guesses)
    engine.close()


def test_cached_answers_never_run_the_model_and_remember_false_keeps_history_clean(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    assert engine.cached_answers("What are the phases?", [document_id]) is None
    assert not engine.model_loaded  # the check did not start a session
    engine.ask("What are the phases?", [document_id], remember=False)
    assert engine.history() == []
    cached = engine.cached_answers("what are the phases", [document_id])
    assert cached is not None and cached.from_cache
    assert cached.answers[0].text == "preparation, detection and analysis"


def test_a_question_over_its_time_allowance_is_not_read_unless_its_answers_are_cached(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    engine.speed.ms_per_passage = 1000.0
    with pytest.raises(TooSlow) as slow:
        engine.ask("What are the phases?", [document_id], within_ms=60)
    assert slow.value.estimate_ms == engine.estimate_ms([document_id]) == 1000.0 * engine.library.total_passages()
    assert not engine.model_loaded and engine.history() == []
    engine.ask("What are the phases?", [document_id])
    assert engine.ask("what are the phases", [document_id], within_ms=60).from_cache


def test_the_reading_speed_learns_from_questions_the_model_read(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    assert engine.speed.ms_per_passage == FIRST_MS_PER_PASSAGE
    engine.ask("What are the phases?", [document_id])
    learned = engine.speed.ms_per_passage
    assert learned != FIRST_MS_PER_PASSAGE
    engine.ask("What are the phases?", [document_id])  # from the cache: it says nothing of the speed
    assert engine.speed.ms_per_passage == learned
    speed = ReadingSpeed()
    speed.learn(20.0, 4)  # 5 ms a passage
    assert speed.ms_per_passage == (FIRST_MS_PER_PASSAGE + 5.0) / 2


def test_indexing_lets_other_calls_in_between_its_steps(engine, tmp_path):
    from tests.ingest.builders import paragraph_lines, write_pdf

    other = engine.add_document(text_document(LIFE_CYCLE))
    pages = [paragraph_lines(72, 200, [f"Page {number} of a long handbook."]) for number in range(1, 4)]
    pdf = write_pdf(tmp_path / "handbook.pdf", pages)
    answered = []

    def between_steps() -> None:  # a question asked meanwhile, over the documents indexed so far
        result = engine.ask("What are the phases?", [other])
        answered.append((result.answers[0].text, len(engine.documents())))

    record = engine.index(pdf, between_steps=between_steps)
    assert answered == [("preparation, detection and analysis", 1)] * (3 + 1)  # each page, then the passages
    assert record.page_count == 3 and len(engine.documents()) == 2


def test_overlapping_cuts_of_one_answer_are_not_listed_as_alternatives(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    result = engine.ask("What are the phases?", [document_id])
    spans = [(a.char_start, a.char_end) for a in result.answers + result.guesses]
    for i, (start, end) in enumerate(spans):
        for other_start, other_end in spans[i + 1 :]:
            assert end <= other_start or other_end <= start


def test_without_a_calibration_a_better_matching_passage_outranks_a_slightly_more_confident_span(tiny_model_dir):
    spans = [ContextSpan(0, 0, 4, 0.60, 0.1), ContextSpan(1, 0, 4, 0.40, 0.1), ContextSpan(2, 0, 4, 0.05, 0.1)]
    evidence = [SpanEvidence(f"a{i}", s.probability, 0.1, r, 0, "") for i, (s, r) in enumerate(zip(spans, (0, 3, 1)))]
    candidates = Candidates("q", spans, [10, 11, 12], {}, evidence, feature_matrix("q", evidence))
    # log 0.4 + 1.2 > log 0.6 + 0 > log 0.05 + 0.4; the score shown stays the span probability
    for weight, order in ((0.4, [1, 0, 2]), (0.0, [0, 1, 2])):
        engine = Engine(None, tiny_model_dir, Settings(retrieval_weight=weight))
        assert engine.calibrator() is None
        scores, key, supports = engine._scores(candidates)
        assert supports is None  # an uncalibrated model's threshold applies to the span probability
        assert list(np.argsort(-key, kind="stable")) == order
        assert scores == pytest.approx([0.60, 0.40, 0.05])
        engine.close()


def test_the_best_ranked_candidate_decides_whether_the_question_is_answered(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    best = engine.ask("What are the phases of the incident response life cycle?", [document_id]).answers[0]
    threshold = engine.threshold
    weak = replace(best, text="weak", score=threshold / 2)
    strong = replace(best, text="strong", score=min(1.0, threshold * 1.5))

    answered = engine._answer_set("q", [strong, weak], None, False, 0.0)
    assert [a.text for a in answered.answers] == ["strong"]
    assert [a.text for a in answered.guesses] == ["weak"]

    # A confident span ranked below a weak one (its passage matches the question worse) is not promoted.
    unsure = engine._answer_set("q", [weak, strong], None, False, 0.0)
    assert not unsure.found
    assert [a.text for a in unsure.guesses] == ["weak", "strong"]


def test_an_answered_question_lists_its_less_likely_alternatives_as_guesses_top_k_in_all(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    best = engine.ask("What are the phases of the incident response life cycle?", [document_id]).answers[0]
    threshold = engine.threshold
    above = [replace(best, text=f"sure {i}", score=min(1.0, threshold * 1.2)) for i in range(2)]
    below = [replace(best, text=f"less {i}", score=threshold / (2 + i)) for i in range(6)]
    listed = engine._answer_set("q", above + below, 5, False, 0.0)
    assert [a.text for a in listed.answers] == ["sure 0", "sure 1"]
    assert [a.text for a in listed.guesses] == ["less 0", "less 1", "less 2"]
    assert engine._answer_set("q", above + below, 2, False, 0.0).guesses == ()


def test_with_a_support_model_not_found_compares_the_support_and_the_number_shown_stays_the_probability(
    tiny_model_dir, tmp_path
):
    question = "What are the phases of the incident response life cycle?"
    shown = None
    for bias, found in ((8.0, True), (-8.0, False)):
        folder = shutil.copytree(tiny_model_dir, tmp_path / f"support{bias}")
        add_calibration(folder, {"log_probability": 1.0}, intercept=0.0, threshold=0.5)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["calibration"].update(share_slope=0.5, support_slope=1.0, support_bias=bias)
        (folder / "manifest.json").write_text(json.dumps(manifest))
        engine = Engine(None, folder)
        document_id = engine.add_document(text_document(LIFE_CYCLE))
        result = engine.ask(question, [document_id])
        listed = [*result.answers, *result.guesses]
        assert result.found is found and listed[0].text == "preparation, detection and analysis"
        # The support decides; the number shown is the same whichever way it went.
        assert all(a.support is not None and (a.support >= 0.5) is found for a in listed[:1])
        assert shown is None or listed[0].score == pytest.approx(shown)
        shown = listed[0].score
        cached = engine.ask(question, [document_id])
        assert (
            cached.from_cache
            and cached.found is found
            and [*cached.answers, *cached.guesses][0].support == listed[0].support
        )
        engine.close()


INCIDENTS = "Incident response has phases: preparation, detection and analysis. The team handles incidents."
BAKING = "Baking bread has phases: preparation, kneading and analysis. The baker bakes bread daily."


@pytest.fixture
def calibrated_dir(tiny_model_dir, tmp_path):
    folder = shutil.copytree(tiny_model_dir, tmp_path / "calibrated")
    return add_calibration(folder, {"log_probability": 1.0, "bm25": 1.5}, intercept=0.0, threshold=0.2)


@pytest.mark.parametrize(
    ("question", "expected"), [("incident response", "/v/incidents.txt"), ("baking bread", "/v/bread.txt")]
)
def test_with_two_documents_the_one_the_question_names_answers_first(calibrated_dir, question, expected):
    engine = Engine(None, calibrated_dir)
    engine.add_document(text_document(INCIDENTS, path="/v/incidents.txt", sha256="incidents"))
    engine.add_document(text_document(BAKING, path="/v/bread.txt", sha256="bread"))
    for i in range(3):  # BM25 needs a few documents to tell a rare word from a common one
        engine.add_document(text_document(f"The weather is sunny {i}.", path=f"/v/w{i}.txt", sha256=f"w{i}"))
    result = engine.ask(f"What are the phases of {question}?")
    listed = result.answers + result.guesses
    assert listed[0].document_path == expected and listed[0].text.startswith("preparation")
    # Read exhaustively, the other document's answer is listed too, below.
    every = engine.candidates([f"What are the phases of {question}?"], exhaustive=True)
    [exhaustive] = engine.answer_sets(every)
    alternatives = (exhaustive.answers + exhaustive.guesses)[1:]
    assert (exhaustive.answers + exhaustive.guesses)[0] == listed[0]
    assert any(a.document_path != expected and a.text.startswith("preparation") for a in alternatives)
    for answers in (listed, exhaustive.answers + exhaustive.guesses):
        scores = [a.score for a in answers]
        assert scores == sorted(scores, reverse=True)  # the list is ordered by the score shown
    engine.close()


def test_identical_text_in_two_documents_is_listed_once_per_document(calibrated_dir):
    engine = Engine(None, calibrated_dir)
    first = engine.add_document(text_document(LIFE_CYCLE, path="/v/a.txt", sha256="a"))
    second = engine.add_document(text_document(LIFE_CYCLE, path="/v/b.txt", sha256="b"))
    result = engine.ask("What are the phases of the incident response life cycle?")
    listed = result.answers + result.guesses
    phases = [a.document_id for a in listed if a.text == "preparation, detection and analysis"]
    assert sorted(phases) == sorted([first, second])
    per_document = [(a.document_id, a.text) for a in listed]
    assert len(per_document) == len(set(per_document))
    engine.close()


def test_a_broken_calibration_falls_back_to_span_probabilities(calibrated_dir):
    manifest = json.loads((calibrated_dir / "manifest.json").read_text())
    manifest["calibration"]["features"][0] = "not_a_feature"
    (calibrated_dir / "manifest.json").write_text(json.dumps(manifest))
    engine = Engine(None, calibrated_dir)
    assert engine.calibrator() is None and engine.threshold == pytest.approx(0.05)
    engine.close()


def test_the_bm25_feature_is_scaled_by_the_log_of_the_library_size(engine):
    document_id = engine.add_document(text_document(INCIDENTS, path="/v/incidents.txt", sha256="incidents"))
    for i in range(4):
        engine.add_document(text_document(f"The weather is sunny {i}.", path=f"/v/w{i}.txt", sha256=f"w{i}"))
    candidates = engine.candidates(["What are the phases of incident response?"], [document_id])[0]
    passages = engine.library.total_passages()
    assert passages == 5 and candidates.bm25_scale == pytest.approx(math.log(6))
    raw = search.relevance(engine.library, candidates.question, candidates.passage_ids)
    assert raw and {e.relevance for e in candidates.evidence} == {v / math.log(6) for v in raw.values()}


def test_answers_carry_the_printed_page_label_of_a_pdf(tmp_path, tiny_model_dir):
    import pymupdf

    path = tmp_path / "labelled.pdf"
    document = pymupdf.open()
    for text in ("Front matter that says nothing here.", LIFE_CYCLE.replace("\n\n", "\n")):
        page = document.new_page(width=612, height=792)
        page.insert_textbox(pymupdf.Rect(72, 300, 540, 720), text, fontsize=12, fontname="helv")
    # The printed numbering starts at 46 on the first page, as in a chapter cut from a longer book.
    document.set_page_labels([{"startpage": 0, "prefix": "", "style": "D", "firstpagenum": 46}])
    document.save(path)
    document.close()
    engine = Engine(tmp_path / "library.sqlite3", tiny_model_dir)
    try:
        record = engine.index(path)
        best = engine.ask("What are the phases?", [record.id]).answers[0]
        assert (best.page_number, best.page_label) == (2, "47")
        assert best.page_reference == "p. 47 (PDF page 2)"
        cached = engine.ask("What are the phases?", [record.id])
        assert cached.from_cache and cached.answers[0].page_label == "47"
    finally:
        engine.close()


def test_without_page_labels_the_reference_is_the_page_number(engine):
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    best = engine.ask("What are the phases?", [document_id]).answers[0]
    assert best.page_label == "" and best.page_reference == "p. 1"


FILLER = ("The weather in the incident room is sunny and the cats and dogs sleep there all day. " * 8).strip()


def _passages_read(monkeypatch) -> list[int]:
    """Count the passages every read of the engine's reader is given (appended to the returned list)."""
    counted: list[int] = []
    original = Reader.read

    def counting(self, requests, **kwargs):
        counted.append(sum(len(request.contexts) for request in requests))
        return original(self, requests, **kwargs)

    monkeypatch.setattr(Reader, "read", counting)
    return counted


@pytest.mark.parametrize(("exhaustive", "lanes"), [(False, 1), (False, 2), (True, 2)])
def test_passages_that_cannot_hold_the_first_answer_are_left_unread(
    tiny_model_dir, tmp_path, monkeypatch, exhaustive, lanes
):
    folder = shutil.copytree(tiny_model_dir, tmp_path / "bounded")
    add_calibration(
        folder, {"log_probability": 0.2, "bm25": 3.0, "null_probability": -1.0}, intercept=0.0, threshold=0.2
    )
    engine = Engine(None, folder, Settings(threads=2, lanes=lanes))
    answer_passage = LIFE_CYCLE.split("\n\n")[1] + " " + FILLER
    document_id = engine.add_document(text_document("\n\n".join([answer_passage] + [FILLER] * 6)))
    question = "What are the phases of the incident response life cycle?"
    counted = _passages_read(monkeypatch)
    pruned = engine.candidates([question], [document_id], exhaustive=exhaustive)[0]
    every = engine.candidates([question], [document_id], exhaustive=True)[0]
    assert len(every.passage_ids) == 7 and counted[-1] == 7
    read = sum(counted[:-1])
    assert read == 7 if exhaustive else read < 7
    if not exhaustive:  # a round a read: one passage, then twice as many each round, whatever the lanes
        rounds = counted[:-1]
        assert rounds == [min(7 - sum(rounds[:k]), 2**k) for k in range(len(rounds))]
    first, alone = (engine.answer_sets([c], [document_id])[0] for c in (pruned, every))
    assert first.found == alone.found and first.answers[0].text == alone.answers[0].text
    assert first.answers[0].text == "preparation, detection and analysis"
    engine.close()


def test_a_calibration_that_cannot_bound_a_passage_reads_every_one(tiny_model_dir, tmp_path, monkeypatch):
    folder = shutil.copytree(tiny_model_dir, tmp_path / "unbounded")
    add_calibration(folder, {"log_probability": 0.2, "bm25": 3.0, "words": 0.1}, intercept=0.0, threshold=0.2)
    engine = Engine(None, folder)
    answer_passage = LIFE_CYCLE.split("\n\n")[1] + " " + FILLER
    document_id = engine.add_document(text_document("\n\n".join([answer_passage] + [FILLER] * 6)))
    counted = _passages_read(monkeypatch)
    engine.ask("What are the phases of the incident response life cycle?", [document_id])
    assert counted == [7]
    engine.close()
