"""Whole-document evaluation (right paragraph, refusals, calibration error, the plot) and the baseline reader."""

import json
import math
import shutil
import sys
from dataclasses import replace

import pytest

from qa_reader import squad
from qa_reader.baseline import sliding_window_answer
from qa_reader.config import Settings
from qa_reader.errors import UserError
from qa_reader.evaluate import (
    DocumentOutcome,
    EvalReport,
    Prediction,
    document_report,
    evaluate_documents,
    evaluate_paragraphs,
)
from qa_reader.training.plots import reliability_plot
from tests.support.tiny_model import add_calibration

TEAM = "The incident response process has several phases. It starts with an incident response team."
PHASES = "The incident response life cycle has four phases: preparation, detection and analysis, and recovery."


def _question(qid: str, context: str, paragraph: int, question: str, answer: str | None) -> squad.Question:
    answers = (answer,) if answer else ()
    starts = (context.index(answer),) if answer else ()
    return squad.Question(qid, "Incidents", context, question, answers, starts, paragraph)


QUESTIONS = [
    _question("q1", PHASES, 1, "What are the phases?", "preparation, detection and analysis"),
    _question("q2", TEAM, 0, "Who is on the team?", "incident response team"),
    _question("q3", TEAM, 0, "What colour is the sky?", None),  # SQuAD 2.0 style: not in the text
]


