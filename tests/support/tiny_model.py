"""A tiny extractive-QA model folder built without torch: a WordPiece tokenizer over a small vocabulary
and an ONNX graph whose start/end logits are per-token lookups, so tests know what it will answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tokenizer(words: Iterable[str]) -> Tokenizer:
    """An uncased BERT-style WordPiece tokenizer knowing `words` (and single characters)."""
    vocab: dict[str, int] = {}
    for token in SPECIAL:
        vocab[token] = len(vocab)
    pieces = set()
    for word in words:
        for token in re.findall(r"\w+|[^\w\s]", word.lower()):
            pieces.add(token)
    for char in "abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()-":
        pieces.add(char)
        pieces.add("##" + char)
    for token in sorted(pieces):
        vocab.setdefault(token, len(vocab))
    tokenizer = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tokenizer


def build_graph(
    start_table: np.ndarray, end_table: np.ndarray, with_token_types: bool = False, keep_ratio_layers: int = 0
) -> onnx.ModelProto:
    """logits[b, t] = table[input_ids[b, t]], minus 10000 where attention_mask is 0. With `keep_ratio_layers`,
    a length-adaptive stand-in: a keep_ratios input of that many values, the first of which scales the start
    logits (so a test sees which ratios were fed)."""
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
    ]
    if with_token_types:
        inputs.append(helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "sequence"]))
    outputs = [
        helper.make_tensor_value_info("start_logits", TensorProto.FLOAT, ["batch", "sequence"]),
        helper.make_tensor_value_info("end_logits", TensorProto.FLOAT, ["batch", "sequence"]),
    ]
    initializers = [
        numpy_helper.from_array(start_table.astype(np.float32), "start_table"),
        numpy_helper.from_array(end_table.astype(np.float32), "end_table"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
        numpy_helper.from_array(np.array(10000.0, dtype=np.float32), "big"),
    ]
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["mask_float", "one"], ["mask_minus_one"]),
        helper.make_node("Mul", ["mask_minus_one", "big"], ["penalty"]),
        helper.make_node("Gather", ["start_table", "input_ids"], ["start_raw"], axis=0),
        helper.make_node("Gather", ["end_table", "input_ids"], ["end_raw"], axis=0),
        helper.make_node("Add", ["start_raw", "penalty"], ["start_logits"])
        if not keep_ratio_layers
        else helper.make_node("Add", ["start_scaled", "penalty"], ["start_logits"]),
        helper.make_node("Add", ["end_raw", "penalty"], ["end_logits"]),
    ]
    if with_token_types:
        # Declared and consumed (as a no-op), like BERT's segment input.
        nodes.append(helper.make_node("Cast", ["token_type_ids"], ["token_types_float"], to=TensorProto.FLOAT))
        nodes.append(helper.make_node("Mul", ["token_types_float", "one"], ["unused"]))
        outputs_extra = helper.make_tensor_value_info("unused", TensorProto.FLOAT, ["batch", "sequence"])
        outputs.append(outputs_extra)
    if keep_ratio_layers:
        inputs.append(helper.make_tensor_value_info("keep_ratios", TensorProto.FLOAT, [keep_ratio_layers]))
        initializers.append(numpy_helper.from_array(np.array(0, dtype=np.int64), "first"))
        nodes.insert(0, helper.make_node("Gather", ["keep_ratios", "first"], ["first_ratio"], axis=0))
        nodes.insert(1, helper.make_node("Gather", ["start_table", "input_ids"], ["start_unscaled"], axis=0))
        nodes.insert(2, helper.make_node("Mul", ["start_unscaled", "first_ratio"], ["start_scaled"]))
    graph = helper.make_graph(nodes, "tiny_qa", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_model_folder(
    folder: Path,
    vocabulary: Iterable[str],
    answer_starts: dict[str, float],
    answer_ends: dict[str, float],
    *,
    with_token_types: bool = False,
    threshold: float = 0.05,
    cls_logit: float = 2.0,
    length_budgets: dict[str, list[float]] | None = None,
) -> Path:
    """Write model.onnx, tokenizer.json and manifest.json into `folder` and return it.

    Tokens in `answer_starts` / `answer_ends` get those start / end logits; every other token 0, and
    [CLS] `cls_logit` (its no-answer pull). `length_budgets` makes it a length-adaptive stand-in (see
    `build_graph`) offering those budgets.
    """
    from qa_reader.reader.model import file_sha256

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer([*vocabulary, *answer_starts, *answer_ends])
    size = tokenizer.get_vocab_size()
    start_table = np.zeros(size, dtype=np.float32)
    end_table = np.zeros(size, dtype=np.float32)
    cls = tokenizer.token_to_id("[CLS]")
    start_table[cls] = end_table[cls] = cls_logit
    for table, weights in ((start_table, answer_starts), (end_table, answer_ends)):
        for word, value in weights.items():
            table[tokenizer.token_to_id(word.lower())] = value
    tokenizer.save(str(folder / "tokenizer.json"))
    layers = len(next(iter(length_budgets.values()))) if length_budgets else 0
    onnx.save(build_graph(start_table, end_table, with_token_types, layers), str(folder / "model.onnx"))
    manifest = {
        "name": "tiny-test-model",
        "architecture": "lookup (tests only)",
        "sha256": file_sha256(folder / "model.onnx"),
        "max_sequence_length": 384,
        "lowercase": True,
        "no_answer_threshold": threshold,
    }
    if length_budgets:
        manifest["length_budgets"] = [{"name": n, "keep_ratios": r} for n, r in length_budgets.items()]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def add_calibration(folder: Path, coefficients: dict[str, float], intercept: float, threshold: float) -> Path:
    """Give a model folder a hand-set answer calibration (features unscaled: mean 0, scale 1)."""
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    names = list(coefficients)
    manifest["calibration"] = {
        "features": names,
        "mean": [0.0] * len(names),
        "scale": [1.0] * len(names),
        "coefficients": [coefficients[name] for name in names],
        "intercept": intercept,
        "threshold": threshold,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return folder
