"""Silver labelling: the split between answerable and unanswerable questions, and the joint assignment of
marked ranges to questions (torch-free)."""

import json

import numpy as np

from qa_reader import squad
from qa_reader.reader.predict import ContextSpan
from qa_reader.training import pseudo
from qa_reader.training.data import SILVER_SOURCE, held_out_unit, split_held_out
from qa_reader.training.pseudo import (
    SplitModel,
    TeacherRead,
    UnlabeledQuestion,
    article_posterior,
    as_unlabeled,
    assign_ranges,
    fit_split,
    keep,
    label_questions,
    load_unlabeled,
    summarise,
    trim_range,
    unanswerable_posterior,
)

CONTEXT = "The bridge opened in 1932 and was designed by John Bradfield for the city."
YEAR = (CONTEXT.index("1932"), CONTEXT.index("1932") + 4)
NAME = (CONTEXT.index("John"), CONTEXT.index("Bradfield") + len("Bradfield"))


def _span(start: int, end: int, probability: float, null: float = 0.05) -> ContextSpan:
    return ContextSpan(0, start, end, probability, null)


def test_trim_range_drops_spaces_and_punctuation_the_colour_ran_into():
    text = "born in Houston, Texas, she sang"
    start = text.index("Houston")
    assert trim_range(text, start - 1, start + len("Houston, Texas, ")) == (start, start + len("Houston, Texas"))
    assert trim_range(text, 4, 4) == (4, 4)


def test_summarise_sums_mass_per_range_and_keeps_the_best_span_inside_each():
    spans = [
        _span(*YEAR, 0.40, null=0.1),
        _span(NAME[0], NAME[1], 0.30),
        _span(NAME[0] + 5, NAME[1], 0.25),
        _span(NAME[0] - len("by "), NAME[1], 0.02),  # reaches outside the range: mass, but never a label
    ]
    read = summarise(spans, [YEAR, NAME])
    assert read.range_mass == (0.40, 0.30 + 0.25 + 0.02)
    assert read.range_best == ((*YEAR, 0.40), (*NAME, 0.30))
    assert read.best_probability == 0.40 and read.null_probability == 0.1
    assert read.best_span == YEAR
    assert abs(read.evidence - (np.log(0.40) - np.log(0.1))) < 1e-12


def test_a_range_only_smeared_over_gives_no_span_inside():
    read = summarise([_span(NAME[0] - 3, NAME[1], 0.9)], [NAME])
    assert read.range_best == ((NAME[0], NAME[0], 0.0),)


def test_independent_assignment_takes_each_questions_argmax():
    mass = np.array([[0.9, 0.1], [0.6, 0.4]])
    chosen, share = assign_ranges(mass, "independent")
    assert chosen.tolist() == [0, 0]
    assert np.allclose(share, [0.9, 0.6])


def test_balanced_assignment_moves_a_weaker_claimant_to_its_own_next_range():
    # Question 0 explains range 0 far better; question 1 half-prefers it but has range 1 to itself.
    mass = np.array([[0.95, 0.05], [0.55, 0.45]])
    chosen, _ = assign_ranges(mass, "balanced")
    assert chosen.tolist() == [0, 1]


def test_cover_assignment_hands_an_unclaimed_range_to_the_question_that_explains_it_best():
    # Range 1 is nobody's argmax, but every range is somebody's answer: question 2 explains it best.
    mass = np.array([[0.9, 0.1], [0.8, 0.05], [0.6, 0.4]])
    assert assign_ranges(mass, "independent")[0].tolist() == [0, 0, 0]
    assert assign_ranges(mass, "cover")[0].tolist() == [0, 0, 1]


def test_cover_assignment_leaves_a_crowded_range_alone_when_every_range_is_covered():
    # Three questions share the late-1990s range, one holds 2003: nobody is pushed off.
    mass = np.array([[0.7, 0.3], [0.8, 0.2], [0.6, 0.4], [0.1, 0.9]])
    assert assign_ranges(mass, "cover")[0].tolist() == [0, 0, 0, 1]


def test_balanced_assignment_still_lets_questions_share_a_range_they_all_point_at():
    # Three questions, two ranges: two questions have nothing on range 1, so they share range 0.
    mass = np.array([[1.0, 0.0], [1.0, 0.0], [0.3, 0.7]])
    chosen, _ = assign_ranges(mass, "balanced")
    assert chosen.tolist() == [0, 0, 1]


