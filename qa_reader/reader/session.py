"""The onnxruntime session: the only module that imports onnxruntime. Feeds only the declared inputs."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime

from qa_reader.errors import UserError
from qa_reader.reader.model import ModelFolder

START_NAMES = ("start_logits", "start_scores")
KEEP_RATIOS = "keep_ratios"  # length-adaptive graphs: the share of tokens each layer keeps (1.0: all)
END_NAMES = ("end_logits", "end_scores")
Logits = tuple[np.ndarray, np.ndarray]  # start and end logits, float32 (rows, tokens)


class OnnxReader:
    """Runs a QA graph on padded batches and returns (start_logits, end_logits) as float32 arrays: one batch
    at a time on a session of every thread (`__call__`), or several side by side (`map`) on its lanes,
    threads that share one session of one thread each."""

    def __init__(self, model: ModelFolder, threads: int = 0, model_file: str | None = None, lanes: int = 1) -> None:
        """Load the folder's graph (or `model_file` inside it, e.g. an fp32 twin for benchmarks) into a session
        of `threads` threads (0: onnxruntime's choice, every core) and, for `lanes` > 1, a second session of
        one thread that `lanes` threads run side by side.

        Raises UserError when onnxruntime cannot read the model file.
        """
        path = model.path / model_file if model_file else model.model_file
        self.session = _session(path, threads)
        # A session's weights are shared by the runs on it: the lanes cost one more copy, not one each. On two
        # cores, a SQuAD paragraph's window took 19.0 ms on two threads and 23.1 on one; two threads running
        # the one-thread session read one every 11.8 ms (two sessions of their own: 11.3 ms). The logits are
        # those of the session of every thread, bit for bit, on the int8 graph (`tests/test_bundled_model.py`).
        self.lanes = max(1, lanes)
        self._side_by_side = (
            (_session(path, 1), ThreadPoolExecutor(lanes, "qa-reader-lane")) if self.lanes > 1 else None
        )
        self.input_names = [node.name for node in self.session.get_inputs()]
        outputs = [node.name for node in self.session.get_outputs()]
        self.start_name = next((n for n in outputs if n in START_NAMES), outputs[0])
        self.end_name = next((n for n in outputs if n in END_NAMES), outputs[-1])
        unknown = set(self.input_names) - {"input_ids", "attention_mask", "token_type_ids", KEEP_RATIOS}
        if unknown or "input_ids" not in self.input_names or len(outputs) < 2:
            raise UserError(f"The model file {path} is not an extractive QA graph (inputs {self.input_names}).")
        self.layers = 0
        if KEEP_RATIOS in self.input_names:
            shape = next(node.shape for node in self.session.get_inputs() if node.name == KEEP_RATIOS)
            self.layers = int(shape[0])
        self.keep_ratios = np.ones(self.layers, dtype=np.float32)

    @property
    def adaptive(self) -> bool:
        """Whether the graph reads fewer tokens when asked to (a `keep_ratios` input)."""
        return self.layers > 0

    def set_keep_ratios(self, ratios) -> None:
        """The share of the previous layer's tokens each layer keeps, for every later run.

        Raises ValueError when the graph is not length-adaptive or the count or range is wrong.
        """
        values = np.asarray(ratios, dtype=np.float32)
        if not self.adaptive:
            raise ValueError("this model reads every token; it takes no keep ratios")
        if values.shape != (self.layers,) or not np.all((values > 0) & (values <= 1)):
            raise ValueError(f"keep ratios must be {self.layers} numbers in (0, 1], got {ratios!r}")
        self.keep_ratios = values

    def __call__(self, batch: dict[str, np.ndarray]) -> Logits:
        return self._run(self.session, batch)

    def map(self, batches: Sequence[dict[str, np.ndarray]]) -> list[Logits]:
        """Each batch's logits, in order: two or more are read side by side on the lanes, a lone one (or any,
        without lanes) on the session of every thread. No batch is split."""
        if self._side_by_side is None or len(batches) < 2:
            return [self(batch) for batch in batches]
        lane_session, pool = self._side_by_side
        return list(pool.map(lambda batch: self._run(lane_session, batch), batches))

    def _run(self, session: onnxruntime.InferenceSession, batch: dict[str, np.ndarray]) -> Logits:
        feed = {name: batch[name] for name in self.input_names if name != KEEP_RATIOS}
        if self.adaptive:
            feed[KEEP_RATIOS] = self.keep_ratios
        start, end = session.run([self.start_name, self.end_name], feed)
        return np.asarray(start, dtype=np.float32), np.asarray(end, dtype=np.float32)


def _session(path, threads: int) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session of the graph at `path` with `threads` threads (0: onnxruntime's choice).

    Raises UserError when onnxruntime cannot read the file.
    """
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # The CPU arena keeps the largest batch's buffers for the session's life (about 120 MB after one
    # question over a 247-page PDF); without it each run's buffers are freed when the run ends.
    options.enable_cpu_mem_arena = False
    try:
        return onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for bad files
        raise UserError(f"The model file {path} cannot be loaded: it is corrupt or not an ONNX graph.") from error
