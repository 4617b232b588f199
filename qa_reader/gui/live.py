"""Whether to answer while the user types: a question's time is estimated from the passages it will read
and the speed measured on this machine, and only a question well under 100 ms is asked live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa_reader import config
from qa_reader.types import AnswerSet

if TYPE_CHECKING:
    from qa_reader.store import DocumentRecord

LIVE_BUDGET_MS = 60.0  # answer while typing only when the estimate is well under 100 ms
FIRST_MS_PER_PASSAGE = 15.0  # until a question has been timed on this machine


class LiveBudget:
    """The measured milliseconds per passage read, and what they predict for a question."""

    def __init__(self) -> None:
        self.ms_per_passage = FIRST_MS_PER_PASSAGE

    @staticmethod
    def passages_read(records: Sequence[DocumentRecord], settings: config.Settings) -> int:
        """How many passages a question about `records` reads: small documents whole, large ones a budget."""
        small = sum(r.passage_count for r in records if r.passage_count <= settings.read_whole_below)
        large = any(r.passage_count > settings.read_whole_below for r in records)
        budget = settings.passages_to_read + 2 * settings.neighbours_of if large else 0
        return small + budget

    def estimate_ms(self, records: Sequence[DocumentRecord], settings: config.Settings) -> float:
        """The milliseconds a question about `records` should take on this machine."""
        return self.passages_read(records, settings) * self.ms_per_passage

    def allows(self, records: Sequence[DocumentRecord], settings: config.Settings) -> bool:
        """Whether a question about `records` should be answered as the user types."""
        return bool(records) and self.estimate_ms(records, settings) <= LIVE_BUDGET_MS

    def learn(self, answers: AnswerSet, records: Sequence[DocumentRecord], settings: config.Settings) -> None:
        """Fold the time a question about `records` took into the speed (answers from the cache say nothing)."""
        if answers.from_cache:
            return
        passages = self.passages_read(records, settings)
        if passages:
            measured = answers.elapsed_ms / passages
            self.ms_per_passage = 0.5 * self.ms_per_passage + 0.5 * measured
