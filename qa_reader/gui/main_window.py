"""The main window: library sidebar, document view, question bar, answers panel and status bar, and the
actions and menus over them. The work in flight is the controllers': the library's (library_controller.py),
the questions' (questions.py) and the document's on its way (opening.py). Every command has a shortcut (see
shortcuts.py); nothing here waits on the engine."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from itertools import pairwise
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QWidget,
)

from qa_reader import config
from qa_reader.gui.answers import AnswersPanel, quoted_with_citation
from qa_reader.gui.document_view import DocumentView
from qa_reader.gui.export import session_csv, session_markdown
from qa_reader.gui.indexing import files_in, supported_suffixes
from qa_reader.gui.layout import column
from qa_reader.gui.library_controller import LibraryController
from qa_reader.gui.library_panel import LibraryPanel, path_key
from qa_reader.gui.menus import RecentFilesMenu, fill_menu_bar
from qa_reader.gui.opening import DocumentOpener
from qa_reader.gui.preferences import Preferences
from qa_reader.gui.question_bar import QuestionBar
from qa_reader.gui.questions import QuestionController
from qa_reader.gui.render import PageRenderer
from qa_reader.gui.runner import Request, RequestState, when_settled
from qa_reader.gui.shortcuts import SHORTCUTS, ShortcutsOverlay, key_sequences
from qa_reader.gui.status_bar import IndexingStatus, ModelStatus
from qa_reader.gui.worker import EngineRunner
from qa_reader.types import Answer, AnswerSet, DocumentContent, DocumentRecord, LibraryEntry

log = logging.getLogger(__name__)

MESSAGE_MS = 8000


class MainWindow(QMainWindow):
    """The app's window. `handle_message` takes what the command line (or a second instance) asked for."""

    def __init__(self, runner: EngineRunner, preferences: Preferences, sample: Path | None = None) -> None:
        super().__init__()
        self.runner = runner
        self.preferences = preferences
        self.setWindowTitle("QA Reader")
        self.setAccessibleName("QA Reader")
        self.setAcceptDrops(True)
        self._sample = sample
        self._shut_down = False
        self._lookup = None
        self._actions: dict[str, QAction] = {}
        self.renderer = PageRenderer(self)
        self._build_widgets()
        self._build_actions()
        self._build_status_bar()
        self._connect_work()
        self._restore_state()
        # The first work for the runner: once the library is listed, the model loads.
        self.first_listing = self.library_work.refresh()
        when_settled([self.first_listing], self._on_first_listing)
        self.questions.load_history(self.preferences.take_old_questions())

    # --- construction -------------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.library = LibraryPanel(self)
        self.library.opened.connect(self.open_document)
        self.library.removeRequested.connect(self.remove_document)
        self.library.cancelRequested.connect(self.cancel_indexing)
        self.document = DocumentView(self.renderer, self)
        self.answers = AnswersPanel(self)
        self.answers.activated.connect(self.jump_to)
        self.question = QuestionBar(self)
        self.question.field.setAcceptDrops(False)
        self.question.set_whole_library(self.preferences.whole_library())
        self.question.asked.connect(self._on_asked)
        self.question.paused.connect(self._on_typing_paused)
        self.question.scopeChanged.connect(self._on_scope_changed)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.library)
        self.splitter.addWidget(self.document)
        self.splitter.addWidget(self.answers)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([250, 700, 380])
        self.library.setMinimumWidth(170)
        self.answers.setMinimumWidth(240)

        central = QWidget(self)
        column(central, self.question, self.splitter)
        self.setCentralWidget(central)
        self.overlay = ShortcutsOverlay(self)
        focus_order = (
            self.question.field,
            self.question.scope,
            self.question.ask_button,
            self.library.list,
            self.document.pdf,
            self.document.text,
            self.answers.list,
        )
        for first, second in pairwise(focus_order):
            self.setTabOrder(first, second)

    def _build_actions(self) -> None:
        slots = {
            "open": self.choose_files,
            "find": self.document.show_find,
            "zoom_in": self.document.zoom_in,
            "zoom_out": self.document.zoom_out,
            "fit_width": self.document.fit_width,
            "next_page": self.document.next_page,
            "previous_page": self.document.previous_page,
            "go_to_page": self.document.focus_page_box,
            "focus_question": self.question.focus,
            "toggle_scope": self.question.set_whole_library,
            "next_answer": lambda: self.answers.select(1),
            "previous_answer": lambda: self.answers.select(-1),
            "ask_selection": self.ask_selection,
            "copy_answer": self.copy_answer,
            "lookup": lambda: self.open_lookup(),
            "cancel": self.cancel_indexing,
            "export": self.export_session,
            "batch": self.open_batch,
            "settings": self.open_settings,
            "shortcuts": self.toggle_shortcuts,
            "focus_library": lambda: self.library.list.setFocus(Qt.FocusReason.ShortcutFocusReason),
            "focus_document": self.document.focus_view,
            "focus_answers": lambda: self.answers.list.setFocus(Qt.FocusReason.ShortcutFocusReason),
            "quit": self.close,
        }
        for item in SHORTCUTS:
            if not item.window_action:
                continue
            action = QAction(item.text, self)
            action.setShortcuts(key_sequences(item.name))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slots[item.name])
            self.addAction(action)
            self._actions[item.name] = action
        self._actions["lookup"].setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        editing = {"ask_selection", "cancel"}  # Ctrl+Enter and Esc: the line edit never claimed them
        self.question.field.leave_to_window(
            sequence for name, action in self._actions.items() if name not in editing for sequence in action.shortcuts()
        )
        self._actions["cancel"].setEnabled(False)
        # Checkable: `triggered` carries the new state, and the scope button keeps the tick in step.
        self._actions["toggle_scope"].setCheckable(True)
        self._actions["toggle_scope"].setChecked(self.question.whole_library)
        self.question.scope.toggled.connect(self._actions["toggle_scope"].setChecked)

        for name, text, slot in (
            ("remove", "&Remove from Library", self._on_remove_current),
            ("about", "&About QA Reader", self._on_about),
        ):
            action = QAction(text, self)
            action.triggered.connect(slot)
            self._actions[name] = action
        self.recent_menu = RecentFilesMenu(self.preferences, self)
        self.recent_menu.chosen.connect(lambda path: self.open_paths([path]))
        fill_menu_bar(self.menuBar(), self._actions, self.recent_menu)

    def action(self, name: str) -> QAction:
        """The window's action for a command of shortcuts.py (or "remove"), as its menus and keys trigger it."""
        return self._actions[name]

    def _build_status_bar(self) -> None:
        self.indexing_status = IndexingStatus(self)
        self.indexing_status.cancelRequested.connect(self.cancel_indexing)
        self.model_label = ModelStatus(self)
        self.statusBar().addPermanentWidget(self.indexing_status)
        self.statusBar().addPermanentWidget(self.model_label)

    def _connect_work(self) -> None:
        self.library_work = LibraryController(self.runner, self.library, self)
        self.library_work.indexedAgain.connect(self._on_document_changed)
        self.library_work.fileChanged.connect(self._on_file_changed)
        self.library_work.removed.connect(self._on_removed)
        self.library_work.failed.connect(self._show_failure)
        self.indexing = self.library_work.indexing
        self.indexing_status.follow(self.indexing)
        self.indexing.failed.connect(self._on_index_failed)
        self.indexing.cancelled.connect(self._on_cancelled)
        self.indexing.countChanged.connect(self._on_indexing_changed)
        self.questions = QuestionController(self.runner, self.preferences.engine_settings(), self)
        self.model_label.follow(self.questions)
        self.questions.answered.connect(self._on_answered)
        self.questions.failed.connect(self.answers.show_message)
        self.questions.liveDeclined.connect(self._on_live_declined)
        self.questions.modelFailed.connect(self._show_failure)
        self.questions.historyLoaded.connect(self._on_history_loaded)
        self.opener = DocumentOpener(self.runner, self)
        self.opener.loaded.connect(self._on_document_loaded)
        self.opener.failed.connect(self._show_failure)
        self.opener.indexed.connect(self.open_document)

    def _restore_state(self) -> None:
        geometry = self.preferences.window_state("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(self._default_size())
        splitter = self.preferences.window_state("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def _default_size(self) -> QSize:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return QSize(1280, 800)
        available = screen.availableGeometry()
        return QSize(min(1360, int(available.width() * 0.9)), min(880, int(available.height() * 0.9)))

    # --- messages from the command line ----------------------------------------------------------------

    @Slot(dict)
    def handle_message(self, message: dict) -> None:
        """Act on a command-line request: {"command": "open"|"lookup", "files": [...], "question": str}."""
        command = message.get("command") or "open"
        question = message.get("question") or None
        files = [str(f) for f in message.get("files") or []]
        if command == "lookup":
            self.open_lookup(question if isinstance(question, str) else None)
            return
        if self.isHidden() or self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        if files:
            self.open_paths(files, question=question)
        elif question:
            self.question.set_text(question)
            self._on_asked(question)

    # --- opening and indexing ---------------------------------------------------------------------------

    def choose_files(self) -> None:
        start = str(Path(self.preferences.recent_files()[0]).parent) if self.preferences.recent_files() else ""
        patterns = " ".join(f"*{suffix}" for suffix in supported_suffixes())
        paths, _ = QFileDialog.getOpenFileNames(self, "Open documents", start, f"Documents ({patterns});;All files (*)")
        if paths:
            self.open_paths(paths)

    def open_paths(
        self, paths: Iterable[str | Path], question: str | None = None, remember: bool = True
    ) -> list[Request]:
        """Index files and folders (the first file opens when ready); ask `question` once all are indexed.

        Returns the indexing requests. `remember` puts the paths (not a folder's files) in Open Recent.
        """
        paths = list(paths)
        files = files_in(paths)
        if not files:
            self.statusBar().showMessage("No documents found there (PDF, text, Markdown, HTML or EPUB).", MESSAGE_MS)
            return []
        if remember:
            for path in reversed(paths):
                self.preferences.add_recent_file(path_key(path))
        requests = self.library_work.add(path_key(path) for path in files)
        self.opener.open_when_indexed(requests[0])
        if question:
            self.question.set_text(question)
            when_settled(requests, partial(self._ask_about_indexed, question, requests))
        return requests

    def cancel_indexing(self) -> None:
        count = self.indexing.cancel_all()
        if count:
            self.statusBar().showMessage(f"Cancelling {count} indexing job{'s' if count != 1 else ''}…", MESSAGE_MS)

    def _on_first_listing(self) -> None:
        if self.first_listing.state == RequestState.FAILED:  # the library could not be opened
            self.answers.show_message(self.first_listing.error)
        if self.first_listing.state != RequestState.DONE:
            return
        entries: list[LibraryEntry] = self.first_listing.result
        self.questions.load_model()
        opening_files = self.indexing.count > 0
        if not entries and not opening_files and self._sample is not None and not self.preferences.sample_offered():
            self.preferences.set_sample_offered()
            if self._sample.is_file():
                self.open_paths([self._sample], remember=False)
            return
        if self.document.content is not None or self.opener.busy:
            return
        last = self.preferences.last_document()
        usable = [e.record for e in entries if e.record.status.searchable and not e.missing]
        chosen = next((r for r in usable if r.path == last), usable[0] if usable else None)
        if chosen is not None:
            self.open_document(chosen.id)

    @Slot(str, str)
    def _on_index_failed(self, path: str, message: str) -> None:
        self._show_failure(message)

    @Slot(object)
    def _on_document_changed(self, record: DocumentRecord) -> None:
        """A file changed on disk and was indexed again: show the new text, and never the old answers."""
        if record.id in (self.document.document_id, self.opener.opening):  # shown, or on its way: the new text
            self.open_document(record.id, force=True)
        if self.questions.involve(record.id, self.answers.result):
            question = self.answers.result.question if self.answers.result else self.question.text()
            self.answers.show_message(f"{record.title} changed on disk; asking again…")
            self.document.set_answers([], None, scroll=False)
            if question:
                self._ask(question, into_session=False)
        self.statusBar().showMessage(f"{record.title} changed on disk and was indexed again.", MESSAGE_MS)

    def _drop_answers(self) -> None:
        """Clear the answers panel and forget the question on its way, if any."""
        self.questions.forget()
        self.answers.show_hint()

    @Slot(str)
    def _on_cancelled(self, path: str) -> None:
        self.statusBar().showMessage(f"Indexing {Path(path).name} was cancelled.", MESSAGE_MS)

    @Slot(int)
    def _on_indexing_changed(self, count: int) -> None:
        self._actions["cancel"].setEnabled(count > 0)

    @Slot(object)
    def _on_file_changed(self, record: DocumentRecord) -> None:
        # Answers from the old text must not appear any more, even one already on its way.
        if self.questions.involve(record.id, self.answers.result):
            self.questions.forget()

    # --- showing documents ------------------------------------------------------------------------------

    @Slot(int)
    def open_document(self, document_id: int, force: bool = False) -> None:
        """Show a document (again with `force`, as it is in the library now)."""
        if not force and self.document.document_id == document_id:
            answer = self.opener.take_jump(document_id)
            if answer is not None:
                self.jump_to(answer)
            return
        self.opener.open(document_id, force)

    @Slot(object)
    def _on_document_loaded(self, content: DocumentContent) -> None:
        if not self.questions.covers(content.record.id):
            self._drop_answers()
        self.document.show_content(content)
        self.library.select_document(content.record.id)
        self.preferences.set_last_document(content.record.path)
        self.setWindowTitle(f"{content.record.title} — QA Reader")
        answer = self.opener.take_jump(content.record.id)
        if answer is not None:
            self.jump_to(answer)

    @Slot(object)
    def jump_to(self, answer: Answer) -> None:
        """Show the answer's document and page, the answer highlighted strongest, the confident others
        faintly (a greyed guess is marked only when it is the one chosen)."""
        listed = self.answers.confident_answers()
        if self.document.document_id != answer.document_id:
            self.opener.jump_when_open(answer)
            self.document.set_answers(listed, None, scroll=False)
            self.open_document(answer.document_id)
            return
        self.document.set_answers(listed, answer, scroll=True)
        self.library.select_document(answer.document_id)

    # --- asking -----------------------------------------------------------------------------------------

    def _scope(self) -> tuple[list[int] | None, str]:
        """The document ids to ask (None: the whole library) and how to name them to people."""
        if self.question.whole_library or self.document.document_id is None:
            return None, "the library"
        return [self.document.document_id], "this document"

    def _ask_about_indexed(self, question: str, requests: list[Request]) -> None:
        """Ask the command line's question once its files are indexed, about those files."""
        indexed = [request.result.id for request in requests if request.state == RequestState.DONE]
        ids = None if self.question.whole_library else list(dict.fromkeys(indexed))
        if ids == []:
            # Every file it was about was cancelled or failed: the rest of the library was not asked about.
            self._drop_answers()
            self.statusBar().showMessage(f"“{question}” was not asked: its documents were not indexed.", MESSAGE_MS)
            return
        scope = "this document" if ids and len(ids) == 1 else "these documents" if ids else "the library"
        self.question.field.remember(question)
        self._ask(question, target=(ids, scope))

    @Slot(str)
    def _on_asked(self, question: str) -> None:
        self._ask(question)

    def _ask(
        self, question: str, target: tuple[list[int] | None, str] | None = None, into_session: bool = True
    ) -> Request:
        """Send a question to the engine, replacing any still on its way; `target` (ids, how to name them)
        defaults to the scope toggle's."""
        ids, scope = target or self._scope()
        self.answers.show_busy(question)
        request = self.questions.ask(question, ids, scope, into_session=into_session)
        assert request is not None  # only a live question may be held back
        return request

    def ask(self, question: str) -> Request:
        """Ask as if typed and entered; returns the request (its result is the AnswerSet)."""
        self.question.set_text(question)
        self.question.field.remember(question)
        return self._ask(question)

    @Slot(str)
    def _on_typing_paused(self, question: str) -> None:
        """Answer as the user types when the engine expects it to be quick (never while files are indexed)."""
        ids, scope = self._scope()
        if self.indexing.count or (ids is None and not any(row.searchable for row in self.library.rows())):
            return
        self.questions.ask(question, ids, scope, live=True)

    @Slot(float)
    def _on_live_declined(self, estimate_ms: float) -> None:
        self.statusBar().showMessage(
            f"Answers while typing are off here: a question takes about {estimate_ms:.0f} ms on this machine. "
            "Press Enter to ask.",
            MESSAGE_MS,
        )

    @Slot(list)
    def _on_history_loaded(self, questions: list[str]) -> None:
        # Questions asked before the history arrived stay the most recent.
        self.question.field.set_history(self.question.field.history + questions)

    @Slot(object, str, bool)
    def _on_answered(self, answers: AnswerSet, scope: str, live: bool) -> None:
        self.answers.show_answers(answers, scope, live=live)
        shown = self.answers.answers()
        cached = " (from the cache)" if answers.from_cache else ""
        self.statusBar().showMessage(
            f"Answered in {answers.elapsed_ms:.0f} ms{cached}." if answers.found else "No confident answer.",
            MESSAGE_MS,
        )
        if not shown:
            self.document.set_answers([], None, scroll=False)
            return
        best = shown[0]
        if live:
            # While typing: mark the answers in the open document but never move the view or open another.
            here = best if best.document_id == self.document.document_id and answers.found else None
            self.document.set_answers(self.answers.confident_answers(), here, scroll=False)
        elif answers.found:
            self.jump_to(best)
        else:
            # Guesses stay in the panel; marking them on the page would look like answers.
            self.document.set_answers([], None, scroll=False)

    def ask_selection(self) -> None:
        """Ctrl+Enter: ask the text selected in the document (or the question bar's text)."""
        selected = " ".join(self.document.selected_text().split())
        question = selected or self.question.text()
        if question:
            self.ask(question[:1000])

    def copy_answer(self) -> None:
        answer = self.answers.current_answer()
        if answer is None:
            self.statusBar().showMessage("No answer to copy yet.", MESSAGE_MS)
            return
        QGuiApplication.clipboard().setText(quoted_with_citation(answer))
        self.statusBar().showMessage("Copied the answer with its citation.", MESSAGE_MS)

    # --- failures and removal -----------------------------------------------------------------------------

    def _show_failure(self, message: str) -> None:
        self.statusBar().showMessage(message, MESSAGE_MS * 2)

    @Slot(int, object)
    def _on_removed(self, document_id: int, record: DocumentRecord | None) -> None:
        showing = self.document.document_id == document_id
        if showing:
            self.document.show_content(None)
            self.setWindowTitle("QA Reader")
        if self.questions.involve(document_id, self.answers.result) or (
            showing and self.questions.asked_ids is not None
        ):
            self._drop_answers()
        title = record.title if record is not None else "The document"
        self.statusBar().showMessage(f"Removed {title} from the library (the file itself is untouched).", MESSAGE_MS)

    @Slot()
    def _on_remove_current(self) -> None:
        row = self.library.current_row()
        if row is not None and row.document_id is not None:
            self.remove_document(row.document_id)
        elif self.document.document_id is not None:
            self.remove_document(self.document.document_id)

    @Slot(int)
    def remove_document(self, document_id: int) -> None:
        """Remove a document from the library once the user has confirmed it (the file stays on disk)."""
        record = self.library_work.record(document_id)
        row = self.library.row_by_id(document_id)
        title = record.title if record is not None else row.title if row is not None else "this document"
        if self.confirm_remove(title):
            self.library_work.remove(document_id)

    def confirm_remove(self, title: str) -> bool:
        """Ask whether to remove the document called `title`; True when the user says yes."""
        answer = QMessageBox.question(
            self,
            "Remove from library",
            f"Remove “{title}” from the library?\n\nIts text and cached answers are deleted; the file itself "
            "stays where it is.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    @Slot(bool)
    def _on_scope_changed(self, whole: bool) -> None:
        self.preferences.set_whole_library(whole)
        self.statusBar().showMessage(
            "Questions now go to the whole library." if whole else "Questions now go to the open document.",
            MESSAGE_MS,
        )

    # --- dialogs and windows ----------------------------------------------------------------------------

    def open_lookup(self, question: str | None = None) -> None:
        if self._lookup is None:
            from qa_reader.gui.lookup import LookupWindow

            self._lookup = LookupWindow(self.runner)
            self._lookup.setWindowIcon(self.windowIcon())
            self._lookup.shown.connect(self._on_lookup_shown)
        self._lookup.open_with(question)

    @property
    def lookup(self):
        return self._lookup

    @Slot(object)
    def _on_lookup_shown(self, answer: Answer) -> None:
        if self.isHidden() or self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        # The lookup's answer replaces the main window's question, even one still on its way.
        self._drop_answers()
        self.answers.show_answers(AnswerSet(self._lookup.field.text(), (answer,), (), 0.0), "the library")
        self.jump_to(answer)

    def toggle_shortcuts(self) -> None:
        if self.overlay.isVisible():
            self.overlay.dismiss()
        else:
            self.overlay.open()

    def open_settings(self) -> None:
        from qa_reader.gui.settings_dialog import SettingsDialog
        from qa_reader.gui.theme import apply_theme

        dialog = SettingsDialog(
            self.questions.settings, self.preferences.theme(), self, length_budgets=self.questions.length_budgets
        )
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        settings, theme = dialog.chosen()
        self.apply_settings(settings)
        if theme != self.preferences.theme():
            self.preferences.set_theme(theme)
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, theme)

    def apply_settings(self, settings: config.Settings) -> None:
        self.preferences.set_engine_settings(settings)
        self.questions.load_model(settings)
        self.statusBar().showMessage("Settings saved.", MESSAGE_MS)

    def open_batch(self) -> None:
        from qa_reader.gui.batch import BatchDialog

        dialog = BatchDialog(self.runner, self.library.rows(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def export_session(self) -> None:
        if not self.questions.session:
            self.statusBar().showMessage("Nothing to export yet: ask a question first.", MESSAGE_MS)
            return
        path, chosen_filter = QFileDialog.getSaveFileName(
            self, "Export questions and answers", "qa-reader-session.md", "Markdown (*.md);;CSV (*.csv)"
        )
        if path:
            self.write_session(Path(path), csv_format=path.lower().endswith(".csv") or "CSV" in chosen_filter)

    def write_session(self, path: Path, csv_format: bool) -> None:
        if csv_format and path.suffix.lower() != ".csv":
            path = path.with_suffix(".csv")
        session = self.questions.session
        text = session_csv(session) if csv_format else session_markdown(session)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            QMessageBox.warning(self, "Export failed", f"{path} could not be written ({error.strerror}).")
            return
        self.statusBar().showMessage(f"Exported {len(session)} questions to {path.name}.", MESSAGE_MS)

    @property
    def session(self) -> list[AnswerSet]:
        return self.questions.session

    @Slot()
    def _on_about(self) -> None:
        from qa_reader import __version__

        QMessageBox.about(
            self,
            "About QA Reader",
            f"<b>QA Reader {__version__}</b><p>Ask questions of your documents offline and see the answer "
            "highlighted on the page.</p><p>Press F1 for the keyboard shortcuts.</p>",
        )

    # --- drag and drop ------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # --- closing --------------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.preferences.set_window_state("geometry", self.saveGeometry())
        self.preferences.set_window_state("splitter", self.splitter.saveState())
        if self._lookup is not None:
            self._lookup.close()
        super().closeEvent(event)
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the worker (closing the engine on its thread) and the renderer; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.library_work.stop()
        self.runner.stop()
        self.renderer.stop()
        self.preferences.sync()
