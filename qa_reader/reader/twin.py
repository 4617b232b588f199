"""An fp32 twin of a dynamic-int8 graph, for `bench` where the exported fp32 graph is absent (it is not in
git): every int8 weight dequantised and each integer product replaced by its float one.

The twin computes in float32 with the int8 graph's weights (w = (q - zero point) x scale), so it differs from
the trained fp32 network by the weights' rounding, and from the int8 graph by the activations' rounding: a
speed reference, not an accuracy one. Needs the `onnx` package (the test extra), never onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MICROSOFT = "com.microsoft"


def _dequantize(values: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int) -> np.ndarray:
    """(values - zero) x scale, per channel along `axis` when scale is a vector."""
    values = values.astype(np.float32)
    scale = scale.astype(np.float32)
    zero = zero.astype(np.float32)
    if scale.ndim == 0:
        return (values - zero) * scale
    shape = [1] * values.ndim
    shape[axis] = -1
    return (values - zero.reshape(shape)) * scale.reshape(shape)


def fp32_twin(int8_path: Path, out_path: Path) -> int:
    """Write the float twin of the graph at `int8_path`; return how many quantized operators it replaced.

    Handles what onnxruntime's dynamic quantization makes of a BERT-like graph: MatMulInteger (with its Cast
    and scale Mul), QAttention and QEmbedLayerNormalization. Raises ValueError when the graph has none.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(int8_path))
    graph = model.graph
    weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    new_weights: list = []
    replaced: dict[int, list] = {}  # id of the node that goes -> the nodes that take its place
    dropped: set[int] = set()

    def float_input(quantized_name: str) -> str:
        """The float tensor a DynamicQuantizeLinear turned into `quantized_name`."""
        return producer[quantized_name].input[0]

    def add_weight(name: str, value: np.ndarray) -> str:
        new_weights.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    for node in graph.node:
        if node.op_type == "MatMulInteger" and node.input[1] in weights:
            cast = next(c for c in consumers[node.output[0]] if c.op_type == "Cast")
            scale_mul = next(c for c in consumers[cast.output[0]] if c.op_type == "Mul")
            combined = next(i for i in scale_mul.input if i != cast.output[0])
            scale_node = producer[combined]
            weight_scale = next(weights[i] for i in scale_node.input if i in weights)
            zero = weights[node.input[3]] if len(node.input) > 3 and node.input[3] in weights else np.zeros(())
            matrix = _dequantize(weights[node.input[1]], weight_scale, zero, axis=1)
            name = add_weight(node.input[1].removesuffix("_quantized") + "_fp32", matrix)
            replaced[id(node)] = [helper.make_node("MatMul", [float_input(node.input[0]), name], [scale_mul.output[0]])]
            dropped.update({id(cast), id(scale_mul)})
        elif node.op_type == "QAttention":
            base = node.input[1]
            matrix = _dequantize(weights[base], weights[node.input[4]], weights[node.input[7]], axis=1)
            name = add_weight(base.removesuffix("_quantized") + "_fp32", matrix)
            inputs = [float_input(node.input[0]), name, node.input[2], node.input[5]]
            attention = helper.make_node("Attention", inputs, list(node.output), domain=MICROSOFT)
            attention.attribute.extend(node.attribute)
            replaced[id(node)] = [attention]
        elif node.op_type == "QEmbedLayerNormalization":
            # Inputs: ids, segment ids, 5 quantized tables, mask, then their 5 scales and 5 zero points.
            tables = []
            for index in range(5):
                quantized = node.input[2 + index]
                if not quantized:
                    tables.append("")
                    continue
                value = _dequantize(
                    weights[quantized], weights[node.input[8 + index]], weights[node.input[13 + index]], 0
                )
                tables.append(add_weight(quantized.removesuffix("_quantized") + "_fp32", value))
            inputs = [node.input[0], node.input[1], *tables, node.input[7]]
            embed = helper.make_node("EmbedLayerNormalization", inputs, list(node.output), domain=MICROSOFT)
            embed.attribute.extend(node.attribute)
            replaced[id(node)] = [embed]
    if not replaced:
        raise ValueError(f"{int8_path} has no int8 operators to replace")

    nodes = []
    for node in graph.node:
        if id(node) in dropped:
            continue
        nodes.extend(replaced.get(id(node), [node]))
    # Whatever only fed the replaced operators (DynamicQuantizeLinear, the scale products) goes too.
    outputs = {o.name for o in graph.output}
    while True:
        used = {name for node in nodes for name in node.input} | outputs
        kept = [node for node in nodes if any(out in used for out in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    used = {name for node in nodes for name in node.input}
    initializers = [t for t in graph.initializer if t.name in used] + [t for t in new_weights if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    onnx.save(model, str(out_path))
    return len(replaced)
