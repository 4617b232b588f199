"""Settings and paths: where the library lives (QA_READER_HOME overrides it) and which model is bundled."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

DEFAULT_MODEL_NAME = "minilm-distilbert-squad-int8"
HOME_VARIABLE = "QA_READER_HOME"
MODEL_VARIABLE = "QA_READER_MODEL"


def data_dir() -> Path:
    """The user's data folder: $QA_READER_HOME, else $XDG_DATA_HOME/qa-reader (~/.local/share/qa-reader)."""
    override = os.environ.get(HOME_VARIABLE)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "QA Reader"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "QA Reader"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "qa-reader"


def library_path() -> Path:
    """The SQLite library file inside the data folder."""
    return data_dir() / "library.sqlite3"


def install_root() -> Path:
    """Where bundled files live: the frozen app's folder, or the source checkout."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """The folder holding the bundled model folders."""
    return install_root() / "models"


def resources_dir() -> Path:
    """Icons, the sample document and other bundled resources."""
    return install_root() / "resources"


def default_model_dir() -> Path:
    """$QA_READER_MODEL if set, else the bundled default model folder."""
    override = os.environ.get(MODEL_VARIABLE)
    if override:
        return Path(override).expanduser()
    return models_dir() / DEFAULT_MODEL_NAME


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def _setting(default: object, *, answers: bool, reload: bool, saved: bool) -> Any:
    """A field of Settings that says what it takes part in: `answers`, the answer cache key (it changes the
    answers); `reload`, the reader is built again when it changes; `saved`, the app remembers it between runs."""
    return field(default=default, metadata={"answers": answers, "reload": reload, "saved": saved})


@dataclass(frozen=True)
class Settings:
    """How much reading a question gets: the speed/accuracy budget and the answer threshold. Each field is
    declared once, with what it takes part in (see `_setting`), and the cache key, the reload decision and the
    saved preferences all follow from these declarations."""

    # BM25 top passages read by the model (neighbours of the best ones added)
    passages_to_read: int = _setting(12, answers=True, reload=False, saved=True)
    neighbours_of: int = _setting(2, answers=True, reload=False, saved=False)  # the best this-many bring neighbours
    read_whole_below: int = _setting(16, answers=True, reload=False, saved=False)  # at most this many passages: whole
    max_length: int = _setting(384, answers=True, reload=True, saved=True)  # tokens per window
    doc_stride: int = _setting(128, answers=True, reload=True, saved=False)
    max_answer_tokens: int = _setting(30, answers=True, reload=False, saved=False)
    threads: int = _setting(0, answers=False, reload=True, saved=True)  # 0: every core
    # Batches the model reads side by side, one thread each, when a question has several (0: one per thread,
    # see `reader.build.lanes_for`). One by default: on two cores two lanes made a question over the 247-page
    # PDF no faster (1.04×, README "Lanes") for about 50 MB more memory.
    lanes: int = _setting(1, answers=False, reload=True, saved=False)
    # A length-adaptive model's budget (its manifest's `length_budgets`): how many tokens each layer keeps.
    # "": every token, the model's full length.
    length_budget: str = _setting("", answers=True, reload=False, saved=True)
    # Only for a model folder without a calibration (the bundled one has one): answers are then ranked by
    # log(span probability) + retrieval_weight × the passage's BM25 relevance. An early session chose 0.4 on
    # half the SQuAD dev articles as whole documents, which the project no longer does; a calibrated model's
    # ranking is fitted on held-out training articles instead.
    retrieval_weight: float = _setting(0.4, answers=True, reload=False, saved=False)
    # None: the model manifest's calibrated no-answer threshold. Applied to cached answers, so not in the key.
    threshold: float | None = _setting(None, answers=False, reload=False, saved=True)
    top_k: int = _setting(5, answers=False, reload=False, saved=False)  # answers listed; cut after the cache

    @classmethod
    def names(cls, role: str) -> tuple[str, ...]:
        """The fields declared with `role` ("answers", "reload" or "saved") set, in declaration order."""
        return tuple(item.name for item in fields(cls) if item.metadata[role])

    def cache_key(self) -> str:
        """The settings that change answers, as a stable string for the answer cache."""
        return ";".join(f"{name}={getattr(self, name)!r}" for name in self.names("answers"))

    def needs_reload(self, other: Settings) -> bool:
        """Whether changing from `other` to these settings means building the reader again."""
        return any(getattr(self, name) != getattr(other, name) for name in self.names("reload"))

    def saved(self) -> dict[str, str]:
        """The settings the app remembers, as text ("" for None)."""
        values = {name: getattr(self, name) for name in self.names("saved")}
        return {name: "" if value is None else str(value) for name, value in values.items()}

    @classmethod
    def from_saved(cls, values: Mapping[str, object]) -> Settings:
        """Settings from remembered text (see `saved`): defaults for anything missing or unreadable."""
        hints = get_type_hints(cls)
        chosen = {}
        for name in cls.names("saved"):
            if name in values:
                try:
                    chosen[name] = _parse(values[name], hints[name])
                except (TypeError, ValueError):
                    continue
        return cls(**chosen)


def _parse(value: object, hint: object) -> object:
    """`value` (text from a preferences file) as the type `hint` (int, float, or one of them | None)."""
    kinds = get_args(hint) or (hint,)
    if value in ("", None) and type(None) in kinds:
        return None
    kind = next(kind for kind in kinds if kind is not type(None))
    return kind(value)
