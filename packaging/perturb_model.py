"""Make a deliberately damaged copy of a model folder, to check that the golden model tests catch it.

    python packaging/perturb_model.py MODEL_DIR OUT_DIR --kind scale|swap|flip [--factor 0.9]
        [--share 0.05] [--layer 2] [--matrix lin1] [--seed 0]
    QA_READER_MODEL=OUT_DIR python -m pytest tests/test_bundled_model.py

Kinds of damage:

- scale: both span logits multiplied by --factor (a Mul after each output). The best span stays the same;
  only the probabilities flatten, so only the probability ranges can see it.
- swap: the start_logits and end_logits outputs trade names, as an export that lists them in the wrong
  order would.
- flip: the sign of --share of the weights of one feed-forward matrix (--matrix of layer --layer) is
  flipped, chosen at random with --seed; in an int8 graph the quantized value q becomes 2·zero_point − q.

The copy keeps everything else in the folder, and its manifest keeps the original's name (the copy poses
as the model it was made from, so the tests hold it to that model's golden probabilities) with sha256 and
size_bytes recomputed, so that only behaviour can tell it apart. Needs the `onnx` package (the [test] extra).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

START, END = "start_logits", "end_logits"


def scale_logits(model: onnx.ModelProto, factor: float) -> None:
    """Multiply both logits outputs by `factor`: each output's producer now writes a hidden tensor."""
    graph = model.graph
    factor_name = "perturb_logit_factor"
    graph.initializer.append(numpy_helper.from_array(np.array(factor, dtype=np.float32), factor_name))
    for output in (START, END):
        hidden = f"{output}_before_perturbation"
        for node in graph.node:
            node.output[:] = [hidden if name == output else name for name in node.output]
        graph.node.append(helper.make_node("Mul", [hidden, factor_name], [output], name=f"perturb_scale_{output}"))


def swap_outputs(model: onnx.ModelProto) -> None:
    """Give the tensor that was start_logits the name end_logits and the other way round."""
    renamed = {START: END, END: START}
    for node in model.graph.node:
        node.output[:] = [renamed.get(name, name) for name in node.output]


def flip_signs(model: onnx.ModelProto, layer: int, matrix: str, share: float, seed: int) -> str:
    """Flip the sign of `share` of the int8 weights of one FFN matrix; returns the initializer's name.

    Raises ValueError when the graph has no quantized matrix for that layer.
    """
    node_name = f"/layer.{layer}/ffn/{matrix}/"
    nodes = [n for n in model.graph.node if n.op_type == "MatMulInteger" and node_name in n.name]
    if not nodes:
        raise ValueError(f"no MatMulInteger node whose name holds {node_name!r}: not a quantized DistilBERT graph?")
    weight_name, zero_point_name = nodes[0].input[1], nodes[0].input[3]
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    weights = numpy_helper.to_array(initializers[weight_name]).astype(np.int32)
    zero_point = numpy_helper.to_array(initializers[zero_point_name]).astype(np.int32)
    chosen = np.random.default_rng(seed).random(weights.shape) < share
    # Per-channel zero points are per output column (the last axis); broadcasting lines them up.
    flipped = np.clip(2 * zero_point - weights, -128, 127)
    weights = np.where(chosen, flipped, weights).astype(np.int8)
    initializers[weight_name].CopyFrom(numpy_helper.from_array(weights, weight_name))
    return weight_name


def perturb(model_dir: Path, out_dir: Path, kind: str, options: argparse.Namespace) -> str:
    """Copy `model_dir` to `out_dir` with the damage applied; returns a one-line description of it."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(model_dir, out_dir)
    model = onnx.load(str(model_dir / "model.onnx"))
    if kind == "scale":
        scale_logits(model, options.factor)
        description = f"span logits x {options.factor}"
    elif kind == "swap":
        swap_outputs(model)
        description = "start and end logits swapped"
    else:
        weight = flip_signs(model, options.layer, options.matrix, options.share, options.seed)
        description = f"signs of {options.share:.0%} of {weight} (layer {options.layer} {options.matrix}) flipped"
    onnx.checker.check_model(model)
    model_file = out_dir / "model.onnx"
    onnx.save(model, str(model_file))
    data = model_file.read_bytes()
    manifest_file = out_dir / "manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    manifest["sha256"] = hashlib.sha256(data).hexdigest()
    manifest["size_bytes"] = len(data)
    manifest["perturbation"] = description
    manifest_file.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return description


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out_dir", type=Path, help="replaced when it exists")
    parser.add_argument("--kind", choices=["scale", "swap", "flip"], required=True)
    parser.add_argument("--factor", type=float, default=0.9, help="scale: what the logits are multiplied by")
    parser.add_argument("--share", type=float, default=0.05, help="flip: the share of the weights flipped")
    parser.add_argument("--layer", type=int, default=2, help="flip: the transformer layer (0-based)")
    parser.add_argument("--matrix", choices=["lin1", "lin2"], default="lin1", help="flip: the FFN matrix")
    parser.add_argument("--seed", type=int, default=0, help="flip: which weights are chosen")
    options = parser.parse_args(argv)
    if options.model_dir.resolve() == options.out_dir.resolve():
        parser.error("OUT_DIR must differ from MODEL_DIR")
    print(f"{options.out_dir}: {perturb(options.model_dir, options.out_dir, options.kind, options)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