def _model() -> SplitModel:
    prior = [0.3, 0.3, 0.2, 0.2]
    return SplitModel(mean_answerable=12.0, sd_answerable=2.0, mean_unanswerable=4.0, sd_unanswerable=2.0, prior=prior)


def test_the_split_falls_where_the_evidence_drops():
    posterior, split = unanswerable_posterior(_model(), np.array([13.0, 11.0, 12.5, 3.0, 5.0]))
    assert split == 3
    assert posterior[0] < 0.05 and posterior[-1] > 0.95
    assert np.all(np.diff(posterior) >= -1e-12)  # later questions are never less likely unanswerable


def test_the_split_may_fall_at_the_end_when_every_question_looks_answerable():
    _, split = unanswerable_posterior(_model(), np.array([13.0, 11.0, 12.5, 12.0]))
    assert split == 4


def test_one_low_question_among_answerable_ones_does_not_split_the_paragraph():
    # The split is contiguous: a single outlier before strong questions is not a change point.
    _, split = unanswerable_posterior(_model(), np.array([12.0, 6.0, 13.0, 12.0, 11.0]))
    assert split == 5


def _articles(rng, count: int, with_unanswerable: float) -> tuple[list[list[np.ndarray]], list[list[int]]]:
    articles, truth = [], []
    for _ in range(count):
        has = rng.random() < with_unanswerable
        paragraphs, splits = [], []
        for _ in range(6):
            n = int(rng.integers(3, 9))
            unanswerable = int(rng.integers(1, min(3, n) + 1)) if has else 0
            answerable = rng.normal(12.0, 2.0, n - unanswerable)
            paragraphs.append(np.concatenate((answerable, rng.normal(5.0, 2.5, unanswerable))))
            splits.append(n - unanswerable)
        articles.append(paragraphs)
        truth.append(splits)
    return articles, truth


def test_em_recovers_the_evidence_distributions_and_the_share_of_articles_with_unanswerable_questions():
    articles, _ = _articles(np.random.default_rng(7), 120, with_unanswerable=0.6)
    model = fit_split(articles)
    assert abs(model.mean_answerable - 12.0) < 0.5
    assert abs(model.mean_unanswerable - 5.0) < 0.8
    assert abs(model.sd_answerable - 2.0) < 0.4
    assert abs(model.article_share - 0.6) < 0.12
    assert sum(model.prior[1:4]) > 0.95  # one to three unanswerable questions were drawn, never more


def test_a_paragraph_whose_questions_are_all_weaker_is_not_split_when_the_level_is_modelled():
    # A long paragraph lowers the teacher's evidence for all its questions alike: a level, not a drop.
    model = SplitModel(12.0, 1.5, 5.0, 1.5, [0.5, 0.3, 0.2], article_share=1.0, sd_level=4.0)
    _, split = unanswerable_posterior(model, np.array([6.0, 5.5, 6.5, 6.0]))
    assert split == 4
    _, split = unanswerable_posterior(model, np.array([6.0, 5.5, 6.5, -1.0]))
    assert split == 3  # a drop within the paragraph still is one
    flat = SplitModel(12.0, 1.5, 5.0, 1.5, [0.5, 0.3, 0.2], article_share=1.0, sd_level=0.0)
    assert unanswerable_posterior(flat, np.array([6.0, 5.5, 6.5, 6.0]))[1] < 4  # without it, a false split


def test_em_recovers_the_paragraph_level_spread():
    rng = np.random.default_rng(3)
    articles, _ = _articles(rng, 120, with_unanswerable=0.6)
    shifted = [[p + rng.normal(0.0, 3.0) for p in article] for article in articles]
    model = fit_split(shifted)
    assert abs(model.sd_level - 3.0) < 0.6
    assert abs((model.mean_answerable - model.mean_unanswerable) - 7.0) < 1.0


