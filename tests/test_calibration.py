"""Answer features, the logistic fit, the "not found" threshold and the calibration error, on hand-built data."""

from dataclasses import replace

import numpy as np
import pytest

from qa_reader.calibration import (
    FEATURES,
    Calibrator,
    SpanEvidence,
    choose_threshold,
    expected_calibration_error,
    feature_matrix,
    fit_display,
    fit_logistic,
    fits_type,
    question_type,
    reliability_bins,
)


def column(matrix: np.ndarray, name: str) -> np.ndarray:
    return matrix[:, FEATURES.index(name)]


def evidence(text: str, probability: float = 0.5, relevance: float = 1.0, rank: int = 0, line: str = "", **kw):
    return SpanEvidence(text, probability, kw.pop("null", 0.1), relevance, rank, line or f"It is {text}.", **kw)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many phases are there?", "number"),
        ("What percentage of staff left?", "number"),
        ("When was the plan revised?", "date"),
        ("In what year did it open?", "date"),
        ("Who wrote the guide?", "name"),
        ("What is the recovery time objective?", ""),
    ],
)
def test_question_types(question, kind):
    assert question_type(question) == kind


def test_answer_types():
    assert fits_type("number", "four phases") and fits_type("number", "12") and not fits_type("number", "the team")
    assert fits_type("date", "in 1998") and fits_type("date", "March") and not fits_type("date", "the team")
    assert fits_type("name", "Grace Hopper") and not fits_type("name", "the team") and not fits_type("name", "Route 9")
    assert fits_type("", "anything")


def test_features_of_each_candidate():
    question = "How many phases does the incident life cycle have?"
    items = [
        evidence("four", probability=0.6, relevance=3.0, rank=0),
        evidence("four", probability=0.1, relevance=1.0, rank=2),  # the same text at another place
        evidence("incident life cycle", probability=0.05, relevance=0.0, rank=5),
        evidence("12", probability=0.01, line="Table 3   12   14   16"),
        evidence("Contents", probability=0.01, line="Contents . . . . . . . 4", in_contents=False),
        evidence("Recovery Time Objective", probability=0.01, line="4.2 Recovery Time Objective"),
    ]
    matrix = feature_matrix(question, items)
    assert matrix.shape == (6, len(FEATURES))
    assert column(matrix, "log_probability")[0] == pytest.approx(np.log(0.6))
    assert column(matrix, "log_probability_gap")[0] == 0.0 and column(matrix, "log_probability_gap")[1] < 0
    assert column(matrix, "bm25_gap")[1] == pytest.approx(-2.0)
    assert column(matrix, "bm25_rank")[0] == 0.0 and column(matrix, "bm25_rank")[1] == pytest.approx(np.log(3))
    assert list(column(matrix, "repeats")[:3]) == pytest.approx([np.log(2), np.log(2), 0.0])
    assert column(matrix, "question_overlap")[2] == 1.0 and column(matrix, "question_overlap")[0] == 0.0
    assert list(column(matrix, "type_match")[:3]) == [1.0, 1.0, 0.0]
    assert column(matrix, "type_mismatch")[2] == 1.0
    assert list(column(matrix, "table")) == [0, 0, 0, 1, 0, 0]
    assert list(column(matrix, "contents")) == [0, 0, 0, 0, 1, 0]
    assert column(matrix, "heading")[5] == 1.0 and column(matrix, "heading")[0] == 0.0
    assert column(matrix, "words")[2] == pytest.approx(np.log(4))


def test_the_question_level_features_are_the_same_for_every_candidate_of_the_question():
    items = [evidence("four", probability=0.5, null=0.3), evidence("five", probability=0.2, null=0.05)]
    matrix = feature_matrix("How many?", items)
    assert list(column(matrix, "null_min")) == [0.05, 0.05]
    assert list(column(matrix, "best_log_probability")) == pytest.approx([np.log(0.5)] * 2)


def test_the_raw_span_logit_and_its_gap_to_the_questions_best():
    items = [evidence("four", logit=7.5), evidence("five", logit=9.0), evidence("six")]
    matrix = feature_matrix("How many?", items)
    assert list(column(matrix, "span_logit")) == [7.5, 9.0, 0.0]
    assert list(column(matrix, "span_logit_gap")) == [-1.5, 0.0, -9.0]


def test_a_table_of_contents_passage_marks_its_candidates():
    matrix = feature_matrix("What is it?", [evidence("x", in_contents=True), evidence("y")])
    assert list(column(matrix, "contents")) == [1.0, 0.0]


