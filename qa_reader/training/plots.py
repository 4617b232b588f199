"""Plots of evaluation results (matplotlib, from the `train` extra; the app never imports this module)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa_reader.calibration import RIGHT_F1, expected_calibration_error, reliability_bins
from qa_reader.errors import UserError
from qa_reader.evaluate import DocumentOutcome


def reliability_plot(outcomes: Sequence[DocumentOutcome], png: Path, title: str) -> float:
    """Draw the reliability diagram (10 bins: mean score against the share right) of the answerable
    questions' best candidates into `png`; return the expected calibration error.

    Raises UserError when matplotlib (in the `train` extra) is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        raise UserError(
            "--calibration-plot needs matplotlib, which is in the train extra: pip install -e '.[train]' "
            "(or pip install matplotlib)."
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    own = [o for o in outcomes if o.answerable]
    scores = np.asarray([o.score for o in own])
    right = np.asarray([o.f1 >= RIGHT_F1 for o in own])
    ece = expected_calibration_error(scores, right)
    bins = reliability_bins(scores, right)
    figure, axis = plt.subplots(figsize=(5.2, 5.0))
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    axis.bar(
        [b[0] for b in bins], [b[1] for b in bins], width=0.08, alpha=0.6, color="#3a7bd5", label="observed share right"
    )
    axis.plot([b[0] for b in bins], [b[1] for b in bins], marker="o", color="#1b3f73")
    for predicted, observed, count in bins:
        axis.annotate(
            str(count), (predicted, observed), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7
        )
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("score shown (mean in each of 10 bins)")
    axis.set_ylabel("share of best answers that are right (F1 >= 0.5)")
    axis.set_title(f"{title}\n{len(own):,} questions, expected calibration error {ece:.3f}", fontsize=9)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(png, dpi=110)
    plt.close(figure)
    return ece
