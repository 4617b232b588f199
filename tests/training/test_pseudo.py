"""Silver labelling: the teacher's span mass picks among the paragraph's marked ranges (torch-free)."""

import json

from qa_reader import squad
from qa_reader.reader.predict import ContextSpan
from qa_reader.training.pseudo import choose_label, gold_as_unlabeled, keep, load_unlabeled, trim_range

CONTEXT = "The bridge opened in 1932 and was designed by John Bradfield for the city."
YEAR = (CONTEXT.index("1932"), CONTEXT.index("1932") + 4)
NAME = (CONTEXT.index("John"), CONTEXT.index("Bradfield") + len("Bradfield"))


def _span(start: int, end: int, probability: float) -> ContextSpan:
    return ContextSpan(0, start, end, probability, 0.05)


def test_trim_range_drops_spaces_and_punctuation_the_colour_ran_into():
    text = "born in Houston, Texas, she sang"
    start = text.index("Houston")
    assert trim_range(text, start - 1, start + len("Houston, Texas, ")) == (start, start + len("Houston, Texas"))
    assert trim_range(text, 4, 4) == (4, 4)


def test_the_marked_range_with_most_teacher_mass_wins_even_when_the_single_best_span_is_elsewhere():
    spans = [
        _span(*YEAR, 0.40),  # the teacher's single best span...
        _span(NAME[0], NAME[1], 0.30),  # ...but the name's range collects more mass in total
        _span(NAME[0] + 5, NAME[1], 0.25),
    ]
    label = choose_label(spans, [YEAR, NAME])
    assert label is not None
    assert (label.marked_start, label.marked_end) == NAME
    assert (label.char_start, label.char_end) == NAME  # the best span inside the range
    assert label.probability == 0.30
    assert abs(label.share - 0.55 / 0.95) < 1e-9


def test_spans_reaching_outside_the_range_are_not_labels():
    smeared = (NAME[0] - len("by "), NAME[1])
    label = choose_label([_span(*smeared, 0.9)], [NAME])
    assert label is None


def test_no_marked_ranges_or_no_overlap_gives_no_label():
    assert choose_label([_span(*YEAR, 0.9)], []) is None
    assert choose_label([_span(0, 3, 0.9)], [NAME]) is None


def test_keep_applies_both_thresholds():
    label = choose_label([_span(*YEAR, 0.2), _span(*NAME, 0.1)], [YEAR, NAME])
    assert label is not None
    assert keep(label, 0.1, 0.6)
    assert not keep(label, 0.3, 0.6)
    assert not keep(label, 0.1, 0.7)
    assert not keep(None, 0.0, 0.0)


def test_load_unlabeled_reads_marked_ranges_trimmed(tmp_path):
    payload = {
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": CONTEXT,
                        "qas": [{"id": "q1", "question": "When did it open?"}],
                        "marked_spans": [{"start": YEAR[0] - 1, "end": YEAR[1] + 1, "color": "#000"}],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "unlabeled.json"
    path.write_text(json.dumps(payload))
    (question,) = load_unlabeled(path)
    assert question.marked == (YEAR,)
    assert question.question == "When did it open?"


def test_gold_as_unlabeled_marks_one_range_per_question():
    questions = [
        squad.Question("a", "t", CONTEXT, "When?", ("1932", "in 1932"), (YEAR[0], YEAR[0] - 3), 0),
        squad.Question("b", "t", CONTEXT, "Who?", ("John Bradfield",), (NAME[0],), 0),
        squad.Question("c", "t", CONTEXT, "Why?", (), (), 0),
    ]
    pairs = gold_as_unlabeled(questions)
    assert [q.id for q, _ in pairs] == ["a", "b"]
    assert pairs[0][0].marked == (YEAR, NAME)
