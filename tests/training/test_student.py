"""The bundled model folder as a training start: its int8 graph dequantised into the torch student (needs the
[train] extra; skipped without torch)."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the [train] extra (torch) is not installed")

BUNDLED = Path(__file__).resolve().parents[2] / "models" / "minilm-distilbert-squad-int8"
QUESTION = "When was the bridge rebuilt?"
CONTEXT = "The bridge over the river was built in 1872 by the city, and it was rebuilt in 1936 after a flood."


def test_the_bundled_graph_gives_every_weight_and_the_same_answer():
    import onnxruntime
    from tokenizers import Tokenizer

    from qa_reader.training.student import student_from_onnx

    student = student_from_onnx(BUNDLED).eval()  # raises when a weight of the network is missing
    encoding = Tokenizer.from_file(str(BUNDLED / "tokenizer.json")).encode(QUESTION, CONTEXT)
    ids = np.array([encoding.ids], np.int64)
    mask = np.ones_like(ids)
    session = onnxruntime.InferenceSession(str(BUNDLED / "model.onnx"), providers=["CPUExecutionProvider"])
    start, end = session.run(None, {"input_ids": ids, "attention_mask": mask})
    with torch.no_grad():
        out = student(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    # The int8 graph quantises activations too: logits differ by a few tenths, the answer does not.
    assert np.abs(out.start_logits.numpy() - start).max() < 1.0
    assert np.abs(out.end_logits.numpy() - end).max() < 1.0
    assert out.start_logits.numpy().argmax() == start.argmax() and out.end_logits.numpy().argmax() == end.argmax()
    tokens = encoding.offsets[int(start.argmax())][0], encoding.offsets[int(end.argmax())][1]
    assert CONTEXT[tokens[0] : tokens[1]] == "1936"