class _FixedReader:
    """Answers every question with the same text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def predict(self, question: str, context: str) -> Prediction:
        return Prediction(self.text, 0.5, 0.1)


def test_paragraph_scores_average_exact_match_and_f1_apart():
    # Against "preparation, detection and analysis": q1 exact, q2 no overlap, a partial answer
    # (4 predicted tokens, 3 gold ones, all 3 shared: P = 3/4, R = 1, F1 = 6/7).
    partial = _question("q4", PHASES, 1, "What follows preparation?", "detection and analysis")
    report, predictions = evaluate_paragraphs(
        _FixedReader("preparation, detection and analysis"), [QUESTIONS[0], QUESTIONS[1], partial]
    )
    assert [p.text for p in predictions] == ["preparation, detection and analysis"] * 3
    assert report.questions == 3
    assert report.exact_match == pytest.approx(100 / 3)
    assert report.f1 == pytest.approx(100 * (1 + 0 + 6 / 7) / 3)


def test_document_level_outcomes_know_the_right_paragraph_and_the_unanswerable(tiny_model_dir):
    evaluation = evaluate_documents(tiny_model_dir, QUESTIONS, compare_uncalibrated=True)
    q1, q2, q3 = evaluation.outcomes
    assert q1.text == "preparation, detection and analysis" and q1.right_paragraph and q1.f1 == 1.0
    assert q2.text == q1.text and not q2.right_paragraph and q2.f1 == 0.0  # the tiny model only knows phases
    assert not q3.answerable and q3.f1 == 0.0
    report = evaluation.report
    assert (report.questions, report.answerable) == (3, 2)
    assert report.right_paragraph == 50.0 and report.exact_match == 50.0
    assert report.unanswerable_refused == 0.0  # the tiny model is sure of its phases everywhere
    assert evaluation.uncalibrated is not None and evaluation.uncalibrated.f1 == report.f1  # no calibration here


def test_every_nth_question_is_asked_of_whole_articles(tiny_model_dir):
    evaluation = evaluate_documents(tiny_model_dir, QUESTIONS, every=2)
    assert [o.text for o in evaluation.outcomes][0] == "preparation, detection and analysis"
    assert evaluation.report.questions == 2  # q1 and q3 (the article's questions in file order: q1, q2, q3)


def test_the_report_counts_refusals_and_calibration_error():
    outcomes = [
        DocumentOutcome(True, "a", 0.9, True, True, 1.0, 1.0),
        DocumentOutcome(True, "b", 0.2, False, False, 0.0, 0.0),
        DocumentOutcome(False, "c", 0.1, False, False, 0.0, 0.0),
        DocumentOutcome(False, "d", 0.6, True, False, 0.0, 0.0),
    ]
    report = document_report(outcomes, wall_s=2.0)
    assert report.f1 == 50.0 and report.f1_with_refusals == 50.0 and report.answerable_refused == 50.0
    assert report.unanswerable_refused == 50.0
    assert report.ece == pytest.approx(0.5 * 0.1 + 0.5 * 0.2)
    assert report.ms_per_question == 500.0


def test_the_reliability_plot_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    outcomes = [DocumentOutcome(True, "a", s / 10, True, True, float(s > 5), float(s > 5)) for s in range(10)]
    ece = reliability_plot(outcomes, tmp_path / "r.png", "test")
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 0.0 <= ece <= 1.0


def test_without_matplotlib_the_plot_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(UserError, match="train extra"):
        reliability_plot([], tmp_path / "r.png", "test")


def test_the_baseline_answers_from_the_sentence_with_most_question_words():
    text = "Cats sleep all day. " + PHASES + " Dogs bark at night."
    answer = sliding_window_answer("What phases does the incident response life cycle have?", text)
    assert text[answer.char_start : answer.char_end] == "preparation, detection and analysis, and recovery"
    assert answer.score > 0
    other = sliding_window_answer("When do dogs bark?", text)
    assert text[other.char_start : other.char_end] == "night"


def test_the_baseline_on_empty_text():
    assert sliding_window_answer("Why?", "  ") == (sliding_window_answer("Why?", ""))


def test_the_baseline_weighs_words_as_the_sentences_split_them():
    text = "Version 3.4 came out. 4 people wrote it."  # "3.4" splits into "3." and "4" at the full stop
    answer = sliding_window_answer("How many people wrote version 3.4?", text)
    assert text[answer.char_start : answer.char_end] in {"4", "came out"}


def test_the_no_answer_threshold_trades_refusals_against_answers():
    from qa_reader.evaluate import calibrate_threshold, threshold_outcome

    # q1 right at 0.9, q2 wrong at 0.4, q3 (unanswerable) answered at 0.3.
    predictions = [
        Prediction("preparation, detection and analysis", 0.9, 0.0),
        Prediction("four phases", 0.4, 0.0),
        Prediction("the sky", 0.3, 0.0),
    ]
    everything = threshold_outcome(predictions, QUESTIONS, 0.0)
    assert everything.f1 == pytest.approx(100 / 3) and everything.no_answer_accuracy == 0.0
    assert everything.exact_match == pytest.approx(100 / 3)  # answering the unanswerable q3 is no exact match
    partial = threshold_outcome([Prediction("preparation, detection", 0.9, 0.0)], QUESTIONS[:1], 0.0)
    assert (partial.exact_match, partial.f1) == (0.0, pytest.approx(200 / 3))
    strict = threshold_outcome(predictions, QUESTIONS, 0.35)  # refuses q3 only: right to
    assert strict.no_answer_accuracy == 100.0 and strict.has_answer_f1 == 50.0
    assert strict.f1 == pytest.approx(200 / 3)
    best = calibrate_threshold(predictions, QUESTIONS)
    assert best.threshold == 0.4 and best.f1 == pytest.approx(200 / 3)  # the first threshold that reaches it
    assert threshold_outcome(predictions, QUESTIONS, 1.01).f1 == pytest.approx(100 / 3)  # refuses all


class _Clock:
    """A stand-in for time.perf_counter that only moves when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_paragraph_timings_are_per_question_in_milliseconds_with_their_percentiles(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr("qa_reader.evaluate.time.perf_counter", clock)
    steps = iter(range(1, 11))  # the n-th question takes n * 10.1234 ms

    class _TimedReader:
        def predict(self, question: str, context: str) -> Prediction:
            clock.now += next(steps) * 0.0101234
            return Prediction("preparation, detection", 0.5, 0.1)

    progress: list[tuple[int, int]] = []
    exact = _question("q5", PHASES, 1, "What comes first?", "preparation, detection")
    questions = [QUESTIONS[0]] * 7 + [exact] * 3
    report, _ = evaluate_paragraphs(_TimedReader(), questions, lambda done, total: progress.append((done, total)))

    assert progress == [(number, 10) for number in range(1, 11)]
    assert report.ms_mean == pytest.approx(55.6787)
    assert report.ms_p50 == pytest.approx(55.6787)
    assert report.ms_p90 == pytest.approx(92.12294)
    assert report.questions_per_second == pytest.approx(10 / 0.556787)
    # Three exact answers in ten; the others are 2 of their 4 gold words (F1 = 2 * 1 * 1/2 / (1 + 1/2) = 2/3).
    assert report.as_dict() == {
        "exact_match": 30.0,
        "f1": 76.67,
        "questions": 10,
        "questions_per_second": 17.96,
        "ms_mean": 55.68,
        "ms_p50": 55.68,
        "ms_p90": 92.12,
    }


def test_a_report_of_no_elapsed_time_has_no_speed(monkeypatch):
    monkeypatch.setattr("qa_reader.evaluate.time.perf_counter", _Clock())
    report, _ = evaluate_paragraphs(_FixedReader("four"), [QUESTIONS[0]])
    assert report.questions_per_second == 0.0 and report.ms_mean == 0.0


def test_the_baseline_paragraph_reader_gives_its_span_and_never_a_no_answer():
    from qa_reader.evaluate import BaselineParagraphReader

    expected = sliding_window_answer("What are the phases of the life cycle?", PHASES)
    prediction = BaselineParagraphReader().predict("What are the phases of the life cycle?", PHASES)
    assert prediction == Prediction(PHASES[expected.char_start : expected.char_end], expected.score, 0.0)
    assert prediction.text


def test_each_article_becomes_one_document_of_its_paragraphs_in_order():
    from qa_reader.evaluate import article_documents

    other = squad.Question("x1", "Weather", "It rains.", "What does it do?", ("rains",), (3,), 5)
    articles = article_documents([QUESTIONS[0], other, QUESTIONS[1], QUESTIONS[2]])
    assert list(articles) == ["Incidents", "Weather"]
    document, asked = articles["Incidents"]
    # Paragraphs in the order their questions come, each once, joined by a blank line.
    assert document.text == PHASES + "\n\n" + TEAM
    assert (document.path, document.title, document.format, document.sha256) == (
        "squad://Incidents",
        "Incidents",
        "txt",
        "squad:Incidents",
    )
    assert [(page.page_index, page.char_start, page.char_end) for page in document.pages] == [
        (0, 0, len(document.text))
    ]
    assert asked == [QUESTIONS[0], QUESTIONS[1], QUESTIONS[2]]
    assert articles["Weather"][0].text == "It rains." and articles["Weather"][1] == [other]


def test_the_baseline_on_whole_articles_knows_which_paragraph_it_answered_from(tmp_path):
    # The baseline picks the sentence sharing most words with the question; no model is loaded.
    questions = [
        _question("b1", TEAM, 0, "Which phases does the incident response life cycle have?", "several phases"),
        _question("b2", PHASES, 1, "What are the four phases of the life cycle?", "preparation"),
    ]
    progress: list[tuple[int, int]] = []
    evaluation = evaluate_documents(
        tmp_path / "no-model", questions, reader="baseline", progress=lambda done, total: progress.append((done, total))
    )
    first, second = evaluation.outcomes
    assert first.text in PHASES and not first.right_paragraph and first.found and first.f1 == 0.0
    assert second.text in PHASES and second.right_paragraph and second.found
    assert progress == [(2, 2)]
    assert evaluation.uncalibrated is None


def test_the_right_paragraph_runs_from_its_first_character_to_its_last():
    from qa_reader.evaluate import _outcome

    bounds = {0: (0, 10), 1: (12, 20)}
    question = _question("p", PHASES, 1, "What are the phases?", "preparation")
    where = {start: _outcome(question, "x", 0.5, True, start, bounds).right_paragraph for start in (11, 12, 19, 20)}
    assert where == {11: False, 12: True, 19: True, 20: False}


def test_threshold_figures_without_answerable_or_without_unanswerable_questions():
    from qa_reader.evaluate import threshold_outcome

    answerable_only = threshold_outcome([Prediction("four phases", 0.2, 0.0)], [QUESTIONS[0]], 0.5)
    assert answerable_only.no_answer_accuracy == 0.0 and answerable_only.has_answer_f1 == 0.0
    assert answerable_only.questions == 1 and answerable_only.threshold == 0.5
    unanswerable_only = threshold_outcome([Prediction("the sky", 0.2, 0.0)], [QUESTIONS[2]], 0.5)
    assert unanswerable_only.has_answer_f1 == 0.0 and unanswerable_only.no_answer_accuracy == 100.0
    assert (unanswerable_only.f1, unanswerable_only.exact_match) == (100.0, 100.0)


def test_the_threshold_search_tries_answering_everything_and_nothing():
    from qa_reader.evaluate import calibrate_threshold

    # Every question unanswerable: refusing all (1.01, above any probability) is best.
    refuse = calibrate_threshold([Prediction("x", 1.0, 0.0), Prediction("y", 0.7, 0.0)], [QUESTIONS[2]] * 2)
    assert refuse.threshold == 1.01 and refuse.f1 == 100.0
    # Every answer right: answering all (0.0) is best, and the first threshold to reach it.
    right = Prediction("preparation, detection and analysis", 0.3, 0.0)
    answer = calibrate_threshold([right, right], [QUESTIONS[0]] * 2)
    assert answer.threshold == 0.0 and answer.exact_match == 100.0 and answer.questions == 2


def test_load_questions_says_what_is_wrong_with_the_file(tmp_path):
    from qa_reader.evaluate import load_questions

    with pytest.raises(UserError, match="does not exist"):
        load_questions(tmp_path / "missing.json")
    for name, content in (("broken.json", "{"), ("other.json", '{"rows": []}'), ("latin.json", b"\xff\xfe{")):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(UserError, match="is not a SQuAD JSON file"):
            load_questions(path)
    empty = tmp_path / "empty.json"
    empty.write_text('{"data": []}')
    with pytest.raises(UserError, match="holds no questions"):
        load_questions(empty)


def test_load_questions_keeps_the_first_ones_up_to_the_limit(tmp_path):
    from qa_reader.evaluate import load_questions

    qas = [{"id": str(n), "question": f"Q{n}?", "answers": []} for n in range(5)]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"data": [{"title": "T", "paragraphs": [{"context": "C.", "qas": qas}]}]}))
    assert [q.id for q in load_questions(path, limit=2)] == ["0", "1"]
    assert len(load_questions(path)) == 5
    with pytest.raises(UserError, match="holds no questions"):
        load_questions(path, limit=0)


