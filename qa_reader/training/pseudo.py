"""Silver labels: the current int8 reader answers unlabeled SQuAD-style questions; confident answers
become extra training examples (self-training), written outside the repository."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from pathlib import Path

from qa_reader import squad
from qa_reader.evaluate import ParagraphReader
from qa_reader.reader.predict import ReadRequest, read_many
from qa_reader.training.data import default_train_dir

UNLABELED = (
    default_train_dir().parent / "unlabeled" / "squad2-train-backtranslated-en" / "squad2-train-backtranslated-en.json"
)


def pseudo_label(
    model_dir: Path, out_path: Path, min_probability: float, limit: int | None = None, chunk: int = 256
) -> dict:
    """Write a SQuAD v1.1 file of the questions whose best span has probability ≥ min_probability and
    beats the window's no-answer probability; return counts."""
    reader = ParagraphReader(model_dir)
    questions = squad.load(UNLABELED)[:limit]
    paragraphs: OrderedDict[str, list[dict]] = OrderedDict()
    kept = 0
    started = time.monotonic()
    for offset in range(0, len(questions), chunk):
        part = questions[offset : offset + chunk]
        contexts = sorted({q.context for q in part})
        tokenized = dict(zip(contexts, reader.maker.tokenize(contexts)))
        ids = reader.maker.tokenize([q.question for q in part])
        limit_tokens = reader.maker.settings.max_question_tokens
        requests = [ReadRequest(i.ids[:limit_tokens], [tokenized[q.context]]) for q, i in zip(part, ids)]
        results = read_many(reader.runner, reader.maker, requests, batch_size=64)
        for question, spans in zip(part, results):
            if not spans:
                continue
            best = spans[0]
            if best.probability < min_probability or best.probability <= best.null_probability:
                continue
            text = question.context[best.char_start : best.char_end]
            if not text.strip():
                continue
            paragraphs.setdefault(question.context, []).append(
                {
                    "id": question.id,
                    "question": question.question,
                    "answers": [{"text": text, "answer_start": best.char_start}],
                    "probability": round(best.probability, 4),
                }
            )
            kept += 1
        done = offset + len(part)
        rate = done / (time.monotonic() - started)
        print(f"{done}/{len(questions)} read, {kept} kept, {rate:.0f} q/s", flush=True)
    payload = {
        "version": "silver-1",
        "source": str(UNLABELED),
        "model": str(model_dir),
        "min_probability": min_probability,
        "data": [{"title": "silver", "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()]}],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(payload))
    return {"questions": len(questions), "kept": kept}
