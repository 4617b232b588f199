"""The batch over a Ray cluster (the `[scale]` extra; the only module that imports Ray): a Ray Data pipeline of
file paths -> `prepare` in CPU tasks -> `read` in actors that each load the model once -> the driver, which
writes the parts exactly as the local loop does (`qa_reader.batch.local`), from the same per-document steps.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import tempfile
import threading
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import ray
import ray.data

from qa_reader import config
from qa_reader.batch.job import Job, Progress
from qa_reader.batch.output import Recorder, Summary
from qa_reader.batch.steps import Prepared, prepare, read, reading_engine
from qa_reader.errors import UserError
from qa_reader.reader.model import MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, ModelFolder

# Reading takes most of the work (docs/SCALING.md): a reader actor is scheduled on 3/4 of a CPU and a
# preparing task on 1/4, so that even a one-CPU cluster runs one of each and none waits for the other.
READER_CPUS = 0.75
INGEST_CPUS = 0.25
READER_THREADS = 1  # onnxruntime threads per reader: the pool has one reader per CPU
DOCUMENTS_PER_TASK = 4
INGEST_RETRIES = 2  # a task whose worker died (a parser crash) runs again at most this often; then it is lost
# Where Ray's dashboard process looks for the cloud it runs on (instance metadata on a link-local address,
# then a DNS name) whether or not usage statistics are on. A proxy on a closed loopback port makes those
# requests fail on the spot; Ray's own gRPC ignores proxies.
_NOWHERE = "http://127.0.0.1:9"
_OFFLINE = {
    "http_proxy": _NOWHERE,
    "HTTP_PROXY": _NOWHERE,
    "https_proxy": _NOWHERE,
    "HTTPS_PROXY": _NOWHERE,
    "no_proxy": "",
    "NO_PROXY": "",
}


@contextlib.contextmanager
def ray_cluster(address: str = "auto", cpus: int | None = None) -> Iterator[None]:
    """Connected to a Ray cluster while the block runs, disconnected (a cluster it started: stopped) after.

    `address` "auto": the cluster started on this machine with `ray start` (or RAY_ADDRESS), else a new one
    here on `cpus` CPUs (None: all), offline and without the dashboard; anything else: that cluster's address.
    Already connected (a test's fixture, the benchmark), it uses that connection and leaves it open. Usage
    statistics are off in every case. Raises UserError when the address cannot be reached.
    """
    if ray.is_initialized():
        yield
        return
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    options = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address == "auto":
            try:
                ray.init(address="auto", **options)
            except ConnectionError:
                _start_local(cpus)
        else:
            ray.init(address=address, **options)
    except ConnectionError as error:
        raise UserError(f"No Ray cluster answers at {address} ({error}).") from error
    try:
        yield
    finally:
        ray.shutdown()


@contextlib.contextmanager
def local_cluster(cpus: int | None = None) -> Iterator[None]:
    """A Ray cluster on this machine only, on `cpus` CPUs (None: all), while the block runs (see
    `_start_local`); stopped after."""
    _start_local(cpus)
    try:
        yield
    finally:
        ray.shutdown()


def _start_local(cpus: int | None) -> None:
    """Start a Ray cluster on this machine only: no dashboard, no usage statistics, and no cloud probing (see
    _OFFLINE: those variables are set only while Ray starts its processes, which keep them)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    saved = {name: os.environ.get(name) for name in _OFFLINE}
    os.environ.update(_OFFLINE)
    try:
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_on_ray(job: Job, progress: Progress | None = None) -> Summary:
    """`run_local` on the connected Ray cluster (see `ray_cluster`), with the same rows and output.

    The driver's model folder travels to the readers through Ray's object store, so the workers need QA Reader
    installed but no model of their own. Blocks stream: the driver holds the rows of the part being gathered,
    the cluster a bounded number of documents in flight. A document whose preparing task crashed its worker
    more than INGEST_RETRIES times is left out (counted as lost; the next run tries it again).
    """
    recorder = Recorder(job, progress)
    model = ray.put(_model_files(job.model_dir or config.default_model_dir()))
    context = ray.data.DataContext.get_current()
    context.max_errored_blocks = -1
    readers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    dataset = ray.data.from_items(
        [{"path": path} for path in job.paths],
        override_num_blocks=max(1, math.ceil(len(job.paths) / DOCUMENTS_PER_TASK)),
    )
    with warnings.catch_warnings():
        # Ray Data retries a task whose worker died forever unless told otherwise, and only the deprecated
        # remote arguments can tell it (hence ray < 2.64 in the scale extra).
        warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated", category=Warning)
        dataset = dataset.map_batches(
            _prepare_batch,
            fn_kwargs=_Written.arguments(recorder.written),
            batch_size=DOCUMENTS_PER_TASK,
            batch_format="numpy",
            num_cpus=INGEST_CPUS,
            max_retries=INGEST_RETRIES,
        )
    dataset = dataset.map_batches(
        _Reader,
        fn_constructor_kwargs={"model": [model], "questions": list(job.questions), "top_k": job.top_k},
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=readers),
        num_cpus=READER_CPUS,
    )
    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            for result in batch["result"]:
                recorder.record(result)
    finally:
        recorder.flush()
    return recorder.finish()


