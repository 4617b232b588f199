"""The one place a reader is built (the model folder, its tokenizer's windows and an ONNX session), for the
engine, evaluation, the benchmark and training alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa_reader import config
from qa_reader.config import Settings
from qa_reader.errors import UserError
from qa_reader.reader.model import ModelFolder
from qa_reader.reader.predict import BATCH_TOKENS, BatchRunner, ContextSpan, ReadRequest, read_many
from qa_reader.reader.windows import WindowMaker, WindowSettings


@dataclass(frozen=True)
class Prediction:
    """The reader's best span for a question and its probability ("" when there is no span)."""

    text: str
    probability: float
    null_probability: float


@dataclass(frozen=True, eq=False)
class Reader:
    """A model ready to read: its verified folder, the window maker of its tokenizer and its session."""

    model: ModelFolder
    maker: WindowMaker
    session: BatchRunner
    max_answer_tokens: int = 30

    def read(
        self,
        requests: Sequence[ReadRequest],
        *,
        max_answer_tokens: int | None = None,
        batch_tokens: int = BATCH_TOKENS,
        n_best: int = 20,
    ) -> list[list[ContextSpan]]:
        """Each request's candidate spans over its contexts, best first (see `predict.read_many`)."""
        longest = self.max_answer_tokens if max_answer_tokens is None else max_answer_tokens
        return read_many(
            self.session, self.maker, requests, batch_tokens=batch_tokens, max_answer_tokens=longest, n_best=n_best
        )

    @property
    def lanes(self) -> int:
        """How many batches the session reads side by side (1 for a runner without lanes)."""
        return int(getattr(self.session, "lanes", 1))

    def use_budget(self, budget: str) -> None:
        """Read with one of the model's length budgets from now on ("": every token).

        Raises UserError naming the model's budgets when it has none of that name.
        """
        ratios = self.model.keep_ratios(budget)
        if getattr(self.session, "adaptive", False):
            self.session.set_keep_ratios(ratios or [1.0] * self.session.layers)

    def predict(self, question: str, context: str) -> Prediction:
        """The best span of one paragraph for one question, as the SQuAD benchmark asks it."""
        request = ReadRequest(self.maker.question_ids(question), self.maker.tokenize([context]))
        spans = self.read([request])[0]
        if not spans:
            return Prediction("", 0.0, 1.0)
        best = spans[0]
        return Prediction(context[best.char_start : best.char_end], best.probability, best.null_probability)


def lanes_for(threads: int, lanes: int) -> int:
    """How many batches to read side by side, for `threads` in all (0: every core) and `lanes` asked (0: one
    per thread): never more than the threads. One window's matrices are too small to keep two threads busy,
    so on two cores two one-thread runs side by side read about 1.6× the windows of one two-thread run."""
    total = threads or config.cores()
    return max(1, min(lanes or total, total))


def build_reader(
    model: ModelFolder | str | Path, settings: Settings | None = None, model_file: str | None = None
) -> Reader:
    """A reader of the model folder (opened and verified when given as a path) with the settings' window
    length, stride, threads, lanes and longest answer. `model_file` reads another graph of the folder (an fp32 twin):
    the manifest's checksum, which is model.onnx's, is then neither checked nor part of its identity.

    Raises UserError for a missing or damaged model folder, tokenizer or graph.
    """
    settings = settings or Settings()
    if not isinstance(model, ModelFolder):
        model = ModelFolder.open(model, verify=model_file is None)
    if model_file is not None:
        model = ModelFolder(model.path, {**model.manifest, "sha256": ""})
    # onnxruntime is loaded when the first reader is built, not when the app starts.
    from qa_reader.reader.session import OnnxReader

    windows = WindowSettings(
        max_length=min(settings.max_length, model.max_sequence_length), doc_stride=settings.doc_stride
    )
    try:
        maker = WindowMaker.from_file(model.tokenizer_file, windows)
    except Exception as error:  # tokenizers raises plain Exceptions for unreadable files
        raise UserError(f"The tokenizer {model.tokenizer_file} cannot be read ({error}).") from error
    lanes = lanes_for(settings.threads, settings.lanes)
    session = OnnxReader(model, settings.threads, model_file=model_file, lanes=lanes)
    return Reader(model, maker, session, settings.max_answer_tokens)
