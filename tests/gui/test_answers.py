"""The answers panel's text and the exports: what people read, whatever glyphs the PDF held."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt

from qa_reader.gui.answers import AnswerModel, quoted_with_citation, sentence_html
from qa_reader.gui.export import batch_csv, batch_markdown, session_csv, session_markdown
from qa_reader.types import Answer, AnswerSet

UNSHOWABLE = re.compile("[\ue000-\uf8ff\ufffd]")
SENTENCE = "\uf0b7 Begin with \uf0b7 preparation, then e\ufffdcient detection."


def _bulleted_answer() -> Answer:
    sentence_start = 40
    start = sentence_start + SENTENCE.index("\uf0b7 preparation")
    text = "\uf0b7 preparation"
    return Answer(text, 0.8, 1, "Guide", "/docs/guide.pdf", 3, start, start + len(text), SENTENCE, sentence_start)


def test_private_use_glyphs_read_as_bullets_in_the_panel(qtbot) -> None:
    answer = _bulleted_answer()
    shown = sentence_html(answer)
    assert "<b>• preparation</b>" in shown
    assert shown.startswith("• Begin with ") and "ecient detection." in shown
    assert not UNSHOWABLE.search(shown)
    assert quoted_with_citation(answer) == "“• preparation” — Guide, p. 3"
    model = AnswerModel()
    model.set_answers([answer], 1)
    assert not UNSHOWABLE.search(model.index(0).data(Qt.ItemDataRole.DisplayRole))
    # What is shown changed; where the answer lies in the document did not.
    assert (answer.char_start, answer.char_end, answer.text) == (53, 66, "\uf0b7 preparation")


def test_private_use_glyphs_read_as_bullets_in_exports() -> None:
    answer = _bulleted_answer()
    results = [AnswerSet("What first?", (answer,), (), 0.1)]
    table = {(0, 0): answer}
    for exported in (
        session_markdown(results),
        session_csv(results),
        batch_csv(["What first?"], ["Guide"], table),
        batch_markdown(["What first?"], ["Guide"], table),
    ):
        assert "• preparation" in exported
        assert not UNSHOWABLE.search(exported)


def test_an_answer_comes_first_and_its_less_likely_alternatives_greyed_below(qtbot) -> None:
    from qa_reader.gui.answers import AnswersPanel, GuessRole

    def answer(text: str, score: float) -> Answer:
        return Answer(text, score, 1, "Guide", "/docs/guide.txt", 1, 0, len(text), f"It is {text}.", 0)

    panel = AnswersPanel()
    qtbot.addWidget(panel)
    sure, less = answer("four", 0.81), answer("five", 0.2)
    panel.show_answers(AnswerSet("What is it?", (sure,), (less,), 0.6), "this document")
    assert panel.answers() == [sure, less] and panel.confident_answers() == [sure]
    assert [panel.model.index(row).data(GuessRole) for row in range(2)] == [False, True]
    assert panel.model.index(1).data(Qt.ItemDataRole.DisplayRole).startswith("Guess 2: five.")
    assert "1 answer in this document" in panel.header.text() and "less likely" in panel.header.text()
    panel.show_answers(AnswerSet("What is it?", (), (less,), 0.6), "this document")
    assert panel.confident_answers() == [] and panel.model.index(0).data(GuessRole) is True
