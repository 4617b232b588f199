"""Whole-document evaluation (right paragraph, refusals, calibration error, the plot) and the baseline reader."""

import sys

import pytest

from qa_reader import squad
from qa_reader.baseline import sliding_window_answer
from qa_reader.errors import UserError
from qa_reader.evaluate import DocumentOutcome, Prediction, document_report, evaluate_documents, evaluate_paragraphs
from qa_reader.training.plots import reliability_plot

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
    strict = threshold_outcome(predictions, QUESTIONS, 0.35)  # refuses q3 only: right to
    assert strict.no_answer_accuracy == 100.0 and strict.has_answer_f1 == 50.0
    assert strict.f1 == pytest.approx(200 / 3)
    best = calibrate_threshold(predictions, QUESTIONS)
    assert best.threshold == 0.4 and best.f1 == pytest.approx(200 / 3)  # the first threshold that reaches it
    assert threshold_outcome(predictions, QUESTIONS, 1.01).f1 == pytest.approx(100 / 3)  # refuses all