def _outcome_of(answerable: bool, found: bool, f1: float, score: float = 0.5) -> DocumentOutcome:
    return DocumentOutcome(answerable, "x", score, found, True, float(f1 == 1.0), f1)


def test_the_document_report_times_questions_and_rounds_its_figures_to_four_places():
    outcomes = [_outcome_of(True, True, 1.0), _outcome_of(True, False, 1.0), _outcome_of(True, True, 0.0)]
    report = document_report(outcomes, wall_s=2.0)
    assert report.questions_per_second == 1.5 and report.ms_per_question == pytest.approx(2000 / 3)
    assert report.f1_with_refusals == pytest.approx(100 / 3) and report.answerable_refused == pytest.approx(100 / 3)
    assert report.unanswerable_refused is None
    assert report.as_dict()["f1"] == 66.6667 and report.as_dict()["ms_per_question"] == 666.6667
    assert report.as_dict()["questions"] == 3 and report.as_dict()["unanswerable_refused"] is None
    one = document_report([_outcome_of(True, True, 1.0)], wall_s=0.5)
    assert one.ms_per_question == 500.0
    nothing = document_report([], wall_s=0.0)
    assert (nothing.questions_per_second, nothing.ms_per_question, nothing.exact_match, nothing.f1) == (0, 0, 0, 0)