class _Written:
    """`prepare`'s `written` keys on a worker: sha256s in a sorted array of the raw digests (shared zero-copy by
    Ray's object store, 32 bytes a document, where a set of a million strings would be unpickled by every
    task), and the few path keys of documents that could not be hashed."""

    def __init__(self, digests: np.ndarray, paths: frozenset[str]) -> None:
        self._digests = digests
        self._paths = paths

    @classmethod
    def arguments(cls, keys: set[str]) -> dict:
        """The arguments for `cls` (sent to every preparing task) that hold `keys`."""
        hashes = [bytes.fromhex(key) for key in keys if not key.startswith("path:")]
        return {
            "digests": np.sort(np.array(hashes, dtype="S32")),
            "paths": frozenset(k for k in keys if k.startswith("path:")),
        }

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key.startswith("path:"):
            return key in self._paths
        digest = np.array([bytes.fromhex(key)], dtype="S32")[0]
        position = int(np.searchsorted(self._digests, digest))
        return position < len(self._digests) and self._digests[position] == digest


def _objects(items: list) -> np.ndarray:
    """A one-dimensional object array of `items` (np.array would look inside them)."""
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _prepare_batch(batch: dict[str, np.ndarray], digests: np.ndarray, paths: frozenset[str]) -> dict[str, np.ndarray]:
    done = _Written(digests, paths)
    return {"prepared": _objects([prepare(str(path), done) for path in batch["path"]])}


def _model_files(model_dir: Path) -> dict[str, bytes]:
    """The model folder's three files, checked (the model's sha256 against its manifest) before they travel."""
    folder = ModelFolder.open(model_dir)
    return {name: (folder.path / name).read_bytes() for name in (MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE)}


class _Reader:
    """A reader actor: writes the model it was sent into a private folder, loads it once, and reads the
    documents it is given, one at a time."""

    def __init__(self, model: list[ray.ObjectRef], questions: list[str], top_k: int) -> None:
        """`model` holds a reference to the model's files (in a list, so that Ray hands over the reference and
        the actor's arguments stay small)."""
        folder = Path(tempfile.mkdtemp(prefix="qa-reader-model-"))
        weakref.finalize(self, shutil.rmtree, folder, True)
        for name, data in ray.get(model[0]).items():
            (folder / name).write_bytes(data)
        self._folder = folder
        self._questions = questions
        self._top_k = top_k
        self._threads = threading.local()  # Ray may call an actor from another thread than the one that made it

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        engine = getattr(self._threads, "engine", None)
        if engine is None:  # SQLite objects stay on the thread that made them
            engine = self._threads.engine = reading_engine(self._folder, READER_THREADS)
        prepared: list[Prepared] = list(batch["prepared"])
        return {"result": _objects([read(engine, p, self._questions, self._top_k) for p in prepared])}
