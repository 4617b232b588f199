"""What a batch is asked to do, the same for the local loop and the Ray pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa_reader.batch.output import Tally

# A part is written when this many documents or seconds have gathered: a killed job redoes at most that much.
PART_DOCUMENTS = 64
PART_SECONDS = 60.0

Progress = Callable[["Tally"], None]


@dataclass(frozen=True)
class Job:
    """The documents' paths (`inputs.expand_documents`), the questions (checked), the output folder, the answers
    kept per question and the model folder (None: the default)."""

    paths: tuple[str, ...]
    questions: tuple[str, ...]
    out: Path
    top_k: int = 1
    model_dir: Path | None = None
    part_documents: int = PART_DOCUMENTS
    part_seconds: float = PART_SECONDS