def test_an_answer_of_exactly_half_the_words_counts_as_right_for_the_calibration_error():
    # Scored 1.0 and right: no calibration error; had F1 0.5 counted as wrong, the error would be 1.
    assert document_report([_outcome_of(True, True, 0.5, score=1.0)], wall_s=1.0).ece == pytest.approx(0.0)


def test_paragraphs_of_an_article_have_their_bounds_in_its_text():
    from qa_reader.evaluate import _articles

    [(document, asked, bounds)] = _articles(QUESTIONS).values()
    assert bounds == {1: (0, len(PHASES)), 0: (len(PHASES) + 2, len(PHASES) + 2 + len(TEAM))}
    assert all(document.text[start:end] in (PHASES, TEAM) for start, end in bounds.values())


def test_whole_articles_are_asked_in_batches_and_the_settings_reach_the_engine(tiny_model_dir):
    from qa_reader.config import Settings

    many = [
        _question(f"m{n}", PHASES, 1, "What are the phases?", "preparation, detection and analysis") for n in range(65)
    ]
    progress: list[tuple[int, int]] = []
    evaluation = evaluate_documents(tiny_model_dir, many, progress=lambda done, total: progress.append((done, total)))
    assert progress == [(64, 65), (65, 65)]
    assert all(o.found and o.f1 == 1.0 for o in evaluation.outcomes)
    # A threshold no answer reaches: every answer is a greyed guess, and the guess is still scored.
    strict = evaluate_documents(tiny_model_dir, QUESTIONS[:1], settings=Settings(threshold=1.0))
    [outcome] = strict.outcomes
    assert not outcome.found and outcome.text == "preparation, detection and analysis" and outcome.f1 == 1.0
    assert strict.report.answerable_refused == 100.0


