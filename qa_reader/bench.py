"""`qa-reader bench`: medians measured in one run — int8 against fp32 on SQuAD paragraphs, then
indexing and asking over a long PDF, cold and cached; with `--batch`, `qa-reader batch` over a folder of PDFs
in-process and on a local Ray cluster of 1 and 2 CPUs."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from qa_reader import config, memory, squad
from qa_reader.calibration import feature_matrix
from qa_reader.engine import LIVE_PASSAGES, Engine
from qa_reader.errors import UserError
from qa_reader.reader.build import Reader, build_reader

FP32_FILE = "model.fp32.onnx"
PDF_QUESTIONS = (
    "What is an industrial control system?",
    "What are the main components of a SCADA system?",
    "What is a programmable logic controller?",
    "Why is patching difficult in ICS environments?",
    "What is defense-in-depth?",
    "What does a historian do?",
    "What are the differences between IT and ICS security?",
    "What is the purpose of a DMZ?",
)
# The 79-page NIST SP 800-61r2 (incident handling), the other long PDF the budgets are timed on.
INCIDENT_QUESTIONS = (
    "What is an incident?",
    "What are the phases of the incident response life cycle?",
    "What is a precursor?",
    "What is an indicator?",
    "Who should be on the incident response team?",
    "What is containment?",
    "Why should evidence be preserved?",
    "What should be done after an incident is handled?",
)


def shared_data() -> Path:
    """The `../shared/data` folder beside the project checkout."""
    return config.install_root().parent / "shared" / "data"


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 2)


def _time_reader(reader: Reader, questions: list[squad.Question]) -> list[float]:
    return _read_timed(reader, questions)[0]


def _read_timed(reader: Reader, questions: list[squad.Question]) -> tuple[list[float], list[float]]:
    """Seconds and F1 of each question read against its own paragraph."""
    timings, f1s = [], []
    for question in questions:
        started = time.perf_counter()
        prediction = reader.predict(question.question, question.context)
        timings.append(time.perf_counter() - started)
        f1s.append(squad.score(prediction.text, question.answers)[1])
    return timings, f1s


TWIN_FILE = "model.twin.fp32.onnx"


def _fp32_reader(model_dir: Path, scratch: Path) -> tuple[Reader, str] | None:
    """The fp32 reader to compare with: the exported graph beside the model, else a twin built from the int8
    graph in `scratch` (see `reader.twin`); None without the onnx package to build it, or for a graph with no
    int8 operator (it is fp32 already)."""
    if (model_dir / FP32_FILE).exists():
        return build_reader(model_dir, model_file=FP32_FILE), f"the exported {FP32_FILE}"
    try:
        from qa_reader.reader.twin import fp32_twin
    except ImportError:
        return None
    for name in ("tokenizer.json", "manifest.json"):
        shutil.copyfile(model_dir / name, scratch / name)
    shutil.copyfile(model_dir / "model.onnx", scratch / "model.onnx")
    try:
        fp32_twin(scratch / "model.onnx", scratch / TWIN_FILE)
    except ValueError:
        return None
    return build_reader(scratch, model_file=TWIN_FILE), "a twin built from the int8 graph (its weights dequantised)"


def run(model_dir: Path, question_count: int, pdf: Path | None, log: Callable[[str], None] | None) -> dict:
    """Run the benchmark; return its figures (and print them through `log`)."""
    say = log or (lambda line: None)
    report: dict = {"model": str(model_dir)}
    dev_path = shared_data() / "squad-v1.1" / "dev-v1.1.json"
    if not dev_path.exists():
        raise UserError(f"{dev_path} is missing; the benchmark needs the shared data folder.")
    questions = squad.load(dev_path)[:question_count]

    with tempfile.TemporaryDirectory() as scratch:
        readers = {"int8": build_reader(model_dir)}
        fp32 = _fp32_reader(Path(model_dir), Path(scratch))
        if fp32 is not None:
            readers["fp32"], report["fp32_graph"] = fp32
        for reader in readers.values():
            _time_reader(reader, questions[:20])  # warm-up
        timings: dict[str, list[float]] = {name: [] for name in readers}
        # Interleave in rounds so both models see the same machine load.
        for start in range(0, len(questions), 25):
            chunk = questions[start : start + 25]
            for name, reader in readers.items():
                timings[name].extend(_time_reader(reader, chunk))
    for name, values in timings.items():
        report[f"squad_{name}_ms_p50"] = _median_ms(values)
        report[f"squad_{name}_ms_p90"] = round(sorted(values)[int(0.9 * (len(values) - 1))] * 1000, 2)
        say(
            f"SQuAD paragraph, {name}: median {report[f'squad_{name}_ms_p50']} ms, "
            f"p90 {report[f'squad_{name}_ms_p90']} ms ({len(values)} questions)"
        )
    if "fp32" in timings:
        report["fp32_over_int8"] = round(report["squad_fp32_ms_p50"] / report["squad_int8_ms_p50"], 2)
        say(f"  int8 is {report['fp32_over_int8']}x faster than fp32 (median; fp32: {report['fp32_graph']})")
    else:
        say(f"  no {FP32_FILE} beside the model and no int8 graph (or no onnx) to build a twin: fp32 not measured")

    pdf = pdf or shared_data() / "pdfs" / "NIST.SP.800-82r2.pdf"
    if not pdf.exists():
        raise UserError(f"{pdf} is missing.")
    with tempfile.TemporaryDirectory() as folder:
        index_times = []
        # ru_maxrss is the peak of the whole run (the readers loaded above may have set it): where Linux
        # lets the peak be reset, measure indexing's own.
        rss_before = memory.reset_peak()
        for attempt in range(3):
            engine = Engine(Path(folder) / f"bench{attempt}.sqlite3", model_dir)
            started = time.perf_counter()
            record = engine.index(pdf)
            index_times.append(time.perf_counter() - started)
            engine.close()
        peak = memory.peak_since_reset()
        report["pdf"] = pdf.name
        report["pdf_pages"] = record.page_count
        report["pdf_passages"] = record.passage_count
        report["index_s_median"] = round(statistics.median(index_times), 2)
        growth = None if rss_before is None or peak is None else round((peak - rss_before) / 1024, 1)
        report["index_peak_rss_growth_mb"] = growth
        say(
            f"Index {pdf.name} ({record.page_count} pages, {record.passage_count} passages): "
            f"median {report['index_s_median']} s of 3; "
            + (f"peak memory grew {growth} MB" if growth is not None else "peak memory not measured on this system")
        )
        engine = Engine(Path(folder) / "bench0.sqlite3", model_dir)
        engine.load_model()
        cold, cached = [], []
        for question in PDF_QUESTIONS:
            started = time.perf_counter()
            engine.ask(question, [record.id])
            cold.append(time.perf_counter() - started)
        for question in PDF_QUESTIONS:
            started = time.perf_counter()
            result = engine.ask(question, [record.id])
            cached.append(time.perf_counter() - started)
            assert result.from_cache
        # Reading best bound first and stopping early against reading every passage chosen, alternately.
        reading: dict[bool, list[float]] = {False: [], True: []}
        passages_read: dict[bool, list[int]] = {False: [], True: []}
        for question in PDF_QUESTIONS:
            for exhaustive in (False, True):
                started = time.perf_counter()
                [gathered] = engine.candidates([question], [record.id], exhaustive=exhaustive)
                engine.answer_sets([gathered], [record.id])
                reading[exhaustive].append(time.perf_counter() - started)
                passages_read[exhaustive].append(len({span.context_index for span in gathered.spans}))
        # One lane per thread (two one-thread runs side by side on two cores) against the settings' reader,
        # alternately, both stopping early.
        per_thread = Engine(Path(folder) / "bench0.sqlite3", model_dir, config.Settings(lanes=0))
        per_thread.load_model()
        lanes = per_thread.reader_lanes()
        for question in PDF_QUESTIONS:  # the passages' tokens cached as the other engine's already are
            per_thread.candidates([question], [record.id])
        by_lanes: dict[str, list[float]] = {"settings": [], "per_thread": []}
        for question in PDF_QUESTIONS:
            for arm, asking in (("per_thread", per_thread), ("settings", engine)):
                started = time.perf_counter()
                [gathered] = asking.candidates([question], [record.id])
                asking.answer_sets([gathered], [record.id])
                by_lanes[arm].append(time.perf_counter() - started)
        per_thread.close()
        # What calibrated scores add to a question: the candidates' features and the logistic model.
        scoring = []
        calibrator = engine.calibrator()
        for question in PDF_QUESTIONS:
            candidates = engine.candidates([question], [record.id])[0]
            started = time.perf_counter()
            matrix = feature_matrix(question, candidates.evidence, engine.calibrator_features())
            if calibrator is not None:
                calibrator.probabilities(matrix)
            scoring.append(time.perf_counter() - started)
        engine.close()
    report["pdf_scoring_ms_p50"] = _median_ms(scoring)
    report["pdf_question_ms_p50"] = _median_ms(cold)
    report["pdf_question_ms_max"] = round(max(cold) * 1000, 2)
    report["pdf_cached_ms_p50"] = _median_ms(cached)
    report["pdf_stopping_early_ms_p50"] = _median_ms(reading[False])
    report["pdf_every_passage_ms_p50"] = _median_ms(reading[True])
    report["pdf_stopping_early_speedup"] = round(
        report["pdf_every_passage_ms_p50"] / max(report["pdf_stopping_early_ms_p50"], 1e-9), 2
    )
    report["lanes_per_thread"] = lanes
    report["pdf_settings_lanes_ms_p50"] = _median_ms(by_lanes["settings"])
    report["pdf_lane_per_thread_ms_p50"] = _median_ms(by_lanes["per_thread"])
    report["pdf_lanes_speedup"] = round(
        report["pdf_settings_lanes_ms_p50"] / max(report["pdf_lane_per_thread_ms_p50"], 1e-9), 2
    )
    report["pdf_passages_read_mean"] = {
        "stopping_early": round(statistics.mean(passages_read[False]), 1),
        "every_passage": round(statistics.mean(passages_read[True]), 1),
    }
    say(
        f"Question over the indexed PDF: median {report['pdf_question_ms_p50']} ms, "
        f"max {report['pdf_question_ms_max']} ms ({len(cold)} questions)"
    )
    say(
        f"  of which answer features and calibration: median {report['pdf_scoring_ms_p50']} ms "
        f"({100 * report['pdf_scoring_ms_p50'] / max(report['pdf_question_ms_p50'], 1e-9):.1f} %)"
    )
    read = report["pdf_passages_read_mean"]
    say(
        f"  stopping once no unread passage can hold the first answer: median {report['pdf_stopping_early_ms_p50']}"
        f" ms against {report['pdf_every_passage_ms_p50']} ms reading every passage chosen, "
        f"{report['pdf_stopping_early_speedup']}x faster (passages with a candidate, mean: "
        f"{read['stopping_early']} against {read['every_passage']})"
    )
    say(
        f"  {lanes} lane(s), one per thread, side by side: median {report['pdf_lane_per_thread_ms_p50']} ms against "
        f"{report['pdf_settings_lanes_ms_p50']} ms with the settings' lanes, {report['pdf_lanes_speedup']}x faster"
    )
    say(f"Cached answer: median {report['pdf_cached_ms_p50']} ms")
    return report


BATCH_CONFIGURATIONS = ("local", "ray-1", "ray-2")


def run_batch(model_dir: Path, folder: Path | None, repeats: int, log: Callable[[str], None] | None) -> dict:
    """Time `qa-reader batch` over the PDFs of `folder` (default: the shared sample PDFs) with PDF_QUESTIONS:
    in-process with one reader thread, then on a new local Ray cluster of 1 and of 2 CPUs, in turn `repeats`
    times; return the medians (and print them through `log`). Pages and pairs per second are the run's wall
    time over its pages and question-document pairs; the in-process run also says how its time divides
    between preparing (per page) and reading (per pair). Raises UserError without the scale extra."""
    from qa_reader.batch.inputs import expand_documents
    from qa_reader.batch.job import Job
    from qa_reader.batch.local import run_local
    from qa_reader.batch.output import read_rows

    try:
        from qa_reader.batch import cluster
    except ImportError as error:
        raise UserError(f"bench --batch needs Ray and pyarrow ({error}): pip install 'qa-reader[scale]'.") from None
    say = log or (lambda line: None)
    folder = folder or shared_data() / "pdfs"
    paths = tuple(expand_documents([folder]))
    questions = PDF_QUESTIONS
    summaries: dict[str, list] = {name: [] for name in BATCH_CONFIGURATIONS}
    starts: dict[str, list[float]] = {name: [] for name in BATCH_CONFIGURATIONS[1:]}
    identical = True
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(repeats):
            outputs = {name: Path(scratch) / f"{name}-{attempt}.jsonl" for name in BATCH_CONFIGURATIONS}
            job = Job(paths, questions, outputs["local"], model_dir=model_dir)
            summaries["local"].append(run_local(job, threads=1))
            for name in BATCH_CONFIGURATIONS[1:]:
                started = time.perf_counter()
                with cluster.local_cluster(cpus=int(name.split("-")[1])):
                    starts[name].append(time.perf_counter() - started)
                    summaries[name].append(cluster.run_on_ray(replace(job, out=outputs[name])))
            rows = {name: sorted(map(repr, read_rows(output))) for name, output in outputs.items()}
            identical = identical and rows["local"] == rows["ray-1"] == rows["ray-2"]
            say(
                f"  run {attempt + 1} of {repeats}: "
                + ", ".join(f"{n} {s[-1].seconds:.1f} s" for n, s in summaries.items())
            )
    first = summaries["local"][0]
    report: dict = {
        "batch_folder": str(folder),
        "batch_documents": first.documents,
        "batch_failed": first.failed + first.errors,
        "batch_pages": first.pages,
        "batch_questions": len(questions),
        "batch_pairs": first.pairs,
        "batch_repeats": repeats,
        "batch_identical_rows": identical,
    }
    for name, runs in summaries.items():
        key = name.replace("-", "")
        report[f"batch_{key}_s"] = round(statistics.median(s.seconds for s in runs), 2)
        report[f"batch_{key}_pages_per_s"] = round(statistics.median(s.pages_per_second for s in runs), 3)
        report[f"batch_{key}_pairs_per_s"] = round(statistics.median(s.pairs_per_second for s in runs), 3)
    for name, values in starts.items():
        report[f"batch_{name.replace('-', '')}_cluster_start_s"] = round(statistics.median(values), 2)
    report["batch_local_ingest_ms_per_page"] = round(
        statistics.median(1000 * s.ingest_seconds / s.pages for s in summaries["local"]), 1
    )
    report["batch_local_read_s_per_pair"] = round(
        statistics.median(s.read_seconds / s.pairs for s in summaries["local"]), 3
    )
    say(
        f"Batch over {folder}: {first.documents} documents ({report['batch_failed']} failed), {first.pages} pages, "
        f"{len(questions)} questions = {first.pairs} pairs; medians of {repeats} runs"
    )
    labels = {"local": "in-process, 1 reader thread", "ray-1": "Ray, 1 CPU", "ray-2": "Ray, 2 CPUs"}
    for name in BATCH_CONFIGURATIONS:
        key = name.replace("-", "")
        start = f" (+ {report[f'batch_{key}_cluster_start_s']} s to start the cluster)" if name != "local" else ""
        say(
            f"  {labels[name]:<28} {report[f'batch_{key}_s']:>7.1f} s{start}: "
            f"{report[f'batch_{key}_pages_per_s']:.2f} pages/s, {report[f'batch_{key}_pairs_per_s']:.3f} pairs/s"
        )
    say(
        f"  in-process split: preparing {report['batch_local_ingest_ms_per_page']} ms per page, "
        f"reading {report['batch_local_read_s_per_pair']} s per question-document pair"
    )
    say(f"  identical rows in every configuration: {'yes' if identical else 'NO'}")
    return report


LIVE = "live"  # bench --budgets: questions asked as typed (Engine.ask(live=True))
PLAIN = "plain graph"  # bench --budgets: the baseline model folder's graph, reading every token


def run_budgets(
    model_dir: Path,
    question_count: int,
    articles: int,
    pdf: Path | None,
    log: Callable[[str], None] | None,
    baseline: Path | None = None,
) -> dict:
    """The Pareto table of a length-adaptive model: for every token and each of its budgets, SQuAD v1.1 dev F1
    and median ms per question on single paragraphs, F1 and ms per question on whole articles (the first
    `articles`, every 4th question), and median ms per question over the 79- and 247-page NIST PDFs (or
    `pdf`), all in this run. With `baseline` (a model folder with a plain graph: the bundled model), its
    row comes first and every speed-up and F1 change is against it, as a budget must beat what the app reads
    with today; without, against the adaptive graph reading every token."""
    from qa_reader.evaluate import evaluate_documents
    from qa_reader.reader.model import ModelFolder

    say = log or (lambda line: None)
    model = ModelFolder.open(model_dir)
    if not model.length_budgets:
        raise UserError(
            f"The model {model.name} reads every token: it has no length budgets (python -m qa_reader.training "
            "export --length-adaptive, then search-lengths --write)."
        )
    dev_path = shared_data() / "squad-v1.1" / "dev-v1.1.json"
    pdfs = (
        [(pdf, PDF_QUESTIONS)]
        if pdf
        else [
            (shared_data() / "pdfs" / "NIST.SP.800-61r2.pdf", INCIDENT_QUESTIONS),
            (shared_data() / "pdfs" / "NIST.SP.800-82r2.pdf", PDF_QUESTIONS),
        ]
    )
    for needed in (dev_path, *(path for path, _ in pdfs)):
        if not needed.exists():
            raise UserError(f"{needed} is missing; the benchmark needs the shared data folder.")
    everything = squad.load(dev_path)
    questions = everything[:question_count]
    titles = list(dict.fromkeys(q.title for q in everything))[:articles]
    article_questions = [q for q in everything if q.title in titles]
    # Each row: (label, model folder, budget): the baseline's plain graph, then every token, then the budgets.
    arms = [(PLAIN, Path(baseline), "")] if baseline is not None else []
    arms += [(name or "every token", Path(model_dir), name) for name in ["", *model.length_budgets]]
    labels = [label for label, _, _ in arms]
    reference = labels[0]
    readers = {folder: build_reader(folder) for folder in dict.fromkeys(f for _, f, _ in arms)}
    for reader in readers.values():
        _time_reader(reader, questions[:10])
    timings: dict[str, list[float]] = {label: [] for label in labels}
    scores: dict[str, list[float]] = {label: [] for label in labels}
    for start in range(0, len(questions), 25):  # interleaved, so every row sees the same machine load
        chunk = questions[start : start + 25]
        for label, folder, budget in arms:
            readers[folder].use_budget(budget)
            seconds, f1s = _read_timed(readers[folder], chunk)
            timings[label].extend(seconds)
            scores[label].extend(f1s)
    rows = {}
    for label, folder, budget in arms:
        reader = readers[folder]
        layers = reader.session.layers if getattr(reader.session, "adaptive", False) else 0
        rows[label] = {
            "keep_ratios": list(reader.model.keep_ratios(budget) or [1.0] * layers),
            "squad_f1": round(100 * sum(scores[label]) / len(questions), 2),
            "squad_ms_p50": _median_ms(timings[label]),
        }
    for label, folder, budget in arms:
        evaluation = evaluate_documents(folder, article_questions, config.Settings(length_budget=budget), every=4)
        rows[label]["document_f1"] = round(evaluation.report.f1, 2)
        rows[label]["document_ms_per_question"] = round(evaluation.report.ms_per_question, 1)
    pdf_ms: dict[str, dict[str, float]] = {label: {} for label in labels}
    live_ms: dict[str, float] = {}  # a question typed live: the fastest budget over the best few passages
    pages: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        # One library: a document indexed once serves every model (answers are cached per model).
        engines = {model_folder: Engine(Path(folder) / "bench.sqlite3", model_folder) for model_folder in readers}
        adaptive = engines[Path(model_dir)]
        try:
            for path, asked in pdfs:
                record = adaptive.index(path)
                pages[path.name] = record.page_count
                for engine in engines.values():  # loads the model and warms up
                    engine.ask(asked[0], [record.id], budget="")
                pdf_times: dict[str, list[float]] = {label: [] for label in [*labels, LIVE]}
                for question in asked[1:]:
                    for label, model_folder, budget in arms:
                        started = time.perf_counter()
                        engines[model_folder].ask(question, [record.id], budget=budget, remember=False)
                        pdf_times[label].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    adaptive.ask(question, [record.id], remember=False, live=True)
                    pdf_times[LIVE].append(time.perf_counter() - started)
                for label in labels:
                    pdf_ms[label][path.name] = _median_ms(pdf_times[label])
                live_ms[path.name] = _median_ms(pdf_times[LIVE])
        finally:
            for engine in engines.values():
                engine.close()
    for label in labels:
        rows[label]["pdf_ms_p50"] = pdf_ms[label]
        rows[label]["pdf_speedup"] = {
            pdf_name: round(pdf_ms[reference][pdf_name] / max(ms, 1e-9), 2) for pdf_name, ms in pdf_ms[label].items()
        }
        rows[label]["squad_speedup"] = round(
            rows[reference]["squad_ms_p50"] / max(rows[label]["squad_ms_p50"], 1e-9), 2
        )
        rows[label]["document_speedup"] = round(
            rows[reference]["document_ms_per_question"] / max(rows[label]["document_ms_per_question"], 1e-9), 2
        )
    pdf_names = list(pages)
    say(
        f"{model.name}: {len(questions)} SQuAD v1.1 dev paragraphs; {len(article_questions) // 4} questions on "
        f"{len(titles)} whole article(s); "
        + "; ".join(f"{len(asked) - 1} questions over {path.name} ({pages[path.name]} pages)" for path, asked in pdfs)
        + (f"; speed-ups against {baseline}'s plain graph" if baseline is not None else "")
    )
    header = f"{'budget':<12} {'SQuAD F1':>8} {'ms/q':>7} {'×':>5} {'doc F1':>7} {'doc ms/q':>8} {'×':>5}"
    for pdf_name in pdf_names:
        header += f" {str(pages[pdf_name]) + 'p ms/q':>10} {'×':>5}"
    say(header)
    for label in labels:
        row = rows[label]
        line = (
            f"{label:<12} {row['squad_f1']:>8.2f} {row['squad_ms_p50']:>7.1f} {row['squad_speedup']:>5.2f} "
            f"{row['document_f1']:>7.2f} {row['document_ms_per_question']:>8.0f} {row['document_speedup']:>5.2f}"
        )
        for pdf_name in pdf_names:
            line += f" {row['pdf_ms_p50'][pdf_name]:>10.0f} {row['pdf_speedup'][pdf_name]:>5.2f}"
        say(line)
    say(
        f"While typing (the {labels[-1]} budget, the {LIVE_PASSAGES} best passages): median "
        + ", ".join(f"{ms:.0f} ms over the {pages[name]}-page {name}" for name, ms in live_ms.items())
    )
    return {
        "model": str(model_dir),
        "baseline": str(baseline) if baseline is not None else None,
        "reference": reference,
        "budgets": {label: rows[label] for label in labels},
        "live_ms_p50": live_ms,
    }
