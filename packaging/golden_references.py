"""Measure the golden tests' reference probabilities for a model folder, the way the tests read them.

    python packaging/golden_references.py [MODEL_DIR] [--json OUT.json]

Prints each golden question's best span and its probability, and each unanswerable question's no-answer
probability (Reader.predict, one window per question, one thread); `--json` also writes them as the
{question: probability} table that tests/test_bundled_model.py keeps as REFERENCES, for when the bundled
model is replaced on purpose. Also says whether every int8
weight of the graph fits in 7 bits, the condition for the same answers on every CPU.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa_reader import config, squad  # noqa: E402
from qa_reader.reader.build import build_reader  # noqa: E402
from tests.test_bundled_model import GOLDEN, UNANSWERABLE, int8_weight_range  # noqa: E402


def main(argv: list[str]) -> int:
    out = Path(argv[argv.index("--json") + 1]) if "--json" in argv else None
    positional = [a for i, a in enumerate(argv) if a != "--json" and (i == 0 or argv[i - 1] != "--json")]
    model_dir = Path(positional[0]) if positional else config.default_model_dir()
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