def test_the_baseline_asks_every_article_and_takes_no_time_on_a_stopped_clock(tmp_path, monkeypatch):
    monkeypatch.setattr("qa_reader.evaluate.time.perf_counter", _Clock())
    other = squad.Question("w1", "Weather", "It rains in April.", "When does it rain?", ("April",), (12,), 5)
    evaluation = evaluate_documents(tmp_path / "no-model", [QUESTIONS[0], other], reader="baseline")
    assert len(evaluation.outcomes) == 2 and evaluation.outcomes[1].text
    assert evaluation.report.questions_per_second == 0.0


def test_the_paragraph_reader_reads_with_the_settings_and_the_graph_file_given(tiny_model_dir, tmp_path):
    import shutil

    from qa_reader.config import Settings
    from qa_reader.reader.build import build_reader
    from qa_reader.reader.windows import WindowSettings

    reader = build_reader(tiny_model_dir, Settings(max_length=96, doc_stride=32, threads=1))
    assert reader.maker.settings == WindowSettings(max_length=96, doc_stride=32)
    prediction = reader.predict("What are the phases?", PHASES)
    assert prediction.text == "preparation, detection and analysis"
    assert 0.5 < prediction.probability <= 1.0 and 0.0 <= prediction.null_probability < 0.5
    # A paragraph without a word: no span, and all the probability on "no answer".
    assert reader.predict("What are the phases?", "") == Prediction("", 0.0, 1.0)
    # Another graph in the folder (an fp32 twin): read without the manifest's checksum, which is model.onnx's.
    folder = shutil.copytree(tiny_model_dir, tmp_path / "model")
    (folder / "twin.onnx").write_bytes((folder / "model.onnx").read_bytes())
    (folder / "model.onnx").write_bytes(b"changed")
    twin = build_reader(folder, model_file="twin.onnx")
    assert twin.predict("What are the phases?", PHASES).text == "preparation, detection and analysis"
    with pytest.raises(UserError):
        build_reader(folder)


def test_the_paragraph_report_rounds_its_figures_to_two_places():
    report = EvalReport(200 / 3, 100 / 3, 3, 10 / 3, 1 / 3, 2 / 3, 4 / 3)
    assert report.as_dict() == {
        "exact_match": 66.67,
        "f1": 33.33,
        "questions": 3,
        "questions_per_second": 3.33,
        "ms_mean": 0.33,
        "ms_p50": 0.67,
        "ms_p90": 1.33,
    }


def test_a_document_report_of_under_a_second_still_has_its_speed():
    report = document_report([_outcome_of(True, True, 1.0), _outcome_of(False, False, 0.0)], wall_s=0.5)
    assert report.questions_per_second == 4.0


def test_every_paragraph_of_a_long_article_has_its_bounds_in_its_text():
    from qa_reader.evaluate import _articles

    third = "Recovery brings the systems back."
    questions = [*QUESTIONS, _question("q9", third, 7, "What brings the systems back?", "Recovery")]
    [(document, _, bounds)] = _articles(questions).values()
    start = len(PHASES) + 2 + len(TEAM) + 2
    assert bounds[7] == (start, start + len(third))
    assert {index: document.text[s:e] for index, (s, e) in bounds.items()} == {1: PHASES, 0: TEAM, 7: third}


def test_each_question_is_asked_of_its_own_article_only(tiny_model_dir):
    # The tiny model finds its confident span only in PHASES; asked of the TEAM article alone, it cannot.
    other = squad.Question(
        "o1", "Teams", TEAM, "What are the phases?", ("several phases",), (TEAM.index("several phases"),), 4
    )
    evaluation = evaluate_documents(tiny_model_dir, [QUESTIONS[0], other])
    first, second = evaluation.outcomes
    assert first.text == "preparation, detection and analysis"
    assert second.text != first.text and second.text in TEAM and second.right_paragraph


def test_a_question_whose_search_finds_no_passage_has_no_candidate_at_all(tiny_model_dir):
    # Read whole below 0 passages: only passages sharing a word with the question are read, and none does.
    questions = [_question("n1", TEAM, 0, "Cats?", None), _question("n2", TEAM, 0, "Dogs?", "team")]
    evaluation = evaluate_documents(tiny_model_dir, questions, settings=Settings(read_whole_below=0))
    assert evaluation.outcomes == [
        DocumentOutcome(False, "", 0.0, False, False, 0.0, 0.0),
        DocumentOutcome(True, "", 0.0, False, False, 0.0, 0.0),
    ]


