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
    model.set_answers([answer], guesses=False)
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
