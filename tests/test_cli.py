"""The command line: JSON output, batches, evaluation, and every bad input as one line with exit 1."""

import json
import sqlite3

import pytest

from qa_reader import squad
from qa_reader.cli import main
from qa_reader.reader.build import build_reader
from tests.conftest import LIFE_CYCLE


@pytest.fixture
def run(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QA_READER_HOME", str(tmp_path / "home"))

    def invoke(*argv):
        code = main(["--model", str(tiny_model_dir), *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return invoke


def _library_rows(tmp_path):
    path = tmp_path / "home" / "library.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT path, sha256, status FROM documents ORDER BY id").fetchall()


def test_ask_json_prints_one_object_per_question(run, notes):
    code, out, _ = run("ask", str(notes), "-q", "What are the phases of the life cycle?", "--json")
    assert code == 0
    [line] = out.splitlines()
    payload = json.loads(line)
    assert payload["question"] == "What are the phases of the life cycle?"
    best = payload["answers"][0]
    assert set(best) == {"text", "score", "document", "page", "page_label", "start", "end"}
    assert best["text"] == "preparation, detection and analysis"
    assert LIFE_CYCLE[best["start"] : best["end"]] == best["text"]
    assert best["page"] == 1 and best["document"] == str(notes)


def test_ask_questions_file_batches(run, notes, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("What are the phases?\n\nWhat is the weather like?\n", encoding="utf-8")
    code, out, _ = run("ask", str(notes), "--questions", str(questions), "--json", "--top-k", "1")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["question"] for line in lines] == ["What are the phases?", "What is the weather like?"]
    assert all(len(line["answers"]) <= 1 for line in lines)


def test_ask_json_says_not_found_and_lists_the_guesses(run, notes, tmp_path):
    # The tiny model is sure only of the life-cycle span: about the weather it has guesses, not an answer.
    weather = tmp_path / "weather.txt"
    text = "The weather was sunny and the cats and dogs slept outside all day."
    weather.write_text(text, encoding="utf-8")
    code, out, _ = run("ask", str(weather), "-q", "What was the weather like?", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["found"] is False and payload["answers"] == []
    assert payload["guesses"] and all(text[g["start"] : g["end"]] == g["text"] for g in payload["guesses"])
    code, out, _ = run("ask", str(notes), "-q", "What are the phases?", "--json")
    answered = json.loads(out)
    assert answered["found"] is True and answered["answers"]
    assert all(g["score"] < answered["answers"][-1]["score"] for g in answered["guesses"])


def test_an_answer_is_printed_with_its_less_likely_alternatives_below_it(capsys):
    from qa_reader.cli import _answer_set_json, _print_answers
    from qa_reader.types import Answer, AnswerSet

    def answer(text: str, score: float) -> Answer:
        return Answer(text, score, 1, "Guide", "/docs/guide.txt", 1, 0, len(text), f"It is {text}.", 0)

    result = AnswerSet("What is it?", (answer("four", 0.81),), (answer("five", 0.2), answer("six", 0.05)), 0.6)
    _print_answers(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("  1. four   [81%")
    assert lines[3] == "   Less likely, below the confidence threshold:"
    assert lines[4].startswith("  2. five   [20%") and lines[6].startswith("  3. six   [5%")
    payload = _answer_set_json(result)
    assert payload["found"] and [g["text"] for g in payload["guesses"]] == ["five", "six"]


def test_an_overlong_line_in_a_questions_file_is_named_and_skipped(run, notes, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("What are the phases?\n\n" + "why " * 5000 + "\nWhat is the weather like?\n")
    code, out, err = run("ask", str(notes), "--questions", str(questions), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["question"] for line in lines] == ["What are the phases?", "What is the weather like?"]
    assert "questions.txt, line 3: The question is 19,999 characters long" in err
    assert "skipped" in err and "Traceback" not in err
    assert code == 1


def test_ask_plain_output_names_page_and_confidence(run, notes):
    code, out, _ = run("ask", str(notes), "-q", "What are the phases?")
    assert code == 0
    assert "preparation, detection and analysis" in out and "p. 1" in out


def test_index_then_library_lists_the_document(run, notes):
    assert run("index", str(notes))[0] == 0
    code, out, _ = run("library")
    assert code == 0 and "notes" in out and "ready" in out


def _written(name, content):
    def make(folder):
        path = folder / name
        path.write_bytes(content)
        return path

    return make


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (lambda folder: folder / "missing.txt", "does not exist"),
        (_written("empty.txt", b""), "empty"),
        (_written("junk.pdf", b"%PDF-1.4 garbage \x00\x01" * 10), "junk.pdf"),
        (_written("binary.txt", bytes(range(256)) * 8), "binary.txt"),
    ],
)
def test_bad_files_give_one_line_exit_1_and_leave_the_library_as_it_was(run, notes, tmp_path, make_file, message):
    run("index", str(notes))
    before = _library_rows(tmp_path)
    bad = make_file(tmp_path)
    code, out, err = run("ask", str(bad), "-q", "What are the phases?")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and message in err
    assert _library_rows(tmp_path) == before


@pytest.mark.parametrize("question", ["", "   ", "q" * 2000])
def test_empty_or_overlong_question(run, notes, question):
    code, _, err = run("ask", str(notes), "-q", question)
    assert code == 1 and len(err.strip().splitlines()) == 1


def test_missing_model_is_a_user_error(run, notes, tmp_path):
    code = main(["--model", str(tmp_path / "no-model"), "ask", str(notes), "-q", "What?"])
    assert code == 1


def test_usage_errors_exit_2(run, notes):
    with pytest.raises(SystemExit) as exit_info:
        main(["ask", str(notes)])
    assert exit_info.value.code == 2


def test_bad_top_k(run, notes):
    assert run("ask", str(notes), "-q", "What?", "--top-k", "0")[0] == 1


def _squad_file(tmp_path):
    payload = {
        "data": [
            {
                "title": "Incident response",
                "paragraphs": [
                    {
                        "context": LIFE_CYCLE,
                        "qas": [
                            {
                                "id": "q1",
                                "question": "What are the phases?",
                                "answers": [
                                    {
                                        "text": "preparation, detection and analysis",
                                        "answer_start": LIFE_CYCLE.index("preparation,"),
                                    }
                                ],
                            },
                            {
                                "id": "q2",
                                "question": "Who is on the team?",
                                "answers": [
                                    {
                                        "text": "incident response team",
                                        "answer_start": LIFE_CYCLE.index("incident response team"),
                                    }
                                ],
                            },
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "mini-squad.json"
    path.write_text(json.dumps(payload))
    return path


def _with_partial_answer(path):
    """Add a question whose gold answer overlaps the tiny model's answer in part (so F1 and EM differ)."""
    payload = json.loads(path.read_text())
    gold = "detection and analysis"
    payload["data"][0]["paragraphs"][0]["qas"].append(
        {
            "id": "q3",
            "question": "What follows preparation?",
            "answers": [{"text": gold, "answer_start": LIFE_CYCLE.index(gold)}],
        }
    )
    path.write_text(json.dumps(payload))
    return path


def test_eval_json_reports_scores_and_timings(run, tmp_path, tiny_model_dir):
    path = _with_partial_answer(_squad_file(tmp_path))
    code, out, _ = run("eval", str(path), "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"exact_match", "f1", "questions", "questions_per_second", "ms_mean", "ms_p50", "ms_p90"}
    assert report["questions"] == 3
    # Recomputed from the reader's own answers and the official metric, one question at a time.
    reader = build_reader(tiny_model_dir)
    scores = [squad.score(reader.predict(q.question, q.context).text, q.answers) for q in squad.load(path)]
    assert [em for em, _ in scores] == [1.0, 0.0, 0.0]  # the tiny model answers q1 exactly, q2 and q3 not
    assert report["exact_match"] == pytest.approx(100 * sum(em for em, _ in scores) / 3, abs=0.01)
    assert report["f1"] == pytest.approx(100 * sum(f1 for _, f1 in scores) / 3, abs=0.01)
    assert report["f1"] > report["exact_match"]  # q3 earns part of its F1
    assert report["ms_p90"] >= report["ms_p50"] > 0


def test_document_level_eval_reports_the_right_paragraph_refusals_and_calibration(run, tmp_path):
    code, out, _ = run("eval", str(_squad_file(tmp_path)), "--json", "--document-level")
    assert code == 0
    report = json.loads(out)
    assert report["questions"] == report["answerable"] == 2
    assert report["exact_match"] == 50.0
    assert report["right_paragraph"] == 100.0  # one paragraph: every best guess lies in it
    assert report["unanswerable_refused"] is None
    assert 0.0 <= report["ece"] <= 1.0 and report["ms_per_question"] > 0


def test_the_baseline_reader_is_selectable(run, tmp_path):
    code, out, _ = run("eval", str(_squad_file(tmp_path)), "--json", "--reader", "baseline")
    assert code == 0
    assert json.loads(out)["questions"] == 2


def test_eval_of_a_file_that_is_not_squad(run, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"nothing": 1}')
    code, _, err = run("eval", str(path))
    assert code == 1 and "not a SQuAD JSON file" in err
