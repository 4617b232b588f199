"""The onnxruntime session: which inputs it feeds, and the keep ratios of a length-adaptive graph."""

import numpy as np
import onnx
import pytest

from qa_reader.reader.model import ModelFolder
from qa_reader.reader.session import OnnxReader
from tests.support.tiny_model import build_graph

STARTS = np.array([0.0, 1.0, 2.0, 3.0], dtype=np.float32)
ENDS = np.array([3.0, 2.0, 1.0, 0.0], dtype=np.float32)
BATCH = {"input_ids": np.array([[1, 2, 3, 0]]), "attention_mask": np.array([[1, 1, 1, 0]])}


def folder_with(tmp_path, graph) -> ModelFolder:
    onnx.save(graph, str(tmp_path / "model.onnx"))
    return ModelFolder(tmp_path, {"name": "t"})


def test_a_plain_graph_reads_every_token_and_takes_no_ratios(tmp_path):
    reader = OnnxReader(folder_with(tmp_path, build_graph(STARTS, ENDS)))
    assert not reader.adaptive
    start, _ = reader(BATCH)
    assert start[0, :3].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="takes no keep ratios"):
        reader.set_keep_ratios([1.0])


def test_an_adaptive_graph_reads_at_full_length_until_told_otherwise(tmp_path):
    reader = OnnxReader(folder_with(tmp_path, build_graph(STARTS, ENDS, keep_ratio_layers=3)))
    assert reader.adaptive
    start, end = reader(BATCH)
    assert start[0, :3].tolist() == [1.0, 2.0, 3.0] and end[0, :3].tolist() == [2.0, 1.0, 0.0]
    reader.set_keep_ratios([0.5, 1.0, 1.0])
    start, _ = reader(BATCH)
    assert start[0, :3].tolist() == [0.5, 1.0, 1.5]


@pytest.mark.parametrize("ratios", [[0.5, 1.0], [0.0, 1.0, 1.0], [1.0, 1.5, 1.0], [float("nan")] * 3])
def test_keep_ratios_must_be_one_share_per_layer_above_zero_and_at_most_one(tmp_path, ratios):
    reader = OnnxReader(folder_with(tmp_path, build_graph(STARTS, ENDS, keep_ratio_layers=3)))
    with pytest.raises(ValueError, match="3 numbers in"):
        reader.set_keep_ratios(ratios)
    start, _ = reader(BATCH)
    assert start[0, 3 - 1] == 3.0  # the ratios in use are unchanged