def test_whole_articles_are_scored_with_the_calibration_and_compared_without_it(tiny_model_dir, tmp_path):
    # A calibration that trusts no candidate: P(right) = sigmoid(-2) for each, under its threshold 0.5.
    # Without it the span probability (above 0.5 for the tiny model's span) clears the manifest's 0.05.
    folder = add_calibration(
        shutil.copytree(tiny_model_dir, tmp_path / "model"), {"log_probability": 0.0}, intercept=-2.0, threshold=0.5
    )
    evaluation = evaluate_documents(folder, QUESTIONS[:1], compare_uncalibrated=True)
    [outcome] = evaluation.outcomes
    assert not outcome.found and outcome.score == pytest.approx(1 / (1 + math.exp(2)))
    assert evaluation.report.answerable_refused == 100.0
    assert evaluation.uncalibrated is not None and evaluation.uncalibrated.answerable_refused == 0.0


def test_the_most_a_threshold_could_refuse_within_three_points_is_reported_from_the_support():
    # Answerable F1 100 never refusing; refusing the 0.35-support question costs 1 of 10 (10 points), too much,
    # so the best threshold refuses the unanswerable questions whose support is below 0.4: two of four.
    answerable = [DocumentOutcome(True, "a", 0.9, True, True, 1.0, 1.0, support=0.35)] + [
        DocumentOutcome(True, "a", 0.9, True, True, 1.0, 1.0, support=0.4 + i / 100) for i in range(9)
    ]
    unanswerable = [DocumentOutcome(False, "x", 0.99, True, False, 0.0, 0.0, support=s) for s in (0.1, 0.3, 0.5, 0.9)]
    report = document_report(answerable + unanswerable, wall_s=1.0)
    assert report.unanswerable_refusable == 50.0
    # Without a support (an uncalibrated model) the score is what the threshold compares.
    scored = [replace(o, support=None, score=o.support) for o in answerable + unanswerable]
    assert document_report(scored, wall_s=1.0).unanswerable_refusable == 50.0
    assert document_report(answerable, wall_s=1.0).unanswerable_refusable is None


def _three_articles() -> list[squad.Question]:
    weather = "It rains in April. The snow comes in December and stays until March."
    harbour = "The harbour opened in 1872. Its lighthouse was built in 1936 and rebuilt after the storm."
    return [
        QUESTIONS[0],
        QUESTIONS[1],
        squad.Question("w1", "Weather", weather, "When does it rain?", ("April",), (weather.index("April"),), 5),
        squad.Question("w2", "Weather", weather, "When does the snow come?", ("December",), (weather.index("Dec"),), 5),
        squad.Question("h1", "Harbour", harbour, "When did the harbour open?", ("1872",), (harbour.index("1872"),), 2),
    ]


def test_worker_processes_give_the_outcomes_of_one_process_in_article_order(tiny_model_dir):
    questions = _three_articles()
    alone = evaluate_documents(tiny_model_dir, questions, jobs=1, compare_uncalibrated=True)
    progress: list[tuple[int, int]] = []
    shared = evaluate_documents(
        tiny_model_dir, questions, jobs=2, compare_uncalibrated=True, progress=lambda *done: progress.append(done)
    )
    assert shared.outcomes == alone.outcomes
    assert shared.uncalibrated == replace(alone.uncalibrated, **_timings(shared.uncalibrated))
    assert sorted(progress)[-1] == (5, 5) and len(progress) == 3  # one report per article


def _timings(report) -> dict:
    return {"questions_per_second": report.questions_per_second, "ms_per_question": report.ms_per_question}


def test_every_article_is_in_the_library_before_the_first_question(tiny_model_dir, monkeypatch):
    from qa_reader.engine import Engine

    shelved: list[str] = []
    library_when_asked: list[list[str]] = []
    add_document, candidates = Engine.add_document, Engine.candidates

    def recording_add(self, document):
        shelved.append(document.title)
        return add_document(self, document)

    def recording_candidates(self, *args, **kwargs):
        library_when_asked.append(list(shelved))
        return candidates(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "add_document", recording_add)
    monkeypatch.setattr(Engine, "candidates", recording_candidates)
    evaluate_documents(tiny_model_dir, _three_articles(), jobs=1)
    assert library_when_asked == [["Incidents", "Weather", "Harbour"]] * 3


def test_a_document_error_crosses_a_process_boundary_whole():
    import pickle

    from qa_reader.errors import DocumentError
    from qa_reader.types import FailureReason

    error = DocumentError("The file contains no text.", FailureReason.NO_TEXT)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DocumentError and str(copy) == str(error) and copy.reason is FailureReason.NO_TEXT