def test_an_article_without_unanswerable_questions_keeps_even_its_weak_questions():
    model = SplitModel(12.0, 2.0, 5.0, 2.5, [0.0, 0.4, 0.3, 0.3], article_share=0.5)
    strong = [np.array([12.0, 13.0, 11.5, 12.5]) for _ in range(5)]
    weak_last = np.array([12.0, 11.0, 13.0, 8.0])  # one low question at the end of one paragraph
    share, posteriors = article_posterior(model, [*strong, weak_last])
    assert share < 0.05
    assert int(np.argmax(posteriors[-1])) == 4


def _question(i: int, paragraph: int = 0) -> UnlabeledQuestion:
    return UnlabeledQuestion(f"q{i}", f"question {i}", CONTEXT, (YEAR, NAME), "t", paragraph)


def _read(evidence_probability: float, mass: tuple[float, float]) -> TeacherRead:
    return TeacherRead(
        best_probability=evidence_probability,
        null_probability=1e-6,
        range_mass=mass,
        range_best=((*YEAR, mass[0]), (*NAME, mass[1])),
        best_span=YEAR if mass[0] >= mass[1] else NAME,
    )


def test_unanswerable_questions_get_no_label_and_answerable_ones_the_span_inside_their_range():
    questions = [_question(i) for i in range(3)]
    reads = [_read(0.9, (0.8, 0.1)), _read(0.9, (0.1, 0.8)), _read(1e-5, (0.3, 0.2))]
    model = SplitModel(13.0, 1.5, 3.0, 1.5, [0.5, 0.5, 0.0, 0.0], article_share=0.9)
    labels, p_unanswerable = label_questions(questions, reads, model, "cover")
    assert labels[2] is None and p_unanswerable[2] > 0.9
    assert (labels[0].char_start, labels[0].char_end) == YEAR
    assert (labels[1].char_start, labels[1].char_end) == NAME
    assert (labels[1].marked_start, labels[1].marked_end) == NAME
    assert keep(labels[0], 0.5, 0.5) and not keep(labels[0], 0.95, 0.0) and not keep(None, 0.0, 0.0)


def test_load_unlabeled_reads_marked_ranges_trimmed_and_paragraph_order(tmp_path):
    paragraph = {
        "context": CONTEXT,
        "qas": [{"id": "q1", "question": "When did it open?"}, {"id": "q2", "question": "Who?"}],
        "marked_spans": [{"start": YEAR[0] - 1, "end": YEAR[1] + 1, "color": "#000"}],
    }
    path = tmp_path / "unlabeled.json"
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [paragraph, paragraph]}]}))
    questions = load_unlabeled(path)
    assert [q.marked for q in questions] == [(YEAR,)] * 4
    assert [(q.id, q.paragraph) for q in questions] == [("q1", 0), ("q2", 0), ("q1", 1), ("q2", 1)]


def test_as_unlabeled_marks_each_answered_questions_first_answer_and_keeps_unanswerable_ones():
    questions = [
        squad.Question("a", "t", CONTEXT, "When?", ("1932", "in 1932"), (YEAR[0], YEAR[0] - 3), 0),
        squad.Question("b", "t", CONTEXT, "Who?", ("John Bradfield",), (NAME[0],), 0),
        squad.Question("c", "t", CONTEXT, "Why?", (), (), 0),
    ]
    shaped = as_unlabeled(questions)
    assert [q.id for q in shaped] == ["a", "b", "c"]
    assert all(q.marked == (YEAR, NAME) for q in shaped)


def test_held_out_only_labels_exactly_the_articles_calibrate_asks(tmp_path, monkeypatch, tiny_model_dir):
    context = "preparation detection and analysis"
    questions = [
        UnlabeledQuestion(f"q{a}-{i}", f"when {i}", context, ((0, len("preparation")),), f"article {a}", a)
        for a in range(80)
        for i in range(3)
    ]
    monkeypatch.setattr(pseudo, "load_unlabeled", lambda: questions)
    out = tmp_path / "silver.json"
    counts = pseudo.pseudo_label(tiny_model_dir, out, 0.0, 0.0, held_out_only=True, threads=1)
    written = squad.load(out)
    held = {q.title for q in questions if held_out_unit(SILVER_SOURCE, q.title, q.context, article_units=True)}
    assert 1 <= len(held) < 20 and counts["questions"] == 3 * len(held)
    assert {q.title for q in written} <= held and written
    assert split_held_out(SILVER_SOURCE, written)[1] == written  # calibrate --silver asks every one of them
