"""Question + context windows for an extractive reader: tokenise once, slide with a stride, pad per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

NOT_CONTEXT = -1


@dataclass(frozen=True)
class TokenizedText:
    """Word pieces of one text with the character span of each piece in that text."""

    ids: np.ndarray  # int64 (n,)
    char_offsets: np.ndarray  # int32 (n, 2): [char_start, char_end) in the text

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True)
class Window:
    """One model input: [CLS] question [SEP] a slice of one context [SEP].

    `char_offsets[i]` is the character span in the context of token i, or (-1, -1) for question and
    special tokens, so decoding can never pick a span outside the context.
    """

    input_ids: np.ndarray  # int64 (seq,)
    char_offsets: np.ndarray  # int32 (seq, 2)
    context_index: int
    context_token_start: int  # position of the first context token inside input_ids
    first_context_token: int  # index of that token inside the whole tokenized context

    @property
    def context_mask(self) -> np.ndarray:
        """Boolean (seq,): True where the token belongs to the context."""
        return self.char_offsets[:, 0] != NOT_CONTEXT


@dataclass(frozen=True)
class WindowSettings:
    """How questions and contexts are cut into model inputs."""

    max_length: int = 384
    doc_stride: int = 128
    max_question_tokens: int = 64


class WindowMaker:
    """Turns a question and its contexts into padded batches for a BERT-style reader."""

    def __init__(self, tokenizer: Tokenizer, settings: WindowSettings | None = None) -> None:
        self.tokenizer = tokenizer
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.settings = settings or WindowSettings()
        self.cls_id = self._special_id("[CLS]")
        self.sep_id = self._special_id("[SEP]")
        self.pad_id = self._special_id("[PAD]")

    @classmethod
    def from_file(cls, path: str | Path, settings: WindowSettings | None = None) -> WindowMaker:
        """Load a `tokenizer.json`; raises OSError or ValueError (via `tokenizers`) when it is unreadable."""
        return cls(Tokenizer.from_file(str(path)), settings)

    def _special_id(self, token: str) -> int:
        token_id = self.tokenizer.token_to_id(token)
        if token_id is None:
            raise ValueError(f"the tokenizer has no {token} token")
        return int(token_id)

    def tokenize(self, texts: Sequence[str]) -> list[TokenizedText]:
        """Tokenise texts without special tokens, keeping each piece's character offsets."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [
            TokenizedText(
                ids=np.asarray(encoding.ids, dtype=np.int64),
                char_offsets=np.asarray(encoding.offsets, dtype=np.int32).reshape(-1, 2),
            )
            for encoding in encodings
        ]

    def question_ids(self, question: str) -> np.ndarray:
        """Word-piece ids of a question, cut to the configured maximum."""
        encoding = self.tokenizer.encode(question, add_special_tokens=False)
        return np.asarray(encoding.ids[: self.settings.max_question_tokens], dtype=np.int64)

    def context_window_starts(self, question_length: int, context_length: int) -> list[int]:
        """Token indices where successive windows over a context begin."""
        room = self.settings.max_length - question_length - 3
        if room <= 0:
            raise ValueError("max_length leaves no room for the context")
        starts = [0]
        while starts[-1] + room < context_length:
            starts.append(starts[-1] + min(self.settings.doc_stride, room))
        return starts

    def windows(self, question_ids: np.ndarray, contexts: Sequence[TokenizedText]) -> list[Window]:
        """All windows of the question against each context, in context order."""
        head = np.concatenate(([self.cls_id], question_ids, [self.sep_id])).astype(np.int64)
        room = self.settings.max_length - len(head) - 1
        head_offsets = np.full((len(head), 2), NOT_CONTEXT, dtype=np.int32)
        tail_offsets = np.full((1, 2), NOT_CONTEXT, dtype=np.int32)
        result: list[Window] = []
        for context_index, context in enumerate(contexts):
            for start in self.context_window_starts(len(question_ids), len(context)):
                stop = min(start + room, len(context))
                input_ids = np.concatenate((head, context.ids[start:stop], [self.sep_id]))
                offsets = np.concatenate((head_offsets, context.char_offsets[start:stop], tail_offsets))
                result.append(
                    Window(
                        input_ids=input_ids.astype(np.int64),
                        char_offsets=offsets,
                        context_index=context_index,
                        context_token_start=len(head),
                        first_context_token=start,
                    )
                )
        return result

    def pad(self, windows: Sequence[Window]) -> dict[str, np.ndarray]:
        """Stack windows into arrays padded to the longest one in this batch (never to a fixed length)."""
        longest = max(len(w.input_ids) for w in windows)
        input_ids = np.full((len(windows), longest), self.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(windows), longest), dtype=np.int64)
        token_type_ids = np.zeros((len(windows), longest), dtype=np.int64)
        for row, window in enumerate(windows):
            length = len(window.input_ids)
            input_ids[row, :length] = window.input_ids
            attention_mask[row, :length] = 1
            token_type_ids[row, window.context_token_start : length] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
