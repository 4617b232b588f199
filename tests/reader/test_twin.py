"""The fp32 twin `bench` builds from an int8 graph when the exported fp32 one is absent."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from qa_reader.reader.twin import fp32_twin
from tests.support.tiny_model import build_graph

BUNDLED = Path(__file__).resolve().parents[2] / "models" / "minilm-distilbert-squad-int8" / "model.onnx"


def run(path: Path, feed: dict) -> list[np.ndarray]:
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)


def test_a_quantized_product_becomes_the_float_product_of_the_dequantised_weights(tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(0)
    weight = rng.normal(size=(8, 4)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "fp32.onnx"))
    quantize_dynamic(
        str(tmp_path / "fp32.onnx"), str(tmp_path / "int8.onnx"), per_channel=True, weight_type=QuantType.QInt8
    )
    assert fp32_twin(tmp_path / "int8.onnx", tmp_path / "twin.onnx") == 1

    twin = onnx.load(str(tmp_path / "twin.onnx"))
    assert {node.op_type for node in twin.graph.node} == {"MatMul", "Add"}
    int8 = onnx.load(str(tmp_path / "int8.onnx"))
    tensors = {t.name: numpy_helper.to_array(t) for t in int8.graph.initializer}
    quantized = next(name for name in tensors if name.endswith("_quantized"))
    base = quantized.removesuffix("_quantized")
    dequantised = (tensors[quantized].astype(np.float32) - tensors[base + "_zero_point"]) * tensors[base + "_scale"]
    x = rng.normal(size=(3, 8)).astype(np.float32)
    [expected] = [x @ dequantised + bias]
    [actual] = run(tmp_path / "twin.onnx", {"x": x})
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    [original] = run(tmp_path / "fp32.onnx", {"x": x})
    assert np.abs(actual - original).max() < 0.05  # only the weights' rounding apart


def test_the_bundled_models_twin_reads_in_float_and_finds_the_same_best_tokens(tmp_path):
    assert fp32_twin(BUNDLED, tmp_path / "twin.onnx") > 0
    ops = {node.op_type for node in onnx.load(str(tmp_path / "twin.onnx")).graph.node}
    assert not ops & {"MatMulInteger", "QAttention", "QEmbedLayerNormalization", "DynamicQuantizeLinear"}
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(BUNDLED.parent / "tokenizer.json"))
    context = "The bridge over the river was built in 1872 by the city, and it was rebuilt in 1936 after a flood."
    encoding = tokenizer.encode("When was the bridge rebuilt?", context)
    ids = np.array([encoding.ids], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    int8, twin = run(BUNDLED, feed), run(tmp_path / "twin.onnx", feed)
    answer = encoding.tokens.index("1936")
    for a, b in zip(int8, twin):
        assert np.abs(a - b).max() < 2.0
        assert a.argmax() == b.argmax() == answer


def test_a_graph_without_int8_operators_has_no_twin(tmp_path):
    onnx.save(build_graph(np.zeros(10), np.zeros(10)), str(tmp_path / "plain.onnx"))
    with pytest.raises(ValueError, match="no int8 operators"):
        fp32_twin(tmp_path / "plain.onnx", tmp_path / "twin.onnx")