def test_no_candidates_give_an_empty_matrix():
    assert feature_matrix("Why?", []).shape == (0, len(FEATURES))


def synthetic(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features whose true P(right) is a known logistic function of two of them."""
    rng = np.random.default_rng(seed)
    matrix = np.zeros((rows, len(FEATURES)))
    matrix[:, FEATURES.index("log_probability")] = rng.normal(-2, 1.5, rows)
    matrix[:, FEATURES.index("bm25")] = rng.normal(3, 2, rows)
    matrix[:, FEATURES.index("heading")] = rng.random(rows) < 0.1
    truth = 1 / (1 + np.exp(-(1.2 * matrix[:, 0] + 0.5 * matrix[:, FEATURES.index("bm25")] + 0.5)))
    return matrix, rng.random(rows) < truth, truth


def test_the_fit_recovers_true_probabilities_and_is_calibrated_on_new_data():
    matrix, labels, _ = synthetic(6000)
    model = fit_logistic(matrix, labels, l2=0.1)
    test_matrix, test_labels, truth = synthetic(6000, seed=1)
    predicted = model.probabilities(test_matrix)
    assert np.abs(predicted - truth).mean() < 0.02
    assert expected_calibration_error(predicted, test_labels) < 0.03
    # features that do not matter get (near) zero weight; constant ones exactly zero
    weights = dict(zip(model.features, model.coefficients))
    assert weights["log_probability"] > 1.0 and weights["bm25"] > 0.5
    assert abs(weights["heading"]) < 0.1 and weights["table"] == 0.0


def test_the_fit_on_a_subset_of_features_reads_only_those_columns():
    matrix, labels, _ = synthetic(2000)
    model = fit_logistic(matrix, labels, features=("log_probability",))
    shuffled = matrix.copy()
    shuffled[:, FEATURES.index("bm25")] = 0.0
    assert np.array_equal(model.probabilities(matrix), model.probabilities(shuffled))


def test_the_calibration_survives_the_manifest_and_rejects_what_it_cannot_use():
    matrix, labels, _ = synthetic(500)
    model = fit_logistic(matrix, labels, features=("log_probability", "bm25"))
    entry = {**model.to_manifest(), "threshold": 0.3}
    again = Calibrator.from_manifest(entry)
    assert again.threshold == 0.3
    assert np.allclose(again.probabilities(matrix), model.probabilities(matrix), atol=1e-5)
    with pytest.raises(ValueError):
        Calibrator.from_manifest({**entry, "features": ["log_probability", "shoe_size"]})
    with pytest.raises(ValueError):
        Calibrator.from_manifest({**entry, "coefficients": [1.0]})


def test_the_threshold_maximises_expected_f1_for_the_mix():
    answerable_scores = np.array([0.9, 0.8, 0.6, 0.3, 0.2])
    answerable_f1 = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    unanswerable_scores = np.array([0.5, 0.25, 0.1])
    # Refusing below 0.6 keeps every right answer and refuses all unanswerable questions.
    choice = choose_threshold(answerable_scores, answerable_f1, unanswerable_scores, answerable_share=0.5)
    assert 0.5 < choice.threshold <= 0.6
    assert choice.refused == 1.0 and choice.answerable_f1 == pytest.approx(0.6)
    assert choice.expected_f1 == pytest.approx(0.5 * 0.6 + 0.5 * 1.0)
    # With (almost) only answerable questions, refusing the partly right answers costs more than it gains.
    partly = np.array([1.0, 1.0, 1.0, 0.4, 0.4])
    mostly = choose_threshold(answerable_scores, partly, unanswerable_scores, answerable_share=0.999)
    assert mostly.threshold <= 0.2 and mostly.answerable_f1 == pytest.approx(0.76)


def test_calibration_error_and_bins():
    scores = np.array([0.15, 0.15, 0.85, 0.85])
    assert expected_calibration_error(scores, np.array([False, False, True, True])) == pytest.approx(0.15)
    assert expected_calibration_error(np.array([0.5, 0.5]), np.array([True, False])) == 0.0
    assert reliability_bins(scores, np.array([True, False, True, True])) == [(0.15, 0.5, 2), (0.85, 1.0, 2)]


def test_the_display_model_keeps_the_ranking_order_and_is_calibrated_on_its_candidates():
    rng = np.random.default_rng(2)
    ranking = rng.normal(0, 2, 4000)
    best = ranking + rng.exponential(1.0, 4000) * (rng.random(4000) < 0.5)  # half are their question's best
    right = rng.random(4000) < 1 / (1 + np.exp(-(0.7 * ranking + 0.3)))
    slope, gap_slope, bias = fit_display(ranking, best, right)
    assert slope + gap_slope > 0
    calibrator = Calibrator(("log_probability",), np.zeros(1), np.ones(1), np.ones(1), 0.0, slope, gap_slope, bias)
    matrix = np.zeros((5, len(FEATURES)))
    matrix[:, 0] = [-1.0, 2.0, 0.5, 3.0, -4.0]
    shown = calibrator.probabilities(matrix)
    assert list(np.argsort(-shown)) == [3, 1, 2, 0, 4]
    logits = slope * ranking + gap_slope * (ranking - best) + bias
    assert expected_calibration_error(1 / (1 + np.exp(-logits)), right) < 0.04
    with pytest.raises(ValueError, match="order"):
        Calibrator.from_manifest({**calibrator.to_manifest(), "slope": -1.0, "gap_slope": 0.0})


def test_only_the_needed_text_features_are_computed_and_they_equal_the_full_ones():
    items = [evidence("four", line="Table 3   12   14   16"), evidence("four", probability=0.2), evidence("Ada")]
    full = feature_matrix("How many phases?", items)
    some = feature_matrix("How many phases?", items, needed=("log_probability", "repeats"))
    assert np.array_equal(some[:, FEATURES.index("repeats")], full[:, FEATURES.index("repeats")])
    assert np.array_equal(some[:, FEATURES.index("bm25_gap")], full[:, FEATURES.index("bm25_gap")])
    assert not some[:, FEATURES.index("table")].any() and full[:, FEATURES.index("table")].any()
    assert not some[:, FEATURES.index("type_match")].any() and full[:, FEATURES.index("type_match")].any()


def test_the_best_answer_gets_its_own_intercept_and_keeps_its_place():
    from qa_reader.calibration import fit_listed_display

    # Best answers are right far more often than one line through the alternatives says.
    rng = np.random.default_rng(3)
    ranking = rng.normal(0, 1.5, 6000)
    is_best = rng.random(6000) < 0.25
    best = np.where(is_best, ranking, ranking + rng.exponential(1.0, 6000))
    truth = 0.6 * ranking + 0.5 * (best - ranking) * -1 - 1.0 + 2.0 * is_best
    right = rng.random(6000) < 1 / (1 + np.exp(-truth))
    slope, gap_slope, bias, top_bias = fit_listed_display(ranking, best, right)
    assert top_bias == pytest.approx(2.0, abs=0.4) and slope + gap_slope > 0
    logits = slope * ranking + gap_slope * (ranking - best) + bias + top_bias * is_best
    shown = 1 / (1 + np.exp(-logits))
    assert expected_calibration_error(shown[is_best], right[is_best]) < 0.05
    assert expected_calibration_error(shown[~is_best], right[~is_best]) < 0.05
    calibrator = Calibrator(
        ("log_probability",), np.zeros(1), np.ones(1), np.ones(1), 0.0, slope, gap_slope, bias, 0.5, top_bias
    )
    matrix = np.zeros((4, len(FEATURES)))
    matrix[:, 0] = [0.2, 1.0, -0.5, 0.9]
    assert list(np.argsort(-calibrator.probabilities(matrix))) == [1, 3, 0, 2]
    assert Calibrator.from_manifest(calibrator.to_manifest()).top_bias == pytest.approx(top_bias, abs=1e-6)
    with pytest.raises(ValueError, match="order"):
        Calibrator.from_manifest({**calibrator.to_manifest(), "top_bias": -0.5})
    # A manifest written before the term existed reads as no top term.
    older = {k: v for k, v in calibrator.to_manifest().items() if k != "top_bias"}
    assert Calibrator.from_manifest(older).top_bias == 0.0


def test_the_threshold_weighs_unanswerable_questions_as_told():
    answerable_scores = np.array([0.9, 0.8, 0.4])
    answerable_f1 = np.array([1.0, 1.0, 1.0])
    unanswerable_scores = np.array([0.1, 0.2, 0.6])
    # Equal weights: refusing the 0.6 one would cost the right 0.4 answer; one in three is not worth it.
    equal = choose_threshold(answerable_scores, answerable_f1, unanswerable_scores, answerable_share=0.5)
    assert equal.threshold <= 0.4 and equal.refused == pytest.approx(2 / 3)
    # When that kind of question is most of the unanswerable mix, refusing it is worth one answer.
    weighted = choose_threshold(
        answerable_scores, answerable_f1, unanswerable_scores, 0.5, unanswerable_weights=np.array([0.1, 0.1, 0.8])
    )
    assert 0.6 < weighted.threshold <= 0.8 and weighted.refused == pytest.approx(1.0)
    assert weighted.expected_f1 == pytest.approx(0.5 * 2 / 3 + 0.5 * 1.0)


def test_function_words_are_few_in_a_glossary_run_together_and_many_in_prose():
    glossary_line = "Recovery Point Objective Recovery Time Objective Remote Terminal Unit Security Category"
    prose_line = "The recovery time objective is the time it takes to bring the links back."
    rows = feature_matrix(
        "What is the recovery time objective?",
        [
            evidence("Remote Terminal Unit", line=glossary_line),
            evidence("the time it takes", line=prose_line),
        ],
    )
    shares = column(rows, "function_words")
    assert shares[0] == 0.0
    assert shares[1] == pytest.approx(6 / 14)  # the, is, the, it, to, the
    # Computed only when asked for, as the engine asks for its calibration's features alone.
    assert not column(
        feature_matrix("What?", [evidence("x", line=prose_line)], needed=["bm25"]), "function_words"
    ).any()


def test_the_share_term_weighs_an_answer_far_ahead_of_the_rest_and_keeps_the_order():
    from qa_reader.calibration import fit_share_display

    # Questions of 5 candidates; the best one is right more often the further it is ahead of the others.
    rng = np.random.default_rng(5)
    ranking = rng.normal(0, 1.5, (3000, 5))
    best = ranking.max(axis=1, keepdims=True)
    share = ranking - best - np.log(np.exp(ranking - best).sum(axis=1, keepdims=True))
    top = (ranking >= best)[:, :, None].squeeze(-1)
    truth = 0.5 * ranking + 1.2 * share + 1.0 * top - 0.5
    right = rng.random(ranking.shape) < 1 / (1 + np.exp(-truth))
    flat = [a.ravel() for a in (ranking, np.broadcast_to(best, ranking.shape), share, right)]
    slope, gap_slope, share_slope, bias, top_bias = fit_share_display(*flat)
    assert share_slope == pytest.approx(1.2, abs=0.3) and top_bias == pytest.approx(1.0, abs=0.35)
    calibrator = Calibrator(
        ("log_probability",),
        np.zeros(1),
        np.ones(1),
        np.ones(1),
        0.0,
        slope,
        gap_slope,
        bias,
        0.5,
        top_bias,
        share_slope,
    )
    matrix = np.zeros((5, len(FEATURES)))
    shown = []
    for row in ranking[:200]:
        matrix[:, 0] = row
        probabilities = calibrator.probabilities(matrix)
        assert list(np.argsort(-probabilities, kind="stable")) == list(np.argsort(-row, kind="stable"))
        shown.append(probabilities)
    logits = slope * flat[0] + gap_slope * (flat[0] - flat[1]) + share_slope * flat[2] + bias + top_bias * top.ravel()
    assert np.allclose(np.concatenate(shown), (1 / (1 + np.exp(-logits)))[:1000])
    assert expected_calibration_error(1 / (1 + np.exp(-logits)), flat[3]) < 0.04
    # Where the fit would reverse the order within a question, the share is left out (and the order kept).
    reversed_ = fit_share_display(flat[0], flat[1], flat[2], ~flat[3])
    assert reversed_[2] == 0.0 and reversed_[0] + reversed_[1] > 0


def test_not_found_compares_the_support_when_there_is_one_and_the_number_shown_otherwise():
    from qa_reader.calibration import fit_support

    rng = np.random.default_rng(6)
    ranking = rng.normal(0, 2, 5000)
    right = rng.random(5000) < 1 / (1 + np.exp(-(0.8 * ranking - 0.4)))
    support_slope, support_bias = fit_support(ranking, right)
    assert support_slope == pytest.approx(0.8, abs=0.1) and support_bias == pytest.approx(-0.4, abs=0.15)
    assert fit_support(ranking, ~right)[0] > 0  # never a support that falls as the ranking rises
    base = Calibrator(("log_probability",), np.zeros(1), np.ones(1), np.ones(1), 0.0, 1.0, 0.0, 0.0, 0.5, 1.0)
    matrix = np.zeros((3, len(FEATURES)))
    matrix[:, 0] = [2.0, 0.0, -1.0]
    assert np.array_equal(base.supports(matrix), base.probabilities(matrix))  # no support model: the number shown
    with_support = Calibrator.from_manifest(
        {**base.to_manifest(), "share_slope": 0.7, "support_slope": support_slope, "support_bias": support_bias}
    )
    assert with_support.share_slope == 0.7 and with_support.support_slope == pytest.approx(support_slope, abs=1e-6)
    assert with_support.supports(matrix) == pytest.approx(
        1 / (1 + np.exp(-(support_slope * matrix[:, 0] + support_bias)))
    )
    # An older manifest has neither term, and a falling support is refused.
    old = {key: value for key, value in base.to_manifest().items() if "share" not in key and "support" not in key}
    assert Calibrator.from_manifest(old) == base
    with pytest.raises(ValueError, match="support"):
        Calibrator.from_manifest({**base.to_manifest(), "support_slope": -0.1})


def bounded_calibrator(coefficients: dict[str, float], intercept: float = -1.0) -> Calibrator:
    count = len(coefficients)
    return Calibrator(
        tuple(coefficients),
        np.linspace(-1.0, 1.0, count),
        np.linspace(0.5, 2.0, count),
        np.asarray(list(coefficients.values())),
        intercept,
    )


@pytest.mark.parametrize("seed", range(5))
def test_no_candidate_of_a_passage_ranks_above_its_bound_and_the_best_possible_one_reaches_it(seed):
    rng = np.random.default_rng(seed)
    signs = {"log_probability": 1, "null_probability": -1, "bm25": 1, "bm25_rank": -1, "question_overlap": 1}
    calibrator = bounded_calibrator(
        {name: sign * rng.uniform(0.1, 3) for name, sign in {**signs, "type_mismatch": -1}.items()}
    )
    bounds = calibrator.passage_bounds(np.array([2.5]), np.log1p([3]))
    assert bounds is not None
    bound = float(bounds[0])
    question = "How many phases 7?"
    spans = [
        evidence(f"span {i}", probability=float(p), relevance=2.5, rank=3, null=float(n))
        for i, (p, n) in enumerate(zip(rng.random(200) ** 4, rng.random(200)))
    ]
    assert calibrator.ranking(feature_matrix(question, spans, calibrator.features)).max() < bound
    # Certain, never "not in this passage", every word in the question, and a number as asked.
    best = evidence("7 phases", probability=1.0, relevance=2.5, rank=3, null=0.0)
    assert calibrator.ranking(feature_matrix(question, [best], calibrator.features))[0] == pytest.approx(bound)


def test_the_bound_rises_with_the_passages_bm25_and_needs_bounded_features():
    calibrator = bounded_calibrator({"log_probability": 0.8, "bm25": 0.3, "null_probability": -1.1})
    bounds = calibrator.passage_bounds(np.array([0.5, 1.5]), np.zeros(2))
    assert bounds is not None and bounds[1] - bounds[0] == pytest.approx(0.3 / 1.25)
    for unbounded in ("words", "repeats", "log_probability_gap", "bm25_gap", "span_logit", "null_min"):
        model = bounded_calibrator({"log_probability": 0.8, unbounded: 0.1})
        assert model.passage_bounds(np.ones(1), np.zeros(1)) is None


def test_the_best_answer_can_have_a_display_model_of_its_own_and_the_alternatives_stay_below_it():
    shared = Calibrator(("log_probability",), np.zeros(1), np.ones(1), np.ones(1), 0.0, slope=1.0, bias=2.0)
    apart = replace(shared, best_display=(0.5, 0.0, 1.0))
    matrix = np.zeros((4, len(FEATURES)))
    matrix[:, FEATURES.index("log_probability")] = [-0.1, -0.3, -2.0, -0.2]
    questions = np.array([0, 0, 0, 1])
    before, _, ranking = shared.scores(matrix, questions)
    after, _, same_ranking = apart.scores(matrix, questions)
    assert np.array_equal(ranking, same_ranking)
    # Best answers (rows 0 and 3) get sigmoid(0.5 r + 1); the alternatives keep theirs unless it is higher.
    assert after[[0, 3]] == pytest.approx(1 / (1 + np.exp(-(0.5 * np.array([-0.1, -0.2]) + 1.0))))
    assert after[1] < after[0] and after[1] == pytest.approx(after[0])
    assert after[2] == pytest.approx(before[2]) and after[2] < after[0]
    entry = {**apart.to_manifest(), "threshold": 0.5}
    assert Calibrator.from_manifest(entry).best_display == pytest.approx((0.5, 0.0, 1.0))
    assert Calibrator.from_manifest({**shared.to_manifest(), "threshold": 0.5}).best_display is None
    with pytest.raises(ValueError):
        Calibrator.from_manifest({**entry, "best_display": [0.5, 1.0]})
