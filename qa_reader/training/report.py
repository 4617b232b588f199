"""Measure a model folder on the evaluation sets and record the figures in its manifest; plot curves."""

from __future__ import annotations

import csv
import dataclasses
import json
import random
import time
from pathlib import Path

from qa_reader import squad
from qa_reader.evaluate import (
    Calibration,
    calibrate_threshold,
    evaluate_documents,
    evaluate_paragraphs,
    threshold_outcome,
)
from qa_reader.reader.build import Reader, build_reader
from qa_reader.training.data import (
    HELD_OUT_ONE_IN,
    SOURCES,
    default_train_dir,
    same_document_negatives,
    split_held_out,
)
from qa_reader.training.export import FP32_FILE

DATA = default_train_dir().parent
DEV = DATA / "squad-v1.1" / "dev-v1.1.json"
DEV_V2 = DATA / "squad-v2.0" / "dev-v2.0.reconstructed-from-squad-explorer.json"
ADD_SENT = DATA / "ood" / "squad-adversarial" / "sample1k-HCVerifyAll.json"
ADD_ONE_SENT = DATA / "ood" / "squad-adversarial" / "sample1k-HCVerifySample.json"
COVID = DATA / "ood" / "covid-qa-200423" / "200423_covidQA.json"


def measure(model_dir: Path, with_fp32: bool = True, with_ood: bool = True) -> dict:
    """Full-dev EM/F1 (int8, and fp32 when its file is there), AddSent, AddOneSent, COVID-QA (whole papers
    through search + reader) and the paragraph-level SQuAD 2.0 no-answer threshold; merged into manifest.json.
    (The whole-document "not found" threshold is fitted on training data by `calibrate`.)"""
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    scores: dict = manifest.setdefault("scores", {})
    int8 = build_reader(model_dir)
    dev = squad.load(DEV)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    report, _ = evaluate_paragraphs(int8, dev)
    scores["squad_v1.1_dev_int8"] = report.as_dict()
    log(f"dev int8: {report.as_dict()}")
    if with_fp32 and (model_dir / FP32_FILE).exists():
        report, _ = evaluate_paragraphs(build_reader(model_dir, model_file=FP32_FILE), dev)
        scores["squad_v1.1_dev_fp32"] = report.as_dict()
        log(f"dev fp32: {report.as_dict()}")
    chosen = held_out_threshold(int8)
    manifest["no_answer_threshold"] = round(chosen.threshold, 4)
    manifest["no_answer_threshold_fitted_on"] = (
        f"{chosen.questions} held-out training questions (one article in {HELD_OUT_ONE_IN}, "
        "data.split_held_out): half against their own paragraph, half against the best BM25 paragraph of "
        "their article that lacks the answer"
    )
    log(f"held-out threshold: {chosen}")
    v2 = squad.load(DEV_V2)
    _, predictions = evaluate_paragraphs(int8, v2)
    at_threshold = threshold_outcome(predictions, v2, chosen.threshold)
    best_possible = calibrate_threshold(predictions, v2)
    scores["squad_v2.0_dev_reconstructed_int8"] = {
        "threshold": round(chosen.threshold, 4),
        "f1": round(at_threshold.f1, 2),
        "exact_match": round(at_threshold.exact_match, 2),
        "has_answer_f1": round(at_threshold.has_answer_f1, 2),
        "no_answer_accuracy": round(at_threshold.no_answer_accuracy, 2),
        "questions": at_threshold.questions,
        "oracle_threshold_f1": round(best_possible.f1, 2),
    }
    log(f"v2 at the held-out threshold: {scores['squad_v2.0_dev_reconstructed_int8']}")
    if with_ood:
        for name, path in (("addsent", ADD_SENT), ("addonesent", ADD_ONE_SENT)):
            report, _ = evaluate_paragraphs(int8, squad.load(path))
            scores[f"{name}_int8"] = report.as_dict()
            log(f"{name}: {report.as_dict()}")
        report = evaluate_documents(model_dir, squad.load(COVID)).report
        scores["covid_qa_document_level_int8"] = report.as_dict()
        log(f"covid-qa (whole papers, search + reader): {report.as_dict()}")
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


THRESHOLD_SOURCES = ("squadshifts-new-wiki", "squadshifts-reddit", "squadshifts-amazon", "qed", "tydiqa-goldp-en")


def held_out_pairs(train_dir: Path, per_source: int = 400, seed: int = 7) -> list[squad.Question]:
    """Paragraph-level SQuAD 2.0-style questions from the held-out training slice, never from an evaluation
    set: `per_source` answerable questions of each source against their own paragraph, and as many against
    the best BM25 paragraph of their own article that holds none of their answers (gold: no answer)."""
    pairs: list[squad.Question] = []
    for source in SOURCES:
        if source.name not in THRESHOLD_SOURCES:
            continue
        _, held = split_held_out(source.name, squad.load(train_dir / source.relative_path))
        answerable = [q for q in held if q.answers]
        asked = random.Random(seed).sample(answerable, min(per_source, len(answerable)))
        pairs.extend(asked)
        for question, other in same_document_negatives(asked, held, per_question=1):
            pairs.append(
                dataclasses.replace(question, id=question.id + "/absent", context=other, answers=(), answer_starts=())
            )
    return pairs


def held_out_threshold(reader: Reader, train_dir: Path | None = None) -> Calibration:
    """The paragraph-level no-answer threshold, chosen on held-out training questions (`held_out_pairs`)."""
    questions = held_out_pairs(train_dir or default_train_dir())
    _, predictions = evaluate_paragraphs(reader, questions)
    return calibrate_threshold(predictions, questions)


def plot_curve(curve_csv: Path, png: Path) -> None:
    """Slice F1 and training loss against examples seen (the held-out training slice; older runs logged the
    first 1,000 SQuAD v1.1 dev questions)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(curve_csv) as handle:
        rows = list(csv.DictReader(handle))
    seen = [int(r["examples_seen"]) for r in rows]
    figure, left = plt.subplots(figsize=(7, 4))
    held_out = "held_out_f1" in rows[0]
    prefix, where = ("held_out", "held-out training slice") if held_out else ("dev", "first 1,000 SQuAD v1.1 dev")
    left.plot(seen, [float(r[f"{prefix}_f1"]) for r in rows], marker="o", label=f"F1, {where}")
    left.plot(seen, [float(r[f"{prefix}_em"]) for r in rows], marker=".", label="EM, same slice")
    left.set_xlabel("training examples seen")
    left.set_ylabel("score (%)")
    right = left.twinx()
    right.plot(seen, [float(r["train_loss"]) for r in rows], color="grey", linestyle="--", label="train loss")
    right.set_ylabel("loss")
    figure.legend(loc="upper center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 0.92))
    figure.savefig(png, dpi=110)
