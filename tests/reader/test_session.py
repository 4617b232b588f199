"""The onnxruntime session: which inputs it feeds, and the keep ratios of a length-adaptive graph."""

import threading

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


def test_lanes_read_batches_side_by_side_in_order_with_the_logits_of_one_session(tmp_path):
    one = OnnxReader(folder_with(tmp_path, build_graph(STARTS, ENDS)), threads=2)
    two = OnnxReader(folder_with(tmp_path, build_graph(STARTS, ENDS)), threads=2, lanes=2)
    assert (one.lanes, two.lanes) == (1, 2)
    batches = [{name: value[:, : 2 + n % 3] for name, value in BATCH.items()} for n in range(7)]
    expected = [one(batch) for batch in batches]
    for reader, ran_on in ((one, {"caller"}), (two, {"lane"})):
        threads: set[str] = set()
        run = reader._run

        def noting(session, batch, run=run, threads=threads):
            threads.add("lane" if threading.current_thread().name.startswith("qa-reader-lane") else "caller")
            return run(session, batch)

        reader._run = noting
        read = reader.map(batches)
        assert threads == ran_on  # with lanes, every batch of a map runs on them
        assert [start.shape for start, _ in read] == [(1, 2 + n % 3) for n in range(7)]
        assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(read, expected))
        threads.clear()
        reader.map(batches[:1])
        assert threads == {"caller"}  # a lone batch runs on the session of every thread, in the caller


@pytest.mark.parametrize(
    ("threads", "lanes", "cores", "expected"),
    [(0, 0, 2, 2), (0, 0, 8, 8), (0, 0, 1, 1), (1, 0, 8, 1), (3, 2, 8, 2), (2, 5, 8, 2), (0, 1, 8, 1)],
)
def test_a_reader_has_a_lane_per_thread_unless_asked_for_fewer(monkeypatch, threads, lanes, cores, expected):
    from qa_reader import config
    from qa_reader.reader.build import lanes_for

    monkeypatch.setattr(config, "cores", lambda: cores)
    assert lanes_for(threads, lanes) == expected
