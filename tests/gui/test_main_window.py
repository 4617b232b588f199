"""Flows through the main window on the real engine and the tiny model: open, index, ask, jump, cycle,
cancel, not found, cache hit, file changed, live answers, remove, first launch, missing model."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication

from qa_reader.gui.answers import GuessRole
from qa_reader.gui.document_view import Mark, Span
from tests.gui.conftest import SECOND_ANSWER, ask_and_wait, hold_indexing, open_and_wait

ANSWER = "preparation, detection and analysis"


def test_open_ask_and_see_the_answer_highlighted_in_text(qtbot, window, life_cycle_file: Path) -> None:
    document_id = open_and_wait(qtbot, window, life_cycle_file)
    row = window.library.row(str(life_cycle_file))
    assert row.status == "ready" and row.document_id == document_id

    result = ask_and_wait(qtbot, window, "What are the phases of the incident response life cycle?")

    assert result.found and result.answers[0].text == ANSWER
    assert "1 answer" in window.answers.header.text() or "2 answers" in window.answers.header.text()
    best = result.answers[0]
    assert window.document.text.marks(Mark.ANSWER) == [Span(best.char_start, best.char_end)]
    assert window.document.content.text[best.char_start : best.char_end] == ANSWER
    assert window.answers.current_answer() == best


def test_pdf_answer_is_drawn_on_its_page_and_scrolled_into_view(qtbot, window, life_cycle_pdf: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_pdf)
    pdf = window.document.pdf
    assert window.document.content.is_pdf and pdf.page_count == 2

    result = ask_and_wait(qtbot, window, "What are the phases of the incident response life cycle?")

    best = result.answers[0]
    assert best.page_number == 2
    marks = pdf.marks(Mark.ANSWER)
    assert [h.page_index for h in marks] == [1]
    x0, y0, x1, y1 = marks[0].rects[0]
    assert 72 <= x0 < x1 <= 540 and 300 <= y0 < y1 <= 720  # inside the text box on the page
    qtbot.waitUntil(lambda: pdf.is_visible(marks[0]), timeout=3000)
    assert pdf.current_page == 1
    qtbot.waitUntil(lambda: 1 in pdf.rendered_pages(), timeout=5000)


def test_zoom_and_fit_width_keep_the_page_in_view(qtbot, window, life_cycle_pdf: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_pdf)
    pdf = window.document.pdf
    fitted = pdf.zoom
    window.action("zoom_in").trigger()
    assert pdf.zoom > fitted
    window.action("zoom_out").trigger()
    window.action("zoom_out").trigger()
    assert pdf.zoom < fitted
    window.action("fit_width").trigger()
    assert abs(pdf.zoom - fitted) < 1e-6
    window.action("next_page").trigger()
    assert pdf.current_page == 1


def test_f3_cycles_through_the_answers_and_enter_jumps(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    result = ask_and_wait(qtbot, window, "What are the phases?")
    assert [a.text for a in result.answers] == [ANSWER, SECOND_ANSWER.rstrip(".")]

    window.action("next_answer").trigger()
    second = result.answers[1]
    assert window.answers.current_answer() == second
    assert window.document.text.marks(Mark.ANSWER) == [Span(second.char_start, second.char_end)]
    first = result.answers[0]
    assert window.document.text.marks(Mark.ALTERNATIVE) == [Span(first.char_start, first.char_end)]

    window.action("next_answer").trigger()  # wraps round
    assert window.answers.current_answer() == result.answers[0]
    window.action("previous_answer").trigger()
    assert window.answers.current_answer() == second

    window.answers.list.setFocus()
    window.answers.list.setCurrentIndex(window.answers.model.index(0))
    qtbot.keyClick(window.answers.list, Qt.Key.Key_Return)
    assert window.document.text.marks(Mark.ANSWER)[0].char_start == result.answers[0].char_start


def test_a_greyed_alternative_is_marked_on_the_page_only_when_chosen(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    asked = ask_and_wait(qtbot, window, "What are the phases?")
    first, second = asked.answers[:2]
    less_likely = replace(second, score=asked.threshold / 2)
    window._on_answered(replace(asked, answers=(first,), guesses=(less_likely,)), "this document", False)
    assert window.answers.model.index(1).data(GuessRole) is True
    assert window.document.text.marks(Mark.ANSWER) == [Span(first.char_start, first.char_end)]
    assert window.document.text.marks(Mark.ALTERNATIVE) == []  # a guess is not marked like an answer
    window.action("next_answer").trigger()
    assert window.document.text.marks(Mark.ANSWER) == [Span(second.char_start, second.char_end)]
    assert window.document.text.marks(Mark.ALTERNATIVE) == [Span(first.char_start, first.char_end)]


def test_not_found_says_so_and_greys_the_guesses(qtbot, window, pets_file: Path) -> None:
    open_and_wait(qtbot, window, pets_file)
    result = ask_and_wait(qtbot, window, "What do cats like?")
    assert not result.found and result.guesses
    assert "not in this document" in window.answers.header.text()
    assert window.answers.model.rowCount() == len(result.guesses)
    assert window.answers.model.index(0).data(GuessRole) is True
    assert window.document.text.marks(Mark.ANSWER) == []


def test_a_repeated_question_comes_from_the_cache(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    first = ask_and_wait(qtbot, window, "What are the phases?")
    window.answers.show_hint()
    second = ask_and_wait(qtbot, window, "what are the phases")
    assert not first.from_cache and second.from_cache
    assert "from the cache" in window.answers.header.text()
    assert [a.text for a in second.answers] == [a.text for a in first.answers]


def test_a_changed_file_is_indexed_again_and_old_answers_disappear(qtbot, window, life_cycle_file: Path) -> None:
    document_id = open_and_wait(qtbot, window, life_cycle_file)
    before = ask_and_wait(qtbot, window, "What are the phases?")
    old_sha = window.library_work.record(document_id).sha256

    time.sleep(0.05)  # a new mtime even on coarse file systems
    life_cycle_file.write_text("A new first line moves every offset.\n\n" + life_cycle_file.read_text(), "utf-8")

    qtbot.waitUntil(lambda: window.library_work.record(document_id).sha256 != old_sha, timeout=10000)
    qtbot.waitUntil(
        lambda: (
            window.answers.result is not None
            and window.answers.result is not before
            and window.document.content.text.startswith("A new first line")
        ),
        timeout=10000,
    )
    text = window.document.content.text
    for answer in window.answers.answers():
        assert text[answer.char_start : answer.char_end] == answer.text
    assert window.answers.answers()[0].char_start > before.answers[0].char_start


def test_answers_from_another_version_of_the_text_are_not_marked(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    result = ask_and_wait(qtbot, window, "What are the phases of the incident response life cycle?")
    best = result.answers[0]
    moved = replace(best, char_start=best.char_start + 38, char_end=best.char_end + 38)  # offsets of a newer text
    window.document.set_answers([moved], moved)
    assert window.document.text.marks(Mark.ANSWER) == []
    window.document.set_answers([best], best)
    assert window.document.text.marks(Mark.ANSWER) == [Span(best.char_start, best.char_end)]


def test_answers_as_you_type_without_pressing_enter(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    window.question.field.setFocus()
    qtbot.keyClicks(window.question.field, "phases?")
    qtbot.waitUntil(lambda: window.answers.result is not None, timeout=5000)
    assert "as you type" in window.answers.header.text()
    assert window.answers.answers()[0].text == ANSWER
    assert window.session == []  # only questions asked with Enter are part of the session


def test_question_history_walks_with_up_and_down(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "First question?")
    ask_and_wait(qtbot, window, "Second question?")
    field = window.question.field
    field.setText("draft")
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == "Second question?"
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == "First question?"
    qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert field.text() == "draft"


def test_the_question_history_is_the_librarys_and_outlives_the_window(qtbot, make_window, life_cycle_file) -> None:
    first = make_window()
    open_and_wait(qtbot, first, life_cycle_file)
    ask_and_wait(qtbot, first, "First question?")
    ask_and_wait(qtbot, first, "Second question?")
    first.close()
    assert "history/questions" not in first.preferences.all_keys()  # one history: not kept in QSettings too
    again = make_window()
    qtbot.waitUntil(lambda: again.question.field.history == ["Second question?", "First question?"], timeout=5000)


def test_a_history_kept_by_an_earlier_version_is_taken_over_once(qtbot, make_window, gui_home: Path) -> None:
    from PySide6.QtCore import QSettings

    old = QSettings(str(gui_home / "qa-reader-gui.ini"), QSettings.Format.IniFormat)
    old.setValue("history/questions", ["Newest old question?", "Oldest old question?"])
    old.sync()
    window = make_window()
    expected = ["Newest old question?", "Oldest old question?"]
    qtbot.waitUntil(lambda: window.question.field.history == expected, timeout=5000)
    history = window.runner.submit(lambda engine: engine.history())
    qtbot.waitUntil(lambda: history.is_settled, timeout=5000)
    assert history.result == expected
    assert "history/questions" not in window.preferences.all_keys()


def test_scope_toggle_asks_the_whole_library(qtbot, window, life_cycle_file: Path, pets_file: Path) -> None:
    open_and_wait(qtbot, window, pets_file)
    open_and_wait(qtbot, window, life_cycle_file)
    window.open_document(window.library.row(str(pets_file)).document_id)
    qtbot.waitUntil(lambda: window.document.content.record.path == str(pets_file), timeout=5000)

    assert not ask_and_wait(qtbot, window, "What are the phases?").found
    window.action("toggle_scope").trigger()
    assert window.question.whole_library and window.question.scope.text() == "Whole library"
    result = ask_and_wait(qtbot, window, "What are the phases, really?")
    assert result.found and "in the library" in window.answers.header.text()
    # The best answer lives in the other document: the view opens it at the answer.
    qtbot.waitUntil(lambda: window.document.content.record.path == str(life_cycle_file), timeout=5000)
    qtbot.waitUntil(lambda: bool(window.document.text.marks(Mark.ANSWER)), timeout=5000)


def test_escape_cancels_indexing(qtbot, window, life_cycle_file: Path, pets_file: Path) -> None:
    more = []
    for number in range(4):
        path = pets_file.with_name(f"pets-{number}.txt")
        path.write_text(f"Pet number {number} likes sunny weather.", encoding="utf-8")
        more.append(path)
    paths = [str(path) for path in (life_cycle_file, pets_file, *more)]
    cancelled = []
    window.indexing.cancelled.connect(cancelled.append)
    window.open_paths([Path(path) for path in paths])
    assert window.action("cancel").isEnabled()
    window.action("cancel").trigger()
    qtbot.waitUntil(lambda: window.indexing.count == 0, timeout=10000)
    assert not window.action("cancel").isEnabled()
    indexed = [row.path for row in window.library.rows() if row.document_id is not None]
    # The worker may finish a file or two before Esc arrives; the rest come back cancelled, not indexed.
    assert paths[-1] in cancelled and paths[-1] not in indexed
    assert not set(cancelled) & set(indexed)
    assert set(cancelled) | set(indexed) == set(paths)
    assert all(row.status not in ("waiting", "indexing") for row in window.library.rows())


def test_removing_a_document_clears_it_everywhere(qtbot, window, life_cycle_file: Path, monkeypatch) -> None:
    monkeypatch.setattr(window, "confirm_remove", lambda title: True)
    document_id = open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "What are the phases?")
    window.library.list.setCurrentRow(0)
    window.library.list.setFocus()
    qtbot.keyClick(window.library.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.library.row_by_id(document_id) is None, timeout=5000)
    assert window.document.content is None
    assert window.answers.result is None


def test_copy_answer_with_its_citation(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "What are the phases?")
    window.action("copy_answer").trigger()
    assert QGuiApplication.clipboard().text() == f"“{ANSWER}” — life-cycle, p. 1"


def test_export_the_session_as_markdown_and_csv(qtbot, window, life_cycle_file: Path, tmp_path: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "What are the phases?")
    window.write_session(tmp_path / "session.md", csv_format=False)
    window.write_session(tmp_path / "session.csv", csv_format=True)
    markdown = (tmp_path / "session.md").read_text("utf-8")
    assert "## 1. What are the phases?" in markdown and f"**{ANSWER}** — life-cycle, p. 1" in markdown
    csv_text = (tmp_path / "session.csv").read_text("utf-8")
    assert csv_text.splitlines()[1].startswith('What are the phases?,1,"preparation, detection and analysis"')


def test_selected_text_is_asked_with_ctrl_enter(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    window.question.set_text("an older question")  # the selection wins over the question bar
    view = window.document.text
    cursor = view.textCursor()
    start = window.document.content.text.index("four phases")
    cursor.setPosition(start)
    cursor.setPosition(start + len("four phases"), cursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)
    window.action("ask_selection").trigger()
    assert window.question.text() == "four phases"
    qtbot.waitUntil(
        lambda: window.answers.result is not None and window.answers.result.question == "four phases", timeout=5000
    )
    best = window.answers.result.answers[0]
    assert best.text == ANSWER
    assert window.document.text.marks(Mark.ANSWER) == [Span(best.char_start, best.char_end)]


def test_find_marks_every_match_and_walks_them(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    window.action("find").trigger()
    bar = window.document.find_bar
    assert bar.isVisible()
    bar.field.setText("incident")
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    matches = window.document.find_matches
    assert len(matches) == window.document.content.text.lower().count("incident")
    assert window.document.text.marks(Mark.FIND_CURRENT) == [matches[0]]
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert window.document.text.marks(Mark.FIND_CURRENT) == [matches[1]]
    assert bar.count.text() == f"2 of {len(matches)}"


def test_first_launch_adds_the_sample_document(qtbot, make_window) -> None:
    from qa_reader import config

    sample = config.resources_dir() / "sample" / "welcome.md"
    window = make_window(sample=sample)
    qtbot.waitUntil(lambda: window.document.content is not None, timeout=10000)
    assert window.document.content.record.title == "Welcome to QA Reader"
    assert window.preferences.sample_offered()


def test_without_a_model_the_app_opens_and_says_why(qtbot, make_window, tmp_path: Path, life_cycle_file) -> None:
    window = make_window(model_dir=tmp_path / "no-model")
    qtbot.waitUntil(lambda: "missing" in window.model_label.text(), timeout=5000)
    open_and_wait(qtbot, window, life_cycle_file)
    window.ask("What are the phases?")
    qtbot.waitUntil(lambda: "does not exist" in window.answers.header.text(), timeout=5000)


def test_shortcuts_overlay_opens_and_closes(qtbot, window) -> None:
    window.action("shortcuts").trigger()
    assert window.overlay.isVisible()
    qtbot.keyClick(window.overlay, Qt.Key.Key_Escape)
    assert not window.overlay.isVisible()


def test_window_state_is_restored(qtbot, make_window) -> None:
    window = make_window()
    window.splitter.setSizes([300, 500, 400])
    sizes = window.splitter.sizes()
    window.close()
    again = make_window()
    assert again.splitter.sizes() == sizes


def test_dragging_over_pdf_words_selects_them_for_ctrl_enter(qtbot, window, life_cycle_pdf: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_pdf)
    content = window.document.content
    pdf = window.document.pdf
    start = content.text.index("four phases")
    end = start + len("four phases")
    pdf.go_to_page(1)
    page_start, boxes = content.boxes[1]
    rect = pdf.page_rect(1)

    def point(char_offset: int, side: int):
        x0, y0, x1, y1 = boxes[char_offset - page_start]
        x = x0 + 1 if side < 0 else x1 - 1
        return QPoint(int(rect.left() + x * pdf.zoom), int(rect.top() + (y0 + y1) / 2 * pdf.zoom))

    qtbot.mousePress(pdf.viewport(), Qt.MouseButton.LeftButton, pos=point(start, -1))
    qtbot.mouseMove(pdf.viewport(), pos=point(end - 1, +1))
    qtbot.mouseRelease(pdf.viewport(), Qt.MouseButton.LeftButton, pos=point(end - 1, +1))
    assert pdf.selected_text() == "four phases"
    assert [h.page_index for h in pdf.marks(Mark.SELECTION)] == [1]
    window.action("ask_selection").trigger()
    assert window.question.text() == "four phases"


def test_a_scanned_pdf_is_listed_as_scanned_with_the_reason(qtbot, window, tmp_path: Path) -> None:
    import pymupdf

    path = tmp_path / "scan.pdf"
    document = pymupdf.open()
    document.new_page()
    document.new_page()
    document.save(path)
    document.close()
    window.open_paths([path])
    qtbot.waitUntil(lambda: window.library.row(str(path)).status == "scanned", timeout=10000)
    assert "OCR" in window.library.row(str(path)).detail
    assert str(path) in window.preferences.recent_files()


def test_a_damaged_pdf_named_scanned_is_listed_as_failed_not_scanned(qtbot, window, tmp_path: Path) -> None:
    path = tmp_path / "scanned-report.pdf"
    path.write_bytes(bytes(range(256)) * 8)
    window.open_paths([path])
    # Listed by the library (with its id) once the failure is recorded.
    qtbot.waitUntil(lambda: window.library.row(str(path)).document_id is not None, timeout=10000)
    row = window.library.row(str(path))
    assert row.status == "failed" and "is damaged" in row.detail


def test_dropping_a_folder_adds_its_documents(qtbot, window, life_cycle_file: Path, pets_file: Path) -> None:
    (life_cycle_file.parent / "notes.bin").write_bytes(b"\x00\x01")
    window.open_paths([life_cycle_file.parent])
    qtbot.waitUntil(lambda: window.indexing.count == 0 and window.document.content is not None, timeout=10000)
    titles = sorted(row.title for row in window.library.rows())
    assert titles == ["life-cycle", "pets"]
    assert window.preferences.recent_files() == [str(life_cycle_file.parent)]


def test_dropped_files_are_opened(qtbot, window, life_cycle_file: Path) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(life_cycle_file))])
    drop = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.document.content is not None, timeout=10000)
    assert window.document.content.record.path == str(life_cycle_file)


def test_ctrl_shift_space_opens_the_quick_lookup(qtbot, window) -> None:
    window.action("lookup").trigger()
    assert window.lookup is not None and window.lookup.isVisible()
    window.lookup.close()


def test_closing_the_window_stops_the_worker(qtbot, window) -> None:
    window.close()
    assert not window.runner.running
    assert not window.renderer.running


def test_a_file_changed_while_the_app_was_closed_is_indexed_again(qtbot, make_window, life_cycle_file: Path) -> None:
    first = make_window()
    document_id = open_and_wait(qtbot, first, life_cycle_file)
    old_sha = first.library_work.record(document_id).sha256
    first.close()
    time.sleep(0.05)
    life_cycle_file.write_text("Edited while QA Reader was closed.\n\n" + life_cycle_file.read_text(), "utf-8")
    second = make_window()
    qtbot.waitUntil(
        lambda: (
            second.library_work.record(document_id) is not None
            and second.library_work.record(document_id).sha256 != old_sha
        ),
        timeout=10000,
    )
    qtbot.waitUntil(
        lambda: second.document.content is not None and second.document.content.text.startswith("Edited while"),
        timeout=10000,
    )


# --- issue 13: faults a user found -----------------------------------------------------------------------


def _answers_shown_for(window, question: str) -> bool:
    result = window.answers.result
    return result is not None and result.question == question


def test_a_lookup_question_leaves_the_main_windows_question_its_answer(qtbot, window, life_cycle_file: Path) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    window.ask("What are the phases?")
    window.open_lookup("What are the phases of the incident response life cycle?")
    lookup = window.lookup
    qtbot.waitUntil(lambda: lookup.current_answer is not None, timeout=10000)
    qtbot.waitUntil(lambda: _answers_shown_for(window, "What are the phases?"), timeout=10000)
    assert window.answers.answers()[0].text == ANSWER
    assert "Reading for" not in window.answers.header.text()
    lookup.close()


def test_opening_another_document_clears_the_answers_about_the_first(
    qtbot, window, life_cycle_file: Path, pets_file: Path
) -> None:
    pets_id = open_and_wait(qtbot, window, pets_file)
    open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "What are the phases?")
    window.open_document(pets_id)
    qtbot.waitUntil(lambda: window.document.document_id == pets_id, timeout=5000)
    assert window.answers.result is None and window.answers.answers() == []


def test_answers_about_the_whole_library_stay_when_another_document_opens(
    qtbot, window, life_cycle_file: Path, pets_file: Path
) -> None:
    pets_id = open_and_wait(qtbot, window, pets_file)
    open_and_wait(qtbot, window, life_cycle_file)
    window.question.set_whole_library(True)
    result = ask_and_wait(qtbot, window, "What are the phases?")
    window.open_document(pets_id)
    qtbot.waitUntil(lambda: window.document.document_id == pets_id, timeout=5000)
    assert window.answers.result is result and "in the library" in window.answers.header.text()


def test_a_question_waiting_for_cancelled_files_is_not_asked_of_other_documents(
    qtbot, window, life_cycle_file: Path, pets_file: Path, monkeypatch
) -> None:
    open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "What are the phases?")
    cancelled = hold_indexing(monkeypatch, pets_file)  # the pets file waits until the test has cancelled it
    requests = window.open_paths([pets_file], question="Who likes weather?")
    window.cancel_indexing()
    cancelled.set()
    qtbot.waitUntil(lambda: all(request.is_settled for request in requests), timeout=10000)
    qtbot.wait(200)
    assert window.answers.result is None
    assert all(a.document_path != str(life_cycle_file) for a in window.answers.answers())


def test_removing_the_open_document_leaves_no_answers_about_another(
    qtbot, window, life_cycle_file: Path, pets_file: Path, monkeypatch
) -> None:
    monkeypatch.setattr(window, "confirm_remove", lambda title: True)
    pets_id = open_and_wait(qtbot, window, pets_file)
    open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "What are the phases?")
    window.open_document(pets_id)
    qtbot.waitUntil(lambda: window.document.document_id == pets_id, timeout=5000)
    window.action("remove").trigger()
    qtbot.waitUntil(lambda: window.library.row_by_id(pets_id) is None, timeout=5000)
    assert window.document.content is None
    assert window.answers.result is None and window.answers.answers() == []


def test_show_in_qa_reader_replaces_the_answers_and_their_scope(
    qtbot, window, life_cycle_file: Path, pets_file: Path
) -> None:
    pets_id = open_and_wait(qtbot, window, pets_file)
    life_id = open_and_wait(qtbot, window, life_cycle_file)
    window.open_document(pets_id)
    qtbot.waitUntil(lambda: window.document.document_id == pets_id, timeout=5000)
    ask_and_wait(qtbot, window, "What do cats like?")
    window.open_lookup("What are the phases?")
    lookup = window.lookup
    qtbot.waitUntil(lambda: lookup.current_answer is not None, timeout=10000)
    lookup.show_button.click()
    qtbot.waitUntil(lambda: window.document.document_id == life_id, timeout=5000)
    assert [a.text for a in window.answers.answers()] == [ANSWER]
    assert window.answers.result.question == "What are the phases?"
    assert "in the library" in window.answers.header.text()
    # The lookup's answer is about the library: opening the pets file again keeps it (re-scoped, not stale).
    window.open_document(pets_id)
    qtbot.waitUntil(lambda: window.document.document_id == pets_id, timeout=5000)
    assert [a.text for a in window.answers.answers()] == [ANSWER]
    lookup.close()


def test_ctrl_e_exports_while_the_question_bar_has_the_focus(
    qtbot, make_window, life_cycle_file: Path, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QFileDialog, QLineEdit

    # Desktops with the X11 key scheme bind Ctrl+E to "end of line" in every line edit; the offscreen platform
    # does not, so the line edit is taught to claim it as it does there.
    line_edit_event = QLineEdit.event

    def x11_event(self, event):
        control_e = event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_E
        if control_e and event.modifiers() == Qt.KeyboardModifier.ControlModifier:
            event.accept()
            return True
        return line_edit_event(self, event)

    monkeypatch.setattr(QLineEdit, "event", x11_event)
    window = make_window()  # made after the patch: a line edit looks up its event handler when first made
    target = tmp_path / "from-ctrl-e.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "Markdown (*.md)"))
    open_and_wait(qtbot, window, life_cycle_file)
    ask_and_wait(qtbot, window, "What are the phases?")
    window.activateWindow()
    window.question.focus()
    qtbot.waitUntil(lambda: window.question.field.hasFocus(), timeout=2000)
    qtbot.keyClick(window.question.field, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert target.exists() and ANSWER in target.read_text("utf-8")


def test_delete_asks_before_removing_a_document(qtbot, window, life_cycle_file: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    asked = []

    def answer(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    document_id = open_and_wait(qtbot, window, life_cycle_file)
    window.library.list.setCurrentRow(0)
    window.library.list.setFocus()
    qtbot.keyClick(window.library.list, Qt.Key.Key_Delete)
    listing = window.library_work.refresh()  # queued after a removal, had there been one
    qtbot.waitUntil(lambda: listing.is_settled, timeout=5000)
    assert len(asked) == 1 and "life-cycle" in asked[0]
    assert window.library.row_by_id(document_id) is not None and window.document.content is not None

    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    qtbot.keyClick(window.library.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.library.row_by_id(document_id) is None, timeout=5000)


def test_citations_give_the_printed_page_label_beside_the_pdf_page(
    qtbot, window, life_cycle_pdf: Path, tmp_path: Path
) -> None:
    import pymupdf

    labelled = tmp_path / "docs" / "labelled.pdf"
    document = pymupdf.open(life_cycle_pdf)
    document.set_page_labels([{"startpage": 0, "prefix": "", "style": "D", "firstpagenum": 46}])
    document.save(labelled)
    document.close()
    open_and_wait(qtbot, window, labelled)
    ask_and_wait(qtbot, window, "What are the phases of the incident response life cycle?")
    shown = window.answers.model.index(0).data(Qt.ItemDataRole.DisplayRole)
    assert "labelled, p. 47 (PDF page 2)" in shown
    window.action("copy_answer").trigger()
    assert QGuiApplication.clipboard().text() == f"“{ANSWER}” — labelled, p. 47 (PDF page 2)"
    window.write_session(tmp_path / "session.md", csv_format=False)
    assert f"**{ANSWER}** — labelled, p. 47 (PDF page 2)" in (tmp_path / "session.md").read_text("utf-8")
    window.write_session(tmp_path / "session.csv", csv_format=True)
    assert (tmp_path / "session.csv").read_text("utf-8").splitlines()[1].rstrip().endswith(",47")


def test_markdown_headings_are_shown_as_headings(qtbot, window, tmp_path: Path) -> None:
    path = tmp_path / "docs" / "guide.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# The Guide\n\nBody text here.\n\n## How it works\n\nMore body text.\n", encoding="utf-8")
    open_and_wait(qtbot, window, path)
    view = window.document.text
    assert view.toPlainText() == window.document.content.text  # the offsets used for highlights are unchanged
    blocks = {}
    block = view.document().begin()
    while block.isValid():
        blocks[block.text()] = block
        block = block.next()
    body = blocks["Body text here."]
    assert body.blockFormat().headingLevel() == 0
    for text, level in (("The Guide", 1), ("How it works", 2)):
        heading = blocks[text]
        assert heading.blockFormat().headingLevel() == level
        char_format = heading.begin().fragment().charFormat()
        assert char_format.fontWeight() >= 600
        assert char_format.fontPointSize() > body.charFormat().font().pointSizeF()
