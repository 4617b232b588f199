"""Plots of evaluation results (matplotlib, from the `train` extra; the app never imports this module)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa_reader.calibration import RIGHT_F1, expected_calibration_error, reliability_bins
from qa_reader.errors import UserError
from qa_reader.evaluate import DocumentOutcome


def _pyplot(option: str):
    """matplotlib's pyplot drawing to files only; UserError naming `option` when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        raise UserError(
            f"{option} needs matplotlib, which is in the train extra: pip install -e '.[train]' "
            "(or pip install matplotlib)."
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def reliability_plot(outcomes: Sequence[DocumentOutcome], png: Path, title: str) -> float:
    """Draw the reliability diagram (10 bins: mean score against the share right) of the answerable
    questions' best candidates into `png`; return the expected calibration error.

    Raises UserError when matplotlib (in the `train` extra) is not installed.
    """
    plt = _pyplot("--calibration-plot")
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


# Issue 12's targets, drawn on the Pareto plot: (at least this speed-up, at most this F1 loss).
BUDGET_TARGETS = ((2.0, 1.0), (3.0, 3.0))


def pareto_plot(budgets: dict[str, dict], png: Path, title: str, reference: str = "every token") -> None:
    """Draw each length budget's F1 change against its speed-up over the `reference` row (`bench --budgets`'s
    rows: SQuAD paragraphs and whole articles, both from the same run; the bundled plain graph or the adaptive
    one reading every token) into `png`, with the targets shaded.

    Raises UserError when matplotlib is missing or when there is no `reference` row to compare with.
    """
    plt = _pyplot("--plot")
    full = budgets.get(reference)
    if full is None:
        raise UserError(f"The Pareto plot needs the {reference} row to compare the budgets with.")
    figure, axis = plt.subplots(figsize=(6.4, 4.6))
    for row, (speedup, loss) in enumerate(BUDGET_TARGETS):
        axis.fill_between(
            [speedup, 6.0], [-loss, -loss], [1.5, 1.5], color="#7fbf7f", alpha=0.18, linewidth=0, zorder=0
        )
        axis.annotate(
            f"target: >= {speedup:g}x, <= {loss:g} F1 lost",
            (speedup, 1.5),
            textcoords="offset points",
            xytext=(4, -11 - 10 * row),
            fontsize=7,
            color="#2e6b2e",
        )
    series = (  # the budget names below the paragraph points, above the article points
        ("SQuAD v1.1 dev paragraphs", "squad_speedup", "squad_f1", "o", "#1b3f73", (5, -11)),
        ("whole dev articles", "document_speedup", "document_f1", "s", "#c05a1f", (5, 5)),
    )
    lowest = 0.0
    for label, speed_key, f1_key, marker, colour, offset in series:
        names = list(budgets)
        xs = [budgets[n][speed_key] for n in names]
        ys = [budgets[n][f1_key] - full[f1_key] for n in names]
        lowest = min(lowest, *ys)
        axis.plot(xs, ys, marker=marker, color=colour, linestyle="-", linewidth=1, label=label)
        for name, x, y in zip(names, xs, ys):
            axis.annotate(name, (x, y), textcoords="offset points", xytext=offset, fontsize=7, color=colour)
    axis.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    right = max(4.0, max(max(row["squad_speedup"], row["document_speedup"]) for row in budgets.values()) + 0.5)
    axis.set_xlim(0.8, right)
    axis.set_ylim(min(-4.0, lowest - 0.5), 1.5)
    axis.set_xlabel(f"speed-up over the {reference} (median ms per question, same run)")
    axis.set_ylabel(f"F1 change against the {reference}")
    axis.set_title(title, fontsize=9)
    axis.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    figure.savefig(png, dpi=110)
    plt.close(figure)
