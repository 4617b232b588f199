"""The training loop: AdamW with warmup and linear decay, bf16 autocast, length-bucketed dynamic
padding, checkpoints every few minutes with exact resume, and dev F1 logged to a CSV curve."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from qa_reader import squad
from qa_reader.reader.predict import ReadRequest, read_many
from qa_reader.reader.windows import WindowMaker, WindowSettings
from qa_reader.training import data
from qa_reader.training.adaptive import LengthAdaptiveReader, sandwich_backward, shortest_ratios
from qa_reader.training.student import build_student, check_conversion, encoder_dir, student_from_onnx

CURVE_FIELDS = [
    "step",
    "epoch",
    "examples_seen",
    "elapsed_s",
    "train_loss",
    "learning_rate",
    "held_out_em",
    "held_out_f1",
]


@dataclass
class TrainConfig:
    """Everything that defines a run; saved as run_dir/config.json and checked on resume."""

    train_dir: str = str(data.default_train_dir())
    epochs: float = 2.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    max_length: int = 384
    doc_stride: int = 128
    negative_fraction: float = 0.08
    hard_negative_fraction: float = 0.0  # share of questions also read against their article's best BM25 passages
    hard_negatives: int = 1  # how many such passages each of those questions gets
    seed: int = 13
    # bf16 autocast pays only where the CPU multiplies bf16 natively (AMX, AVX512-BF16: 4.75 s for a step of
    # 32 x 256 tokens; on an AMD EPYC with AVX512-BF16, 2.2-2.5 s against 5.4-5.7 s in fp32); on an AVX2-only
    # CPU the same step took 128 s against 8.3 s in fp32. Pass --bf16 true where it pays.
    bf16: bool = False
    threads: int = 0  # 0: all cores
    checkpoint_minutes: float = 10.0
    held_out_questions: int = 1000  # the curve's F1 is on this many gold questions of the held-out slice
    attention: str = "sdpa"  # "eager" or "sdpa" (PyTorch's fused attention kernel)
    # Dropout on the attention weights. At 0.0 the fused flash kernel runs on the CPU; at DistilBERT's 0.1,
    # sdpa falls back to the unfused path and draws a random mask per weight (a 32 x 256 forward pass: 6.1 s,
    # 30% of it in bernoulli, against 2.8 s at 0.0).
    attention_dropout: float = 0.1
    silver_path: str = ""  # a pseudo-labelled SQuAD file (python -m qa_reader.training pseudo-label)
    silver_weight: float = 1.0
    init_from: str = ""  # a previous run's final/ folder, or a bundled model folder (its int8 graph dequantised)
    gold_scale: float = 1.0  # multiplies every gold source's weight (a second stage may see less of them)
    # LengthDrop (issue 12): each step also trains the shortest and `sandwich_random` random length-reduced
    # sub-networks on the full network's span distributions, so one model reads at any keep ratio.
    length_drop: bool = False
    length_drop_bound: float = 0.2  # every layer keeps at least 1 - bound of the tokens before it
    sandwich_random: int = 1
    # Shared normalisation (Clark & Gardner 2018), added to the per-window loss with this weight: a question's
    # windows (its paragraph's and its negatives') are batched together and its answer's start and end must
    # win one softmax over the context tokens of all of them, so span scores compare across passages.
    shared_norm: float = 0.0
    weights: dict[str, float] = field(default_factory=lambda: {s.name: s.weight for s in data.SOURCES})


def window_cross_entropy(
    start_logits: torch.Tensor, end_logits: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor
) -> torch.Tensor:
    """The usual SQuAD loss: the mean of the start and end cross-entropies, one softmax per window."""
    start = torch.nn.functional.cross_entropy(start_logits.float(), starts)
    end = torch.nn.functional.cross_entropy(end_logits.float(), ends)
    return (start + end) / 2


def context_mask(features: Sequence[data.Feature], attention_mask: torch.Tensor) -> torch.Tensor:
    """(batch, tokens) booleans: the context tokens of each window (after the question, before the last [SEP])."""
    mask = torch.zeros(attention_mask.shape, dtype=torch.bool)
    for row, feature in enumerate(features):
        mask[row, feature.context_start : len(feature.input_ids) - 1] = True
    return mask


def shared_norm_loss(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    starts: torch.Tensor,
    ends: torch.Tensor,
    context: torch.Tensor,
    groups: torch.Tensor,
) -> torch.Tensor:
    """Shared normalisation over each group of windows (one question's): -log of the answer's share of one
    softmax over the context tokens of every window of the group, for the start and for the end, averaged
    over the groups whose answer is in one of their windows (0 when none is). [CLS] takes no part: the
    per-window loss keeps teaching it "not in this passage"."""
    losses = []
    for group in torch.unique(groups):
        rows = torch.nonzero(groups == group).squeeze(1)
        answered = rows[starts[rows] > 0]
        if answered.numel() == 0:
            continue
        pair = []
        for logits, gold in ((start_logits, starts), (end_logits, ends)):
            scores = logits[rows].float().masked_fill(~context[rows], float("-inf"))
            total = torch.logsumexp(scores.reshape(-1), dim=0)
            right = torch.logsumexp(logits[answered, gold[answered]].float(), dim=0)
            pair.append(total - right)
        losses.append((pair[0] + pair[1]) / 2)
    if not losses:
        return start_logits.sum() * 0.0
    return torch.stack(losses).mean()


def _set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def torch_runner(model: torch.nn.Module, bf16: bool, keep_ratios: torch.Tensor | None = None):
    """A batch runner for `read_many` around a torch QA model (length-reduced when `keep_ratios` is given)."""
    adaptive = LengthAdaptiveReader(model) if keep_ratios is not None else None

    def run(batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        ids = torch.from_numpy(batch["input_ids"])
        mask = torch.from_numpy(batch["attention_mask"])
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            if adaptive is not None:
                start, end, _ = adaptive(ids, mask, keep_ratios)
                return start.float().numpy(), end.float().numpy()
            out = model(input_ids=ids, attention_mask=mask)
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    return run


def evaluate_slice(
    model: torch.nn.Module,
    maker: WindowMaker,
    questions: list[squad.Question],
    bf16: bool,
    keep_ratios: torch.Tensor | None = None,
) -> tuple[float, float]:
    """(EM, F1) in percent of the model's best span for each question against its own paragraph."""
    was_training = model.training
    model.eval()
    contexts = sorted({q.context for q in questions})
    tokenized = dict(zip(contexts, maker.tokenize(contexts)))
    question_ids = maker.tokenize([q.question for q in questions])
    limit = maker.settings.max_question_tokens
    requests = [ReadRequest(qi.ids[:limit], [tokenized[q.context]]) for q, qi in zip(questions, question_ids)]
    results = read_many(
        torch_runner(model, bf16, keep_ratios),
        maker,
        requests,
        batch_tokens=64 * maker.settings.max_length,
        mix_requests=True,
    )
    em_total = f1_total = 0.0
    for q, spans in zip(questions, results):
        prediction = q.context[spans[0].char_start : spans[0].char_end] if spans else ""
        em, f1 = squad.score(prediction, q.answers)
        em_total += em
        f1_total += f1
    model.train(was_training)
    return 100 * em_total / len(questions), 100 * f1_total / len(questions)


def set_attention_dropout(model: torch.nn.Module, p: float) -> None:
    """Set the dropout on every layer's attention weights (the modules that own q_lin) to `p`."""
    model.config.attention_dropout = p
    for module in model.modules():
        if hasattr(module, "q_lin") and isinstance(getattr(module, "dropout", None), torch.nn.Dropout):
            module.dropout.p = p


def initial_model(folder: Path):
    """The model a run starts from: a saved torch model folder, or a bundled model folder (model.onnx)."""
    if (folder / "model.onnx").is_file():
        return student_from_onnx(folder)
    from transformers import DistilBertForQuestionAnswering

    return DistilBertForQuestionAnswering.from_pretrained(str(folder), attn_implementation="eager")


def held_out_questions(train_dir: Path, count: int, seed: int) -> list[squad.Question]:
    """`count` answerable questions drawn from the held-out slice of every gold training source."""
    pool: list[squad.Question] = []
    for source in data.SOURCES:
        _, held = data.split_held_out(source.name, squad.load(train_dir / source.relative_path))
        pool.extend(q for q in held if q.answers)
    random.Random(seed).shuffle(pool)
    return pool[:count]


class Trainer:
    """One resumable run in `run_dir`."""

    def __init__(self, run_dir: Path, config: TrainConfig) -> None:
        self.run_dir = run_dir
        self.config = config
        if config.length_drop and config.shared_norm > 0:
            raise SystemExit("LengthDrop and shared normalisation are not combined; train them one after the other")
        run_dir.mkdir(parents=True, exist_ok=True)
        saved = run_dir / "config.json"
        if saved.exists():
            # Settings added after a run started keep their defaults for that run.
            previous = {**dataclasses.asdict(TrainConfig()), **json.loads(saved.read_text())}
            wanted = dataclasses.asdict(config)
            # The length of a run may change when it resumes: the batches already trained on are the
            # same prefix of the data order, and the learning-rate schedule follows the new length.
            if {**previous, "epochs": config.epochs} != wanted:
                raise SystemExit(f"{saved} differs from this run's settings; use a new run folder")
            self.resized_from = previous["epochs"] if previous["epochs"] != config.epochs else None
        else:
            self.resized_from = None
        saved.write_text(json.dumps(dataclasses.asdict(config), indent=2))
        if config.threads:
            torch.set_num_threads(config.threads)
        self.maker = WindowMaker.from_file(
            encoder_dir() / "tokenizer.json",
            WindowSettings(max_length=config.max_length, doc_stride=config.doc_stride),
        )

    def _log(self, message: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        print(line, flush=True)
        with open(self.run_dir / "train.log", "a") as handle:
            handle.write(line + "\n")

    def run(self) -> Path:
        """Train to the end (resuming from the last checkpoint if any); return the final model folder."""
        config = self.config
        _set_seed(config.seed)
        sources = list(data.SOURCES)
        weights = {name: weight * config.gold_scale for name, weight in config.weights.items()}
        if config.silver_path:
            sources.append(
                data.Source(
                    data.SILVER_SOURCE,
                    str(Path(config.silver_path).resolve()),
                    config.silver_weight,
                    "CC BY-SA 4.0 (SQuAD 2.0 train, back-translated; labels ours)",
                )
            )
            weights[data.SILVER_SOURCE] = config.silver_weight
        examples = data.load_examples(
            Path(config.train_dir),
            sources,
            negative_fraction=config.negative_fraction,
            seed=config.seed,
            hard_negative_fraction=config.hard_negative_fraction,
            hard_negatives=config.hard_negatives,
        )
        features = {name: data.make_features(items, self.maker) for name, items in examples.items()}
        for name, items in features.items():
            self._log(f"{name}: {len(examples[name])} examples, {len(items)} features, weight {weights[name]}")
        whole_epochs = math.ceil(config.epochs)
        order = data.grouped_epoch_order if config.shared_norm > 0 else data.epoch_order
        plans = [order(features, weights, epoch, config.seed, config.batch_size) for epoch in range(whole_epochs)]
        last_epoch_batches = round(len(plans[-1]) * (config.epochs - (whole_epochs - 1)))
        plans[-1] = plans[-1][:last_epoch_batches]
        total_steps = sum(len(plan) for plan in plans)
        self._log(f"{total_steps} steps of {config.batch_size} over {config.epochs} epochs")

        model = build_student(config.seed)
        self._log(f"converted encoder max abs diff {check_conversion(model):.2e}")
        if config.init_from:
            model = initial_model(Path(config.init_from))
            self._log(f"initialised from {config.init_from}")
        model.config._attn_implementation = config.attention
        set_attention_dropout(model, config.attention_dropout)
        no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
        groups = [
            {
                "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
                "weight_decay": config.weight_decay,
            },
            {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
        warmup = max(1, int(total_steps * config.warmup_fraction))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        monitor = held_out_questions(Path(config.train_dir), config.held_out_questions, config.seed)

        step, elapsed_before = 0, 0.0
        checkpoint_path = self.run_dir / "checkpoint.pt"
        if checkpoint_path.exists():
            state = torch.load(checkpoint_path, weights_only=False)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            random.setstate(state["python_rng"])
            np.random.set_state(state["numpy_rng"])
            torch.set_rng_state(state["torch_rng"])
            step, elapsed_before = state["step"], state["elapsed_s"]
            if step > total_steps:
                raise SystemExit(
                    f"the checkpoint is at step {step}, past the {total_steps} steps of {config.epochs} epochs"
                )
            # Where the run's length changed, the schedule's multiplier for this step is the new one.
            for group, base in zip(optimizer.param_groups, scheduler.base_lrs):
                group["lr"] = base * schedule(step)
            scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]
            resized = f" (run length changed from {self.resized_from} epochs)" if self.resized_from else ""
            self._log(f"resumed at step {step}{resized}")

        model.train()
        resumed_step = step
        started = time.monotonic()
        last_checkpoint = started
        loss_sum, loss_count, examples_seen = 0.0, 0, step * config.batch_size
        distill_sum = 0.0
        flat = [(epoch, batch) for epoch, plan in enumerate(plans) for batch in plan]
        while step < total_steps:
            epoch, batch_refs = flat[step]
            batch_features = [features[name][index] for name, index in batch_refs]
            longest = max(len(f.input_ids) for f in batch_features)
            input_ids = torch.full((len(batch_features), longest), self.maker.pad_id, dtype=torch.long)
            attention_mask = torch.zeros((len(batch_features), longest), dtype=torch.long)
            for row, feature in enumerate(batch_features):
                input_ids[row, : len(feature.input_ids)] = torch.from_numpy(feature.input_ids)
                attention_mask[row, : len(feature.input_ids)] = 1
            starts = torch.tensor([f.start_position for f in batch_features])
            ends = torch.tensor([f.end_position for f in batch_features])
            if config.length_drop:
                step_loss, distilled = sandwich_backward(
                    model,
                    input_ids,
                    attention_mask,
                    starts,
                    ends,
                    config.length_drop_bound,
                    config.sandwich_random,
                    config.bf16,
                )
                distill_sum += distilled
            elif config.shared_norm > 0:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                    out = model(input_ids=input_ids, attention_mask=attention_mask)
                context = context_mask(batch_features, attention_mask)
                keys = [(name, features[name][i].group) for name, i in batch_refs]
                numbered = {key: number for number, key in enumerate(dict.fromkeys(keys))}
                groups = torch.tensor([numbered[key] for key in keys])
                window_loss = window_cross_entropy(out.start_logits, out.end_logits, starts, ends)
                shared = shared_norm_loss(out.start_logits, out.end_logits, starts, ends, context, groups)
                loss = window_loss + config.shared_norm * shared
                loss.backward()
                step_loss = window_loss.item()
                distill_sum += shared.item()
            else:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                    out = model(
                        input_ids=input_ids, attention_mask=attention_mask, start_positions=starts, end_positions=ends
                    )
                out.loss.backward()
                step_loss = out.loss.item()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            examples_seen += len(batch_features)
            loss_sum += step_loss
            loss_count += 1

            now = time.monotonic()
            if step % 20 == 0:
                remaining = (total_steps - step) * (now - started) / (step - resumed_step)
                extra = " distillation" if config.length_drop else " shared" if config.shared_norm > 0 else ""
                distill = f"{extra} {distill_sum / loss_count:.3f}" if extra else ""
                self._log(
                    f"step {step}/{total_steps} epoch {epoch} loss {loss_sum / loss_count:.3f}{distill} "
                    f"lr {scheduler.get_last_lr()[0]:.2e} ETA {remaining / 3600:.2f} h"
                )
            if now - last_checkpoint >= config.checkpoint_minutes * 60 or step == total_steps:
                elapsed = elapsed_before + now - started
                self._save(model, optimizer, scheduler, step, elapsed)
                em, f1 = evaluate_slice(model, self.maker, monitor, config.bf16)
                self._append_curve(
                    step,
                    epoch,
                    examples_seen,
                    elapsed,
                    loss_sum / max(1, loss_count),
                    scheduler.get_last_lr()[0],
                    em,
                    f1,
                )
                self._log(f"checkpoint at step {step}: held-out slice EM {em:.2f} F1 {f1:.2f}")
                if config.length_drop:
                    layers = len(model.distilbert.transformer.layer)
                    shortest = shortest_ratios(layers, config.length_drop_bound)
                    em, f1 = evaluate_slice(model, self.maker, monitor, config.bf16, shortest)
                    self._log(f"  the shortest network ({shortest[0]:.2f} a layer): EM {em:.2f} F1 {f1:.2f}")
                loss_sum, loss_count, distill_sum = 0.0, 0, 0.0
                last_checkpoint = time.monotonic()

        final_dir = self.run_dir / "final"
        model.eval()
        model.save_pretrained(final_dir)
        self._log(f"saved {final_dir}")
        return final_dir

    def _save(self, model, optimizer, scheduler, step: int, elapsed: float) -> None:
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "python_rng": random.getstate(),
            "numpy_rng": np.random.get_state(),
            "torch_rng": torch.get_rng_state(),
            "step": step,
            "elapsed_s": elapsed,
        }
        partial = self.run_dir / "checkpoint.pt.partial"
        torch.save(state, partial)
        os.replace(partial, self.run_dir / "checkpoint.pt")

    def _append_curve(self, step, epoch, examples_seen, elapsed, loss, lr, em, f1) -> None:
        path = self.run_dir / "curve.csv"
        new = not path.exists()
        with open(path, "a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(CURVE_FIELDS)
            writer.writerow(
                [step, epoch, examples_seen, round(elapsed, 1), round(loss, 4), f"{lr:.3e}", round(em, 2), round(f1, 2)]
            )
