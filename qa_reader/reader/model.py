"""A model folder: model.onnx, tokenizer.json and manifest.json, checked before anything runs."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_reader.errors import UserError

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
DEFAULT_THRESHOLD = 0.1


# The manifest values the app reads, with the JSON type each must have.
_NUMBER_KEYS = ("no_answer_threshold", "document_no_answer_threshold")
_INTEGER_KEYS = ("max_sequence_length",)
_STRING_KEYS = ("name", "sha256")


def _check_manifest_types(path: Path, manifest: dict[str, Any]) -> None:
    """Raises UserError naming the file and the key when a value the app reads has the wrong type."""
    for key, value in manifest.items():
        if key in _NUMBER_KEYS:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            expected = "a number"
        elif key in _INTEGER_KEYS:
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            expected = "a positive whole number"
        elif key in _STRING_KEYS:
            ok, expected = isinstance(value, str), "a string"
        else:
            continue
        if not ok:
            raise UserError(f'The model manifest {path} is damaged: "{key}" is {value!r}, not {expected}.')


def _check_length_budgets(path: Path, manifest: dict[str, Any]) -> None:
    """Raises UserError when `length_budgets` is not a list of {"name": text, "keep_ratios": shares in (0, 1]}."""

    def is_budget(budget: object) -> bool:
        if not isinstance(budget, dict) or not isinstance(budget.get("name"), str):
            return False
        ratios = budget.get("keep_ratios")
        return (
            isinstance(ratios, list)
            and bool(ratios)
            and all(isinstance(r, int | float) and not isinstance(r, bool) and 0 < r <= 1 for r in ratios)
        )

    budgets = manifest.get("length_budgets", [])
    if not isinstance(budgets, list) or not all(is_budget(budget) for budget in budgets):
        raise UserError(f'The model manifest {path} is damaged: "length_budgets" is not a list of named keep ratios.')


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelFolder:
    """A validated model folder and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path, verify: bool = True) -> ModelFolder:
        """Check that the folder holds the three files and a readable manifest; with `verify`, that
        model.onnx matches the manifest's sha256.

        Raises UserError naming the missing or damaged file.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise UserError(f"The model folder {folder} does not exist; reinstall QA Reader or set QA_READER_MODEL.")
        for name in (MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE):
            if not (folder / name).is_file():
                raise UserError(f"The model file {folder / name} is missing; reinstall QA Reader.")
        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise UserError(f"The model manifest {folder / MANIFEST_FILE} is not valid JSON ({error}).") from error
        if not isinstance(manifest, dict):
            raise UserError(f"The model manifest {folder / MANIFEST_FILE} is not a JSON object.")
        _check_manifest_types(folder / MANIFEST_FILE, manifest)
        _check_length_budgets(folder / MANIFEST_FILE, manifest)
        model = cls(folder, manifest)
        if verify and model.sha256:
            actual = file_sha256(folder / MODEL_FILE)
            if actual != model.sha256:
                raise UserError(
                    f"The model file {folder / MODEL_FILE} is damaged (its checksum does not match the manifest); "
                    "reinstall QA Reader."
                )
        return model

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", self.path.name))

    @property
    def sha256(self) -> str:
        return str(self.manifest.get("sha256", ""))

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def tokenizer_file(self) -> Path:
        return self.path / TOKENIZER_FILE

    @property
    def max_sequence_length(self) -> int:
        return int(self.manifest.get("max_sequence_length", 384))

    @property
    def no_answer_threshold(self) -> float:
        """Span probability below which the app says the answer is not in the documents."""
        return float(self.manifest.get("no_answer_threshold", DEFAULT_THRESHOLD))

    @property
    def document_threshold(self) -> float:
        """Probability below which the best-ranked answer over whole documents counts as not found
        (calibrated on documents; the paragraph-level threshold where a manifest has none)."""
        return float(self.manifest.get("document_no_answer_threshold", self.no_answer_threshold))

    @property
    def length_budgets(self) -> dict[str, tuple[float, ...]]:
        """A length-adaptive model's budgets, as its manifest lists them: name -> the share of the tokens
        before it that each layer keeps. Empty for a model that reads every token."""
        return {b["name"]: tuple(float(r) for r in b["keep_ratios"]) for b in self.manifest.get("length_budgets", [])}

    def keep_ratios(self, budget: str) -> tuple[float, ...] | None:
        """The keep ratios of the budget named `budget`; None for "" (every token).

        Raises UserError naming the model's budgets when it has none of that name.
        """
        if budget == "":
            return None
        offered = self.length_budgets
        if budget not in offered:
            names = ", ".join(offered) or "none: this model reads every token"
            raise UserError(f'The model {self.name} has no budget "{budget}" (its budgets: {names}).')
        return offered[budget]

    def speedup(self, budget: str) -> float:
        """How many times faster than every token the budget read on the machine its search timed it on (the
        manifest's "speedup"); 1.0 for every token and for a budget without a usable figure."""
        for entry in self.manifest.get("length_budgets", []):
            if entry["name"] == budget and budget:
                value = entry.get("speedup")
                return float(value) if isinstance(value, int | float) and value > 0 else 1.0
        return 1.0

    @property
    def identity(self) -> str:
        """What the answer cache keys on: the model file's sha256 (or the folder when it has none)."""
        return self.sha256 or str(self.path.resolve())
