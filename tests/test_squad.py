"""The SQuAD metric against the official definition on hand-made cases."""

import json
import locale
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa_reader import squad


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Cat!", "cat"),
        ("an  apple, a pear", "apple pear"),
        ("Theory of the state", "theory of state"),  # 'the' only as a word
        ("  Denver   Broncos. ", "denver broncos"),
        ("A.D. 1066", "ad 1066"),
    ],
)
def test_normalize_answer_follows_the_official_rules(text, normal):
    assert squad.normalize_answer(text) == normal


def test_exact_match_ignores_case_articles_and_punctuation():
    assert squad.exact_match("the Denver Broncos", "Denver Broncos!") == 1.0
    assert squad.exact_match("Denver", "Denver Broncos") == 0.0


def test_f1_is_token_overlap_harmonic_mean():
    # prediction 3 tokens, truth 2 tokens, overlap 2: P = 2/3, R = 1, F1 = 0.8
    assert squad.f1("Denver Broncos team", "Denver Broncos") == pytest.approx(0.8)
    assert squad.f1("Carolina", "Denver Broncos") == 0.0
    assert squad.f1("", "Denver") == 0.0


def test_f1_counts_repeated_tokens_once_per_occurrence():
    # Counter intersection: 'a b b' vs 'b b b' overlap 2 (not 3)
    assert squad.f1("x y y", "y y y") == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))


def test_score_takes_the_best_gold_answer():
    assert squad.score("Santa Clara", ("Levi's Stadium", "Santa Clara, California")) == (0.0, pytest.approx(0.8))
    assert squad.score("Levi's Stadium", ("Levi's Stadium", "Santa Clara")) == (1.0, 1.0)


def test_unanswerable_questions_score_only_the_empty_prediction():
    assert squad.score("", ()) == (1.0, 1.0)
    assert squad.score("something", ()) == (0.0, 0.0)
    assert squad.score(" \n\t", ()) == (1.0, 1.0)  # blank is a refusal too


def test_load_reads_articles_paragraphs_and_questions(tmp_path):
    payload = {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "abc def",
                        "qas": [{"id": "1", "question": "q?", "answers": [{"text": "def", "answer_start": 4}]}],
                    },
                    {"context": "ghi", "qas": [{"id": "2", "question": "r?", "answers": []}]},
                ],
            }
        ]
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(payload))
    questions = squad.load(path)
    assert [q.id for q in questions] == ["1", "2"]
    assert questions[0].answers == ("def",) and questions[0].answer_starts == (4,)
    assert questions[1].paragraph_index == 1 and questions[1].answers == ()


def test_load_keeps_every_field_across_articles_and_numbers_paragraphs_through_the_file(tmp_path):
    # A second article without a title, and a SQuAD 2.0 question without an "answers" list.
    payload = {
        "data": [
            {
                "title": "Café",
                "paragraphs": [
                    {
                        "context": "Le café est noir.",
                        "qas": [
                            {"id": 7, "question": "Quel café ?", "answers": [{"text": "noir", "answer_start": 12}]}
                        ],
                    }
                ],
            },
            {
                "paragraphs": [
                    {"context": "First.", "qas": [{"id": "a", "question": "One?", "answers": []}]},
                    {"context": "Second.", "qas": [{"id": "b", "question": "Two?", "plausible_answers": []}]},
                ]
            },
        ]
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    assert squad.load(path) == [
        squad.Question("7", "Café", "Le café est noir.", "Quel café ?", ("noir",), (12,), 0),
        squad.Question("a", "", "First.", "One?", (), (), 1),
        squad.Question("b", "", "Second.", "Two?", (), (), 2),
    ]


def test_load_reads_utf_8_whatever_the_locale_says(tmp_path):
    # Windows and a C locale would read a file with the locale's encoding; SQuAD files are UTF-8.
    path = tmp_path / "s.json"
    context = "Der Bürgermeister von Köln."
    question = {"id": "1", "question": "Wer?", "answers": []}
    payload = {"data": [{"title": "Köln", "paragraphs": [{"context": context, "qas": [question]}]}]}
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    package_root = Path(squad.__file__).resolve().parents[1]
    environment = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    environment["PYTHONPATH"] = str(package_root)
    code = "import sys; from qa_reader import squad; print(ascii(squad.load(sys.argv[1])[0].context))"
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ascii(context)


def test_load_reads_utf_8_when_the_locale_encoding_is_ascii(tmp_path):
    # The C locale, set here in the test process: open() without an encoding would read ASCII.
    if sys.flags.utf8_mode:
        pytest.skip("Python's UTF-8 mode reads every file as UTF-8 whatever the locale")
    path = tmp_path / "s.json"
    question = {"id": "1", "question": "Wo?", "answers": [{"text": "Köln", "answer_start": 0}]}
    payload = {"data": [{"title": "Köln", "paragraphs": [{"context": "Köln am Rhein.", "qas": [question]}]}]}
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        questions = squad.load(path)
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)
    assert questions == [squad.Question("1", "Köln", "Köln am Rhein.", "Wo?", ("Köln",), (0,), 0)]
