"""The main window's questions in flight and the model that answers them: the question on its way (a newer
one replaces it; one typed live never replaces one asked with Enter), what the answers on show looked in, the
session's questions, the question history and whether the model is loaded."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, SignalInstance

from qa_reader import config
from qa_reader.gui.runner import Lane, Request, Runner
from qa_reader.types import AnswerSet

if TYPE_CHECKING:
    from qa_reader.engine import Engine

LIVE_WITHIN_MS = 60.0  # answer while typing only when the engine expects a question to take well under 100 ms


class QuestionController(QObject):
    """Sends the window's questions to the engine and says what came back."""

    answered = Signal(object, str, bool)  # AnswerSet, how to name where it looked ("this document"), live
    failed = Signal(str)  # a question failed: a sentence for people
    liveDeclined = Signal(float)  # a question typed live was not read: the milliseconds it would have taken
    modelLoaded = Signal(str)  # the model's name
    modelFailed = Signal(str)  # why it cannot be loaded
    historyLoaded = Signal(list)  # the questions asked before, most recent first

    def __init__(self, runner: Runner, settings: config.Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._settings = settings
        self._asks = Lane("the main window's questions")
        self._models = Lane("model loads")
        self._live = False  # whether the latest question was typed live
        self._asked_ids: tuple[int, ...] | None = None
        self._session: list[AnswerSet] = []
        self._model_ready = False
        self._length_budgets: list[dict] = []

    @property
    def settings(self) -> config.Settings:
        """The engine settings in use (or on their way to the engine)."""
        return self._settings

    @property
    def busy(self) -> bool:
        """Whether a question is on its way."""
        return self._asks.busy

    @property
    def model_ready(self) -> bool:
        """Whether the model is loaded (live questions wait for it)."""
        return self._model_ready

    @property
    def session(self) -> list[AnswerSet]:
        """The answers to the questions asked with Enter, in order (what Ctrl+E exports)."""
        return list(self._session)

    @property
    def asked_ids(self) -> tuple[int, ...] | None:
        """The documents the answers on show (or on their way) looked in; None: the whole library."""
        return self._asked_ids

    def load_model(self, settings: config.Settings | None = None) -> Request:
        """Load the model, with new settings when given; `modelLoaded` or `modelFailed` follows."""
        if settings is not None:
            self._settings = settings

        def op(engine: Engine) -> tuple[str, list]:
            if settings is not None:
                engine.update_settings(settings)
            model = engine.load_model()
            return model.name, list(model.manifest.get("length_budgets", []))

        return self._runner.submit(
            op, done=self._on_model_loaded, failed=partial(self._on_model, False), lane=self._models
        )

    @property
    def length_budgets(self) -> list[dict]:
        """The loaded model's length budgets as its manifest lists them (empty: it reads every token)."""
        return self._length_budgets

    def _on_model_loaded(self, loaded: tuple[str, list]) -> None:
        name, self._length_budgets = loaded
        self._on_model(True, name)

    def load_history(self, old_questions: Sequence[str] = ()) -> Request:
        """Read the question history from the library, adding `old_questions` (kept elsewhere by an earlier
        version, most recent first) to it first; `historyLoaded` follows."""
        old = list(old_questions)

        def op(engine: Engine) -> list[str]:
            if old:
                engine.import_history(old)
            return engine.history()

        return self._runner.submit(op, done=partial(self._say, self.historyLoaded))

    def ask(
        self, question: str, ids: Sequence[int] | None, scope: str, *, live: bool = False, into_session: bool = True
    ) -> Request | None:
        """Send a question about `ids` (None: the whole library), named `scope` to people, replacing any on its
        way. A live one (typed, not entered) stays out of the history and the session, is read only when the
        engine expects it to be quick, and is not sent at all before the model is loaded or while a question
        asked with Enter is on its way (returns None)."""
        if live and (not self._model_ready or (self._asks.busy and not self._live)):
            return None
        self._asked_ids = tuple(ids) if ids is not None else None
        self._live = live
        if live:
            return self._runner.submit(
                partial(_ask_quickly, question, ids),
                done=partial(self._on_live_answered, scope),
                failed=partial(self._say, self.failed),
                lane=self._asks,
            )
        return self._runner.submit(
            lambda engine: engine.ask(question, ids),
            done=partial(self._on_answered, scope, into_session),
            failed=partial(self._say, self.failed),
            lane=self._asks,
        )

    def forget(self) -> None:
        """Drop the question on its way, if any, and what the answers looked in."""
        self._asks.forget()
        self._asked_ids = None

    def covers(self, document_id: int) -> bool:
        """Whether the answers on show (or on their way) looked in this document: a question about one
        document says nothing about another, while one about the whole library holds for all of them."""
        return self._asked_ids is None or document_id in self._asked_ids

    def involve(self, document_id: int, shown: AnswerSet | None) -> bool:
        """Whether the answers on show (`shown`) or on their way came from, or looked in, this document."""
        if shown is None and not self._asks.busy:
            return False
        if shown is not None and any(a.document_id == document_id for a in shown.answers + shown.guesses):
            return True
        return self.covers(document_id)

    def _say(self, signal: SignalInstance, value: object) -> None:
        # A bound method, not the signal's own emit: the runner drops it once this controller is deleted.
        signal.emit(value)

    def _on_answered(self, scope: str, into_session: bool, answers: AnswerSet) -> None:
        if into_session:
            self._session.append(answers)
        self.answered.emit(answers, scope, False)

    def _on_live_answered(self, scope: str, outcome: AnswerSet | float) -> None:
        if isinstance(outcome, AnswerSet):
            self.answered.emit(outcome, scope, True)
        else:
            self.liveDeclined.emit(outcome)

    def _on_model(self, ready: bool, text: str) -> None:
        """`text`: the model's name once it is loaded, else why it cannot be."""
        self._model_ready = ready
        (self.modelLoaded if ready else self.modelFailed).emit(text)


def _ask_quickly(question: str, ids: Sequence[int] | None, engine: Engine) -> AnswerSet | float:
    """An op for a question typed live: its answers, or the milliseconds reading it would take when that is
    too long to answer while typing."""
    from qa_reader.engine import TooSlow  # loaded on the engine's thread already

    try:
        return engine.ask(question, ids, remember=False, within_ms=LIVE_WITHIN_MS, live=True)
    except TooSlow as slow:
        return slow.estimate_ms
