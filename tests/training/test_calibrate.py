"""Fitting the answer calibration on held-out training articles (tiny model, torch-free), and the engine using it."""

import json
import shutil

import numpy as np
import pytest

from qa_reader.calibration import FEATURES
from qa_reader.engine import Engine
from qa_reader.reader.model import file_sha256
from qa_reader.training.__main__ import main
from qa_reader.training.calibrate import Collected, collect, fit, held_out_documents, top_answers, write_calibration
from qa_reader.training.data import SILVER_SOURCE, held_out_unit

SOURCE = "squadshifts-new-wiki"
ARTICLES = 120


def _context(i: int) -> str:
    return f"The cycle{i} plan has phases: preparation, step{i} and analysis. Cats and dogs sleep."


def _qa(i: int) -> tuple[str, str]:
    """Even articles ask for the phases (the tiny model gets them right); odd ones for the animals, a
    question that matches the text worse and that the tiny model gets wrong (it only knows phases)."""
    if i % 2 == 0:
        return f"What are the phases of cycle{i}?", f"preparation, step{i} and analysis"
    return "Which animals sleep?", "Cats and dogs"


@pytest.fixture(scope="module")
def train_dir(tmp_path_factory):
    """A SQuADShifts-shaped file of one-paragraph articles; a few are in the fixed held-out slice."""
    folder = tmp_path_factory.mktemp("train")
    articles = []
    for i in range(ARTICLES):
        context = _context(i)
        question, answer = _qa(i)
        qas = [
            {"id": f"q{i}", "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}
        ]
        articles.append({"title": f"article {i}", "paragraphs": [{"context": context, "qas": qas}]})
    (folder / "squadshifts").mkdir()
    (folder / "squadshifts" / "new_wiki_v1.0.json").write_text(json.dumps({"data": articles}))
    held = [i for i in range(ARTICLES) if held_out_unit(SOURCE, f"article {i}", _context(i), True)]
    assert {i % 2 for i in held} == {0, 1}, "the fixture needs held-out articles of both kinds"
    return folder


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def test_only_held_out_articles_are_asked_and_each_against_its_own_and_another_document(train_dir, tiny_model_dir):
    documents = held_out_documents(train_dir, [SOURCE], paragraphs_per_document=1)
    titles = {q.title for _, _, questions in documents for q in questions}
    assert titles and all(held_out_unit(SOURCE, t, _context(int(t.split()[1])), True) for t in titles)
    data = collect(tiny_model_dir, train_dir, every=1, sources=[SOURCE], paragraphs_per_document=1, log=lambda _: None)
    # "Cats and dogs" is in every document: those questions are never asked of another one as unanswerable.
    phases = sum("phases" in q.question for _, _, questions in documents for q in questions)
    assert data.ask_answerable.sum() == len(documents) and (~data.ask_answerable).sum() == phases
    assert data.features.shape == (len(data.f1), data.features.shape[1]) and len(data.ask) == len(data.f1)
    top = top_answers(data, data.features[:, 0].astype(float))  # by log probability: the tiny model's phases
    assert top.f1[top.answerable].max() == 1.0 and top.f1[top.answerable].min() < 0.5
    assert np.all(top.f1[~top.answerable] == 0.0)


def test_the_fit_separates_own_from_other_documents_and_is_written_without_touching_the_model(
    train_dir, model_copy, tmp_path
):
    data = collect(model_copy, train_dir, every=1, sources=[SOURCE], paragraphs_per_document=1, log=lambda _: None)
    data.save(tmp_path / "collected.npz")
    again = Collected.load(tmp_path / "collected.npz")
    assert np.array_equal(again.features, data.features) and np.array_equal(again.ask_answerable, data.ask_answerable)

    calibrator, notes = fit(data)
    matrix = data.features.astype(float)
    top = top_answers(data, calibrator.probabilities(matrix), support=calibrator.supports(matrix))
    # Same span probabilities everywhere: only the passage's match to the question tells them apart.
    right = top.answerable & top.right
    assert top.score[right].min() > top.score[~right].max()
    # "Not found" compares the support model's value, fitted beside the number shown.
    assert calibrator.support_slope > 0 and notes["support_fitted_on"].startswith("the best answer")
    assert top.support[~top.answerable].max() < calibrator.threshold <= top.support[right].min()
    assert notes["held_out_cross_fitted"]["unanswerable_refused_percent"] == 100.0

    model_bytes = (model_copy / "model.onnx").read_bytes()
    sha = json.loads((model_copy / "manifest.json").read_text())["sha256"]
    write_calibration(model_copy, calibrator, notes)
    manifest = json.loads((model_copy / "manifest.json").read_text())
    assert manifest["sha256"] == sha == file_sha256(model_copy / "model.onnx")
    assert (model_copy / "model.onnx").read_bytes() == model_bytes
    assert manifest["calibration"]["threshold"] == pytest.approx(calibrator.threshold, abs=1e-4)
    assert "trained on these articles" in manifest["calibration"]["caveat"]

    # The engine now shows the calibrated probability, ranks by it and refuses below the threshold.
    engine = Engine(None, model_copy)
    documents = held_out_documents(train_dir, [SOURCE], paragraphs_per_document=1)
    ids = [engine.add_document(document) for _, document, _ in documents]
    question = next(q for _, _, questions in documents for q in questions if "phases" in q.question)
    own_index = next(i for i, (_, _, questions) in enumerate(documents) if question in questions)
    assert engine.threshold == pytest.approx(calibrator.threshold, abs=1e-4)
    answered = engine.ask(question.question, [ids[own_index]])
    refused = engine.ask(question.question, [ids[(own_index + 1) % len(ids)]])
    assert answered.found and question.answers[0] in answered.answers[0].text
    assert not refused.found and refused.guesses[0].score < answered.answers[0].score
    shown = [a.score for a in answered.answers + answered.guesses]
    assert shown == sorted(shown, reverse=True)
    candidates = engine.candidates([question.question], [ids[own_index]])[0]
    assert max(shown) == pytest.approx(float(engine.calibrator().probabilities(candidates.features).max()))
    engine.close()


def test_the_calibrate_command_refits_the_manifest(train_dir, model_copy, tmp_path):
    cache = tmp_path / "cache.npz"
    main(["calibrate", str(model_copy), "--train-dir", str(train_dir), "--every", "1", "--cache", str(cache)])
    manifest = json.loads((model_copy / "manifest.json").read_text())
    assert cache.exists() and manifest["calibration"]["answerable_asks"] >= 2
    assert manifest["sha256"] == file_sha256(model_copy / "model.onnx")


def _listed_fixture(with_ranges: bool) -> Collected:
    """One ask, five candidates by falling score: 0 [0, 10), 1 [5, 12) overlaps 0, 2 same text as 0
    elsewhere, 3 [20, 25) cannot be shown, 4 [30, 40)."""
    ranges = {
        "start": np.array([0, 5, 50, 20, 30]),
        "end": np.array([10, 12, 60, 25, 40]),
        "text_key": np.array([7, 8, 7, 9, 10]),
    }
    return Collected(
        features=np.zeros((5, len(FEATURES)), np.float32),
        f1=np.array([1.0, 0.5, 1.0, 0.0, 0.0], np.float32),
        valid=np.array([True, True, True, False, True]),
        ask=np.zeros(5, np.int64),
        ask_answerable=np.array([True]),
        ask_group=np.array([0]),
        **(ranges if with_ranges else {}),
    )


def test_answers_are_listed_as_the_engine_lists_them():
    from qa_reader.training.calibrate import shown_rows

    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    everything = np.ones(5, bool)
    data = _listed_fixture(with_ranges=True)
    assert shown_rows(data, scores, everything, 5).tolist() == [True, False, False, False, True]
    assert shown_rows(data, scores, everything, 1).tolist() == [True, False, False, False, False]
    # An old cache without ranges: only spans that cannot be shown are skipped.
    old = _listed_fixture(with_ranges=False)
    assert shown_rows(old, scores, everything, 3).tolist() == [True, True, True, False, False]


def test_a_cache_keeps_the_ranges_and_an_old_one_still_loads(tmp_path):
    data = _listed_fixture(with_ranges=True)
    data.save(tmp_path / "new.npz")
    assert Collected.load(tmp_path / "new.npz").start.tolist() == [0, 5, 50, 20, 30]
    _listed_fixture(with_ranges=False).save(tmp_path / "old.npz")
    assert Collected.load(tmp_path / "old.npz").start is None


def test_a_cache_written_before_features_were_added_computes_the_question_level_ones_and_zeros_the_rest(tmp_path):
    old = _listed_fixture(with_ranges=True)
    before = len(FEATURES) - 4  # written before span_logit, span_logit_gap, null_min and best_log_probability
    old.features = np.arange(5 * before, dtype=np.float32).reshape(5, before)
    old.ask = np.array([0, 0, 1, 1, 1])
    old.ask_answerable, old.ask_group = np.array([True, True]), np.array([0, 0])
    np.savez_compressed(
        tmp_path / "old.npz", **{k: v for k, v in old.__dict__.items() if v is not None and k != "missing_features"}
    )
    loaded = Collected.load(tmp_path / "old.npz")
    assert loaded.features.shape == (5, len(FEATURES))
    assert (loaded.features[:, :before] == old.features).all()
    assert loaded.missing_features == ("span_logit", "span_logit_gap")
    assert not loaded.features[:, before : before + 2].any()
    null = old.features[:, FEATURES.index("null_probability")]
    best = old.features[:, FEATURES.index("log_probability")]
    assert loaded.features[:, FEATURES.index("null_min")].tolist() == [null[0]] * 2 + [null[2]] * 3
    assert loaded.features[:, FEATURES.index("best_log_probability")].tolist() == [best[1]] * 2 + [best[4]] * 3
    loaded.save(tmp_path / "again.npz")  # what a cache lacks is never saved as if measured
    again = Collected.load(tmp_path / "again.npz")
    assert again.missing_features == loaded.missing_features and (again.features == loaded.features).all()


def test_a_question_is_also_asked_of_its_own_document_with_its_answer_taken_out(train_dir, tiny_model_dir, monkeypatch):
    from qa_reader.training import calibrate

    documents = held_out_documents(train_dir, [SOURCE], paragraphs_per_document=40)
    (_, document, questions), *_ = documents
    paragraphs = document.text.split("\n\n")
    monkeypatch.setattr(calibrate, "MIN_PARAGRAPHS_LEFT", len(paragraphs) - 1)
    copies = calibrate._without_answer(document, questions)
    # "Cats and dogs" is in every paragraph: nothing would be left, so those questions are not asked.
    phases = [q for q in questions if "phases" in q.question]
    assert sorted(q.id for _, asked in copies for q in asked) == sorted(q.id for q in phases)
    for copy, asked in copies:
        left = copy.text.split("\n\n")
        assert len(left) == len(paragraphs) - 1 and all(asked[0].context != p for p in left)
        assert all(p in paragraphs for p in left) and copy.pages[0].char_end == len(copy.text)
        assert asked[0].answers[0] not in copy.text

    data = collect(tiny_model_dir, train_dir, every=1, sources=[SOURCE], paragraphs_per_document=40, log=lambda _: None)
    kinds = data.kinds
    assert (kinds == calibrate.ASK_WITHOUT_ANSWER).sum() == len(phases)
    assert not data.ask_answerable[kinds == calibrate.ASK_WITHOUT_ANSWER].any()
    assert np.all(data.f1[np.isin(data.ask, np.flatnonzero(kinds != calibrate.ASK_OWN))] == 0.0)


def test_each_kind_of_unanswerable_question_carries_its_share_of_the_mix():
    from qa_reader.training.calibrate import (
        ASK_ELSEWHERE,
        ASK_WITHOUT_ANSWER,
        UNANSWERABLE_MIX,
        unanswerable_mix_weights,
    )

    kinds = np.array([ASK_ELSEWHERE] * 3 + [ASK_WITHOUT_ANSWER] * 7)
    weights = unanswerable_mix_weights(kinds)
    assert weights[kinds == ASK_ELSEWHERE].sum() == pytest.approx(UNANSWERABLE_MIX[ASK_ELSEWHERE])
    assert weights[kinds == ASK_WITHOUT_ANSWER].sum() == pytest.approx(UNANSWERABLE_MIX[ASK_WITHOUT_ANSWER])
    assert len(set(weights[kinds == ASK_WITHOUT_ANSWER])) == 1
    # One kind alone (an old cache) carries the whole unanswerable share.
    assert unanswerable_mix_weights(np.array([ASK_ELSEWHERE] * 4)).tolist() == [0.25] * 4


def test_held_out_silver_articles_are_asked_of_themselves_with_their_unanswerable_questions(
    train_dir, tiny_model_dir, tmp_path
):
    from qa_reader.training import calibrate

    articles = []
    for i in range(60):
        context = _context(i)
        answer = f"preparation, step{i} and analysis"
        qas = [
            {
                "id": f"a{i}",
                "question": f"What are the phases of cycle{i}?",
                "answers": [{"text": answer, "answer_start": context.index(answer)}],
            },
            {"id": f"u{i}", "question": f"Who invented cycle{i}?", "answers": [], "is_impossible": True},
        ]
        articles.append({"title": f"silver {i}", "paragraphs": [{"context": context, "qas": qas}]})
    silver = tmp_path / "silver.json"
    silver.write_text(json.dumps({"data": articles}))
    held = [i for i in range(60) if held_out_unit(SILVER_SOURCE, f"silver {i}", _context(i), True)]
    assert held, "the fixture needs a held-out silver article"

    data = collect(tiny_model_dir, train_dir, every=1, sources=[], silver=silver, log=lambda _: None)
    kinds = data.kinds
    assert (kinds == calibrate.ASK_SILVER_UNANSWERABLE).sum() == len(held)
    # The answerable ones are labelled by a teacher: never asked, the fit would trust them.
    assert not data.ask_answerable.any()
    assert not np.isin(kinds, [calibrate.ASK_ELSEWHERE, calibrate.ASK_WITHOUT_ANSWER]).any()
    weights = calibrate.unanswerable_mix_weights(np.array([calibrate.ASK_ELSEWHERE, calibrate.ASK_SILVER_UNANSWERABLE]))
    shares = calibrate.UNANSWERABLE_MIX_WITH_SILVER
    expected = shares[calibrate.ASK_SILVER_UNANSWERABLE] / (
        shares[calibrate.ASK_ELSEWHERE] + shares[calibrate.ASK_SILVER_UNANSWERABLE]
    )
    assert weights[1] == pytest.approx(expected)


def test_an_old_cache_loses_its_answerable_asks_against_silver_labels_and_keeps_the_rest(tmp_path):
    from qa_reader.calibration import FEATURES
    from qa_reader.training.calibrate import ASK_ELSEWHERE, ASK_OWN, ASK_SILVER_UNANSWERABLE, Collected

    # Asks: 0 own (document 0), 1 elsewhere (document 0), 2 own (silver document 1), 3 silver unanswerable (1).
    kinds = np.array([ASK_OWN, ASK_ELSEWHERE, ASK_OWN, ASK_SILVER_UNANSWERABLE], np.int8)
    ask = np.array([0, 0, 1, 2, 2, 3])
    features = np.arange(len(ask) * len(FEATURES), dtype=np.float32).reshape(len(ask), -1)
    data = Collected(
        features,
        np.array([1.0, 0.5, 0, 1, 0.5, 0], np.float32),
        np.ones(len(ask), bool),
        ask,
        kinds == ASK_OWN,
        np.array([0, 0, 1, 1]),
        ask_kind=kinds,
    )
    dropped = data.silver_answerable_asks()
    assert dropped.tolist() == [False, False, True, False]
    kept = data.without_asks(dropped)
    assert kept.ask.tolist() == [0, 0, 1, 2]
    assert kept.kinds.tolist() == [ASK_OWN, ASK_ELSEWHERE, ASK_SILVER_UNANSWERABLE]
    assert kept.ask_answerable.tolist() == [True, False, False]
    assert kept.ask_group.tolist() == [0, 0, 1]
    assert np.array_equal(kept.features, features[[0, 1, 2, 5]])
    assert kept.f1.tolist() == [1.0, 0.5, 0.0, 0.0]
    # Loading such a cache leaves them out.
    data.save(tmp_path / "old.npz")
    loaded = Collected.load(tmp_path / "old.npz")
    assert loaded.ask.tolist() == kept.ask.tolist() and loaded.kinds.tolist() == kept.kinds.tolist()
    assert np.array_equal(loaded.features, kept.features)


def test_silver_asks_borrowed_from_another_cache_join_as_asks_and_documents_of_their_own(tmp_path):
    from qa_reader.calibration import FEATURES
    from qa_reader.training.calibrate import ASK_ELSEWHERE, ASK_OWN, ASK_SILVER_UNANSWERABLE, Collected

    def collected(kinds, ask, groups, first_value):
        kinds = np.array(kinds, np.int8)
        ask = np.array(ask)
        features = np.arange(len(ask) * len(FEATURES), dtype=np.float32).reshape(len(ask), -1) + first_value
        return Collected(
            features,
            np.linspace(0, 1, len(ask)).astype(np.float32),
            np.ones(len(ask), bool),
            ask,
            kinds == ASK_OWN,
            np.array(groups),
            np.arange(len(ask)),
            np.arange(len(ask)) + 3,
            np.arange(len(ask)) * 7,
            kinds,
        )

    gold = collected([ASK_OWN, ASK_ELSEWHERE], [0, 0, 1], [0, 1], 0)
    # An earlier cache: an own ask of document 0, then two silver asks of documents 0 and 1.
    earlier = collected([ASK_OWN, ASK_SILVER_UNANSWERABLE, ASK_SILVER_UNANSWERABLE], [0, 1, 1, 2], [0, 0, 1], 1000)
    silver = earlier.silver_part()
    assert silver.kinds.tolist() == [ASK_SILVER_UNANSWERABLE] * 2 and silver.ask.tolist() == [0, 0, 1]
    joined = Collected.concatenated([gold, silver])
    assert joined.kinds.tolist() == [ASK_OWN, ASK_ELSEWHERE, ASK_SILVER_UNANSWERABLE, ASK_SILVER_UNANSWERABLE]
    assert joined.ask.tolist() == [0, 0, 1, 2, 2, 3]
    assert joined.ask_group.tolist() == [0, 1, 2, 3]  # the borrowed documents stay apart from these
    assert joined.ask_answerable.tolist() == [True, False, False, False]
    assert np.array_equal(joined.features[3:], earlier.features[1:])
    assert joined.start.tolist() == [0, 1, 2, 1, 2, 3] and joined.text_key.tolist() == [0, 7, 14, 7, 14, 21]
    # A part without ranges leaves the whole without them, as an old cache does.
    assert (
        Collected.concatenated(
            [
                gold,
                Collected(
                    *[getattr(silver, f) for f in ("features", "f1", "valid", "ask", "ask_answerable", "ask_group")]
                ),
            ]
        ).start
        is None
    )
    # Round trip through a cache file.
    joined.save(tmp_path / "joined.npz")
    loaded = Collected.load(tmp_path / "joined.npz")
    assert loaded.ask.tolist() == joined.ask.tolist() and loaded.kinds.tolist() == joined.kinds.tolist()


def test_a_held_out_document_gets_a_glossary_of_its_own_names_at_the_end():
    from qa_reader.training import calibrate
    from qa_reader.types import Document, Page

    paragraphs = [
        f"The Harbour Bridge{i} was designed by John Bradfield{i} for the NSW Public Works in Sydney Harbour{i}."
        for i in range(25)
    ]
    text = "\n\n".join(paragraphs)
    document = Document("p", "t", "txt", "sha", text, (Page(0, 0, len(text)),))
    glossed = calibrate.with_glossary(document)
    added = glossed.text.split("\n\n")[len(paragraphs) :]
    assert glossed.text.startswith(text) and glossed.pages == (Page(0, 0, len(glossed.text)),)
    assert len(added) == 2  # one for every GLOSSARY_EVERY paragraphs
    assert all(len(p.split()) <= calibrate.GLOSSARY_WORDS + 4 for p in added)
    assert "." not in " ".join(added) and "NSW Public Works" in added[0] + added[1]
    # The same document always gets the same glossary.
    assert calibrate.with_glossary(document).text == glossed.text
    # Names are never repeated.
    assert calibrate.glossary(text, 10, "sha").count("NSW Public Works") <= 1


def test_the_fit_sees_the_candidates_of_the_passages_the_engine_reads(tiny_model_dir, tmp_path):
    from qa_reader.calibration import Calibrator
    from qa_reader.training.calibrate import read_rows
    from tests.conftest import LIFE_CYCLE, text_document
    from tests.support.tiny_model import add_calibration

    folder = add_calibration(
        shutil.copytree(tiny_model_dir, tmp_path / "bounded"),
        {"log_probability": 0.2, "bm25": 3.0, "null_probability": -1.0},
        intercept=0.0,
        threshold=0.2,
    )
    filler = "The weather in the incident room is sunny and the cats and dogs sleep there all day. " * 8
    # Two passages hold the answer and tie: both must be read (the first round reads one, the second two); the
    # other four of the five that only share "incident" need not be.
    passages = [filler] * 2 + [LIFE_CYCLE.split("\n\n")[1] + " " + filler] * 2 + [filler] * 3
    engine = Engine(None, folder)
    document_id = engine.add_document(text_document("\n\n".join(passages)))
    question = "What are the phases of the incident response life cycle?"
    [every] = engine.candidates([question], [document_id], all_features=True)
    [pruned] = engine.candidates([question], [document_id])
    engine.close()
    rows = len(every.spans)
    valid = np.asarray([bool(e.text.strip()) and "\n\n" not in e.text for e in every.evidence])
    data = Collected(
        every.features, np.zeros(rows), valid, np.zeros(rows, np.int64), np.ones(1, bool), np.zeros(1, np.int64)
    )
    calibrator = Calibrator.from_manifest(json.loads((folder / "manifest.json").read_text())["calibration"])
    read = read_rows(data, np.ones(rows, bool), calibrator)
    read_passages = {every.spans[i].context_index for i in np.flatnonzero(read)}
    assert {2, 3} < read_passages and len(read_passages) == 1 + 2
    assert read_passages == {span.context_index for span in pruned.spans}
    assert sorted(pruned.spans, key=repr) == sorted((every.spans[i] for i in np.flatnonzero(read)), key=repr)
