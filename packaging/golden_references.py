"""Measure the golden tests' reference probabilities for a model folder, the way the tests read them.

    python packaging/golden_references.py [MODEL_DIR] [--json OUT.json]

Prints each golden question's best span and its probability, and each unanswerable question's no-answer
probability (Reader.predict, one window per question, one thread); `--json` also writes them as the
{question: probability} table that tests/test_bundled_model.py keeps as REFERENCES, for when the bundled
model is replaced on purpose. Also says whether every int8
weight of the graph fits in 7 bits, the condition for the same answers on every CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa_reader import config, squad  # noqa: E402
from qa_reader.reader.build import build_reader  # noqa: E402
from tests.test_bundled_model import GOLDEN, UNANSWERABLE  # noqa: E402


def int8_weight_range(model_file) -> tuple[int, int]:
    """The smallest and largest int8 weight of an ONNX graph's initializers (0, 0 when it has none)."""
    graph = onnx.load(str(model_file)).graph
    weights = [numpy_helper.to_array(t) for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
    if not weights:
        return 0, 0
    return min(int(np.min(w)) for w in weights), max(int(np.max(w)) for w in weights)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Measure the golden tests' reference probabilities.")
    parser.add_argument("model_dir", type=Path, nargs="?", default=config.default_model_dir())
    parser.add_argument("--json", type=Path, default=None, help="also write {question: probability} here")
    args = parser.parse_args(argv)
    model_dir, out = args.model_dir, args.json
    references: dict[str, float] = {}
    reader = build_reader(model_dir, config.Settings(threads=1))
    low, high = int8_weight_range(model_dir / "model.onnx")
    print(f"int8 weights in [{low}, {high}]: {'7 bits, CPU-independent' if -64 <= low and high <= 64 else '8 bits'}")
    wrong = 0
    for golden in GOLDEN:
        prediction = reader.predict(golden.question, golden.context)
        exact = squad.score(prediction.text, golden.answers)[0] == 1.0
        wrong += not exact
        references[golden.question] = round(prediction.probability, 3)
        mark = "" if exact else f"   <- WRONG, expected {golden.answers[0]!r}"
        print(f"{prediction.probability:.3f}  {golden.question!r}: {prediction.text!r}{mark}")
    for unanswerable in UNANSWERABLE:
        prediction = reader.predict(unanswerable.question, unanswerable.context)
        references[unanswerable.question] = round(prediction.null_probability, 3)
        print(f"{prediction.null_probability:.3f}  (no answer) {unanswerable.question!r}: {prediction.text!r}")
    print(f"{len(GOLDEN) - wrong} of {len(GOLDEN)} golden answers exact")
    if out is not None:
        out.write_text(json.dumps(references, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
