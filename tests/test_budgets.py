"""Length budgets: the keep ratios a length-adaptive model offers, chosen in the settings, per question
(live answers) or on the command line; refused when the model has no such budget."""

import json

import pytest

from qa_reader.cli import main
from qa_reader.config import Settings
from qa_reader.engine import Engine
from qa_reader.errors import UserError
from qa_reader.reader.model import ModelFolder
from tests.conftest import LIFE_CYCLE, adaptive_model_dir

QUESTION = "What are the phases?"
ANSWER = "preparation, detection and analysis"


@pytest.fixture
def adaptive_dir(tmp_path):
    # The stand-in scales its start logits by the first layer's keep ratio: at 0.25 the answer's start logit
    # falls from 9 to 2.25, below [CLS]'s 2.0 + the end's pull, so its probability drops.
    return adaptive_model_dir(tmp_path / "adaptive", {"balanced": [0.75, 1.0, 1.0], "fastest": [0.25, 0.5, 0.5]})


@pytest.fixture
def notes(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text(LIFE_CYCLE, encoding="utf-8")
    return path


def test_the_manifest_lists_the_budgets_in_order_and_every_token_is_no_budget(adaptive_dir):
    model = ModelFolder.open(adaptive_dir)
    assert model.length_budgets == {"balanced": (0.75, 1.0, 1.0), "fastest": (0.25, 0.5, 0.5)}
    assert model.keep_ratios("") is None
    with pytest.raises(UserError, match='no budget "fast" .*balanced, fastest'):
        model.keep_ratios("fast")


@pytest.mark.parametrize(
    "budgets", [{"a": "fast"}, [{"name": "x", "keep_ratios": [0.0]}], [{"name": 3, "keep_ratios": [1.0]}], [{}]]
)
def test_a_damaged_budget_list_is_a_damaged_manifest(adaptive_dir, budgets):
    path = adaptive_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["length_budgets"] = budgets
    path.write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="length_budgets"):
        ModelFolder.open(adaptive_dir)


def test_a_budget_reads_with_its_ratios_and_is_cached_apart(adaptive_dir, notes):
    engine = Engine(None, adaptive_dir)
    try:
        [record] = [engine.index(notes)]
        full = engine.ask(QUESTION, [record.id])
        fastest = engine.ask(QUESTION, [record.id], budget="fastest")
        again = engine.ask(QUESTION, [record.id], budget="fastest")
        full_again = engine.ask(QUESTION, [record.id])
    finally:
        engine.close()
    best_full = (full.answers or full.guesses)[0]
    best_fast = (fastest.answers or fastest.guesses)[0]
    assert best_full.text == ANSWER
    assert best_fast.score < best_full.score
    assert not fastest.from_cache and again.from_cache and full_again.from_cache
    assert (full_again.answers or full_again.guesses)[0].score == best_full.score


def test_the_settings_budget_is_the_default_and_a_question_may_name_another(adaptive_dir, notes):
    engine = Engine(None, adaptive_dir, Settings(length_budget="fastest"))
    try:
        record = engine.index(notes)
        by_settings = engine.ask(QUESTION, [record.id])
        named = engine.ask(QUESTION, [record.id], budget="")
    finally:
        engine.close()
    assert not named.from_cache
    assert (by_settings.answers or by_settings.guesses)[0].score < (named.answers or named.guesses)[0].score


def test_a_model_that_reads_every_token_refuses_a_budget(tiny_model_dir, notes):
    engine = Engine(None, tiny_model_dir)
    try:
        record = engine.index(notes)
        with pytest.raises(UserError, match="this model reads every token"):
            engine.ask(QUESTION, [record.id], budget="fastest")
        assert engine.ask(QUESTION, [record.id]).answers[0].text == ANSWER
    finally:
        engine.close()


def test_the_command_line_asks_and_evaluates_with_a_budget(adaptive_dir, notes, tmp_path, capsys):
    library = tmp_path / "library.sqlite3"
    base = ["--library", str(library), "--model", str(adaptive_dir)]
    assert main([*base, "ask", str(notes), "-q", QUESTION, "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert main([*base, "ask", str(notes), "-q", QUESTION, "--json", "--budget", "fastest"]) == 0
    fastest = json.loads(capsys.readouterr().out)
    shown = [result["answers"][0]["score"] for result in (full, fastest)]
    assert shown[1] < shown[0]
    assert main([*base, "ask", str(notes), "-q", QUESTION, "--budget", "nope"]) != 0
    assert 'no budget "nope"' in capsys.readouterr().err


def test_a_budget_remembered_from_another_model_reads_every_token(adaptive_dir, tiny_model_dir, notes):
    for model in (adaptive_dir, tiny_model_dir):
        engine = Engine(None, model, Settings(length_budget="gone"))
        try:
            record = engine.index(notes)
            assert engine.ask(QUESTION, [record.id]).answers[0].text == ANSWER
        finally:
            engine.close()


def test_a_question_typed_live_reads_few_passages_at_the_fastest_budget_and_is_cached_apart(adaptive_dir, tmp_path):
    from qa_reader.engine import LIVE_PASSAGES

    long_notes = tmp_path / "long.txt"
    filler = "The team meets every week to review the phases of the logs and the alerts of the previous days."
    long_notes.write_text("\n\n".join([filler] * 100 + [LIFE_CYCLE] + [filler] * 100), encoding="utf-8")
    engine = Engine(None, adaptive_dir, Settings(passages_to_read=12, neighbours_of=2))
    read: list[int] = []
    chosen = engine._gather

    def spy(questions, records, needed, budget=None, settings=None):
        gathered = chosen(questions, records, needed, budget, settings)
        read.extend(len(c.passage_ids) for c in gathered)
        return gathered

    engine._gather = spy
    try:
        record = engine.index(long_notes)
        assert record.passage_count > 16  # more than the settings read whole
        live = engine.ask(QUESTION, [record.id], live=True, remember=False)
        entered = engine.ask(QUESTION, [record.id])
    finally:
        engine.close()
    assert read[0] <= LIVE_PASSAGES < read[1]  # Enter reads as the settings say, not from the live cache
    assert not entered.from_cache
    best_live, best_entered = ((s.answers or s.guesses)[0] for s in (live, entered))
    assert best_live.text == best_entered.text == ANSWER
    assert best_live.score < best_entered.score  # read at "fastest", the last budget the manifest lists


def test_a_budget_is_expected_to_read_as_many_times_faster_as_its_search_measured(adaptive_dir, notes):
    manifest_path = adaptive_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["length_budgets"][1]["speedup"] = 4.0  # fastest
    manifest_path.write_text(json.dumps(manifest))
    assert ModelFolder.open(adaptive_dir).speedup("fastest") == 4.0
    assert ModelFolder.open(adaptive_dir).speedup("balanced") == ModelFolder.open(adaptive_dir).speedup("") == 1.0
    engine = Engine(None, adaptive_dir)
    try:
        record = engine.index(notes)
        engine.speed.ms_per_passage = 100.0  # as every token reads, here
        with pytest.raises(UserError, match="takes about 100 ms"):
            engine.ask(QUESTION, [record.id], within_ms=60, budget="balanced")
        engine.ask(QUESTION, [record.id], within_ms=60, budget="fastest")  # 100 / 4 = 25 ms: read
        # What it took is learned as every token would have taken it: four times the time measured.
        assert engine.speed.ms_per_passage > 50.0
    finally:
        engine.close()
