"""The command line: argument parsing, printing and exit codes around the engine (0 ok, 1 user error, 2 usage)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from qa_reader import __version__, config
from qa_reader.errors import UserError
from qa_reader.glyphs import readable

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2
V2_DEV = "dev-v2.0.reconstructed-from-squad-explorer.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa-reader",
        description="Ask questions of your documents offline. Without a command, the desktop app starts.",
    )
    parser.add_argument("--version", action="version", version=f"qa-reader {__version__}")
    parser.add_argument("--library", type=Path, help="library database (default: the user's data folder)")
    parser.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer questions about files")
    ask.add_argument("files", nargs="+", type=Path, metavar="FILE")
    source = ask.add_mutually_exclusive_group(required=True)
    source.add_argument("-q", "--question")
    source.add_argument("--questions", type=Path, metavar="FILE", help="a file with one question per line")
    ask.add_argument("--top-k", type=int, default=5, metavar="K", help="answers per question (default 5)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question per line")
    ask.add_argument("--budget", metavar="NAME", help="a length-adaptive model's budget (default: every token)")

    batch = commands.add_parser(
        "batch", help="questions over many documents into Parquet or JSON Lines parts (resumable; --ray to scale)"
    )
    batch.add_argument("documents", nargs="+", metavar="DOCS", help="files, folders (recursive) or glob patterns")
    batch.add_argument("--questions", type=Path, required=True, metavar="FILE", help="one question per line")
    batch.add_argument("--out", type=Path, required=True, metavar="OUT", help="OUT.parquet or OUT.jsonl: a folder")
    batch.add_argument("--top-k", type=int, default=1, metavar="K", help="answers per question (default 1)")
    batch.add_argument("--ray", metavar="auto|ADDRESS", help="run on a Ray cluster (needs the scale extra)")
    batch.add_argument("--ray-cpus", type=int, metavar="N", help="CPUs of a cluster --ray auto starts here")

    index = commands.add_parser("index", help="add files to the library")
    index.add_argument("files", nargs="+", type=Path, metavar="FILE")

    commands.add_parser("library", help="list the documents in the library")

    evaluate = commands.add_parser("eval", help="SQuAD exact match and F1, with timings")
    evaluate.add_argument("dataset", type=Path, metavar="SQUAD.json", nargs="?", help="default with --v2: 2.0 dev")
    evaluate.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    evaluate.add_argument("--document-level", action="store_true", help="ask against whole articles via search")
    evaluate.add_argument(
        "--v2", action="store_true", help="SQuAD 2.0 dev articles as documents: answerable F1, unanswerable refused"
    )
    evaluate.add_argument(
        "--calibration-plot", type=Path, metavar="FILE.png", help="reliability diagram (needs matplotlib)"
    )
    evaluate.add_argument("--reader", choices=("model", "baseline"), default="model", help="baseline: word overlap")
    evaluate.add_argument(
        "--every", type=int, default=1, metavar="N", help="whole documents: ask every N-th question of each article"
    )
    evaluate.add_argument(
        "--compare-uncalibrated", action="store_true", help="whole documents: also rank without the calibration"
    )
    evaluate.add_argument("--budget", metavar="NAME", help="a length-adaptive model's budget (default: every token)")
    evaluate.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="whole documents: worker processes of one thread each (default: one per core; 1: no workers)",
    )
    evaluate.add_argument("--json", action="store_true")

    bench = commands.add_parser("bench", help="latency: int8 vs fp32, indexing and questions on a long PDF")
    bench.add_argument("--questions", type=int, default=300, metavar="N", help="SQuAD dev questions to time")
    bench.add_argument("--pdf", type=Path, help="the long PDF (default: the NIST SP 800-82r2 in shared data)")
    bench.add_argument(
        "--budgets", action="store_true", help="a length-adaptive model's budgets: F1 and speed of each (Pareto)"
    )
    bench.add_argument("--articles", type=int, default=2, metavar="N", help="--budgets: whole dev articles asked")
    bench.add_argument(
        "--baseline",
        type=Path,
        metavar="MODEL_DIR",
        help="--budgets: the plain graph speed-ups are against (default: the bundled model, for another model)",
    )
    bench.add_argument(
        "--plot", type=Path, metavar="PNG", help="--budgets: also draw the Pareto plot (needs matplotlib)"
    )
    bench.add_argument("--batch", action="store_true", help="time qa-reader batch: in-process, Ray with 1 and 2 CPUs")
    bench.add_argument("--folder", type=Path, help="--batch: the PDFs (default: the sample PDFs in shared data)")
    bench.add_argument("--repeats", type=int, default=3, metavar="N", help="--batch: runs of each (default 3)")
    bench.add_argument("--json", action="store_true")

    open_ = commands.add_parser("open", help="open files in the desktop app")
    open_.add_argument("files", nargs="*", type=Path, metavar="FILE")
    open_.add_argument("--question", "-q")

    lookup = commands.add_parser("lookup", help="the quick-lookup window (bind it to a global shortcut)")
    lookup.add_argument("question", nargs="?")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also the process's, via the console script)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.self_test:
            from qa_reader.selftest import run_self_test

            return run_self_test(args.model)
        if args.command in (None, "open", "lookup"):
            return _start_gui(args)
        handler = {
            "ask": _ask,
            "batch": _batch,
            "index": _index,
            "library": _library,
            "eval": _eval,
            "bench": _bench,
        }[args.command]
        return handler(args)
    except UserError as error:
        print(f"qa-reader: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("qa-reader: interrupted", file=sys.stderr)
        return 130


def _engine(args: argparse.Namespace):
    from qa_reader.engine import Engine

    return Engine(args.library or config.library_path(), args.model)


def _progress_bar(label: str):
    """A one-line progress bar on an interactive stderr; silent when stderr is a pipe or a file."""
    interactive = sys.stderr.isatty()

    def show(stage: str, fraction: float) -> None:
        if interactive:
            line = f"{label}: {stage:<10} {'#' * int(fraction * 20):<20} {fraction:4.0%}"
            print(f"\r{line}", end="", file=sys.stderr, flush=True)

    def finish() -> None:
        if interactive:
            print(file=sys.stderr)

    return show, finish


def _index_files(engine, files: Sequence[Path], quiet: bool) -> list:
    records = []
    for path in files:
        if quiet:
            records.append(engine.index(path))
            continue
        show, finish = _progress_bar(path.name)
        try:
            records.append(engine.index(path, progress=show))
        finally:
            finish()
    return records


def _ask(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        raise UserError("--top-k must be at least 1.")
    skipped = 0
    if args.question is not None:
        questions = [args.question]
    else:
        questions, skipped = _read_questions(args.questions)
    engine = _engine(args)
    try:
        records = _index_files(engine, args.files, quiet=args.json)
        for record in records:
            for warning in record.warnings:
                print(f"qa-reader: {Path(record.path).name}: {warning}", file=sys.stderr)
        ids = [record.id for record in records]
        for question in questions:
            result = engine.ask(question, ids, top_k=args.top_k, budget=args.budget)
            if args.json:
                print(json.dumps(_answer_set_json(result), ensure_ascii=False), flush=True)
            else:
                _print_answers(result)
    finally:
        engine.close()
    return EXIT_USER_ERROR if skipped else EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    from qa_reader.batch.inputs import expand_documents
    from qa_reader.batch.job import Job

    if args.top_k < 1:
        raise UserError("--top-k must be at least 1.")
    if args.ray_cpus is not None and (args.ray_cpus < 1 or args.ray is None):
        raise UserError("--ray-cpus takes a whole number from 1, with --ray auto.")
    questions, skipped = _read_questions(args.questions)
    job = Job(tuple(expand_documents(args.documents)), tuple(questions), args.out, args.top_k, args.model)
    if args.ray is None:
        from qa_reader.batch.local import run_local

        show = _counter("batch")
        summary = run_local(job, progress=lambda tally: show(tally.seen, len(job.paths)))
        if sys.stderr.isatty():
            print(file=sys.stderr)
    else:
        try:
            from qa_reader.batch import cluster
        except ImportError as error:
            raise UserError(f"--ray needs Ray and pyarrow ({error}): pip install 'qa-reader[scale]'.") from None
        with cluster.ray_cluster(args.ray, args.ray_cpus):  # Ray Data shows its own progress
            summary = cluster.run_on_ray(job)
    print("\n".join(summary.lines()))
    print(f"Written to {args.out}")
    return EXIT_USER_ERROR if skipped else EXIT_OK


def _read_questions(path: Path) -> tuple[list[str], int]:
    """The questions of a --questions file, one a line, and how many lines were skipped.

    A line that is not a question QA Reader can ask (too long, say) is named by its number on stderr and
    skipped, so one bad line does not stop the batch. Raises UserError when the file cannot be read or
    holds no question.
    """
    from qa_reader.engine import check_question

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"The questions file {path} cannot be read ({error}).") from error
    questions = []
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            questions.append(check_question(line))
        except UserError as error:
            print(f"qa-reader: {path.name}, line {number}: {error} The line was skipped.", file=sys.stderr)
            skipped += 1
    if not questions:
        raise UserError(f"The questions file {path} holds no question.")
    return questions, skipped


def _answer_set_json(result) -> dict:
    """One question's answers as JSON: `found` false means "not found"; the greyed guesses the app shows, below
    the confidence threshold, are under `guesses` (when found: the less likely alternatives)."""

    def listed(answers) -> list[dict]:
        return [
            {
                "text": answer.text,
                "score": round(answer.score, 4),
                "document": answer.document_path,
                "page": answer.page_number,
                "page_label": answer.page_label,
                "start": answer.char_start,
                "end": answer.char_end,
            }
            for answer in answers
        ]

    return {
        "question": result.question,
        "found": result.found,
        "answers": listed(result.answers),
        "guesses": listed(result.guesses),
    }


def _print_answers(result) -> None:
    print(f"Q: {result.question}")
    if not result.found:
        print(
            "   Not found in the document(s). Best guesses:" if result.guesses else "   Not found in the document(s)."
        )
    for rank, answer in enumerate([*result.answers, *result.guesses], start=1):
        if result.found and rank == len(result.answers) + 1:
            print("   Less likely, below the confidence threshold:")
        where = f"{Path(answer.document_path).name}, {answer.page_reference}"
        print(f"{rank:>3}. {readable(answer.text)}   [{answer.score:.0%} · {where}]")
        sentence = " ".join(readable(answer.sentence).split())
        if len(sentence) > 240:
            sentence = sentence[:237] + "..."
        print(f"     {sentence}")
    print(f"   ({result.elapsed_ms:.0f} ms{', cached' if result.from_cache else ''})")


def _index(args: argparse.Namespace) -> int:
    engine = _engine(args)
    failures = 0
    try:
        for path in args.files:
            show, finish = _progress_bar(path.name)
            try:
                record = engine.index(path, progress=show)
            except UserError as error:
                finish()
                print(f"qa-reader: {error}", file=sys.stderr)
                failures += 1
                continue
            finish()
            print(f"{record.title}: {record.page_count} pages, {record.passage_count} passages, {record.status}")
            for warning in record.warnings:
                print(f"  warning: {warning}")
    finally:
        engine.close()
    return EXIT_USER_ERROR if failures else EXIT_OK


def _library(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        records = engine.documents()
        if not records:
            print("The library is empty. Add files with: qa-reader index FILE...")
        for record in records:
            stale = " (changed on disk)" if engine.is_stale(record) else ""
            detail = (
                record.error
                if record.status == "failed"
                else f"{record.page_count} pages, {record.passage_count} passages"
            )
            print(f"{record.id:>4}  {record.status:<8} {record.title}  [{detail}]{stale}\n      {record.path}")
    finally:
        engine.close()
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    from qa_reader import evaluate

    dataset = args.dataset
    if dataset is None:
        if not args.v2:
            raise UserError("Name a SQuAD JSON file to evaluate on (or use --v2).")
        dataset = config.install_root().parent / "shared" / "data" / "squad-v2.0" / V2_DEV
    questions = evaluate.load_questions(dataset, args.limit)
    model_dir = args.model or config.default_model_dir()
    show = _counter("eval") if not args.json else None
    whole_documents = args.document_level or args.v2 or args.calibration_plot is not None
    if whole_documents:
        if args.every < 1:
            raise UserError("--every must be at least 1.")
        if args.jobs < 0:
            raise UserError("--jobs must be 0 (one per core) or more.")
        evaluation = evaluate.evaluate_documents(
            model_dir,
            questions,
            settings=config.Settings(length_budget=args.budget or ""),
            progress=show,
            reader=args.reader,
            every=args.every,
            compare_uncalibrated=args.compare_uncalibrated,
            jobs=args.jobs or config.cores(),
        )
        report = evaluation.report
        if args.calibration_plot is not None:
            _reliability_plot(evaluation.outcomes, args.calibration_plot, f"{dataset.name}, whole articles")
        figures = report.as_dict()
        if evaluation.uncalibrated is not None:
            figures["uncalibrated"] = evaluation.uncalibrated.as_dict()
    else:
        if args.reader == "baseline":
            paragraph_report, _ = evaluate.evaluate_paragraphs(evaluate.BaselineParagraphReader(), questions, show)
        else:
            from qa_reader.reader.build import build_reader

            model_reader = build_reader(model_dir)
            model_reader.use_budget(args.budget or "")
            paragraph_report, _ = evaluate.evaluate_paragraphs(model_reader, questions, show)
        figures = paragraph_report.as_dict()
    if args.json:
        print(json.dumps(figures))
        return EXIT_OK
    if show:
        print(file=sys.stderr)
    level = "document level (search + reader)" if whole_documents else "paragraph level"
    reader = "sliding-window baseline" if args.reader == "baseline" else "model"
    print(f"{dataset.name}, {len(questions)} questions, {level}, {reader}")
    if whole_documents:
        print(f"  {report.questions} questions asked")
        for label, shown in (("uncalibrated", evaluation.uncalibrated), ("calibrated", report)):
            if shown is not None:
                if evaluation.uncalibrated is not None:
                    print(f" {label}:")
                _print_document_report(shown, args.reader == "model")
        print(f"  {report.questions_per_second:.1f} questions/s ({report.ms_per_question:.0f} ms per question)")
        if args.calibration_plot is not None:
            print(f"  reliability diagram: {args.calibration_plot}")
    else:
        print(f"  exact match {paragraph_report.exact_match:.2f}   F1 {paragraph_report.f1:.2f}")
        print(
            f"  {paragraph_report.questions_per_second:.1f} questions/s; ms per question: mean "
            f"{paragraph_report.ms_mean:.1f}, p50 {paragraph_report.ms_p50:.1f}, p90 {paragraph_report.ms_p90:.1f}"
        )
    return EXIT_OK


def _plots(option: str):
    """The training package's plots module; UserError naming `option` where it is not installed."""
    try:
        from qa_reader.training import plots
    except ImportError as error:  # an installation without the training recipe (the frozen app)
        raise UserError(f"{option} needs the train extra and the training package ({error}).") from error
    return plots


def _reliability_plot(outcomes, png: Path, title: str) -> None:
    _plots("--calibration-plot").reliability_plot(outcomes, png, title)


def _pareto_plot(budgets: dict, png: Path, title: str, reference: str) -> None:
    _plots("bench --plot").pareto_plot(budgets, png, title, reference)


def _print_document_report(report, refusals: bool) -> None:
    from qa_reader.evaluate import REFUSAL_F1_COST

    print(
        f"  answerable ({report.answerable}): exact match {report.exact_match:.2f}   F1 {report.f1:.2f}   "
        f"best answer in the right paragraph {report.right_paragraph:.1f}%"
    )
    if refusals:
        print(
            f"  with 'not found': F1 {report.f1_with_refusals:.2f}, {report.answerable_refused:.1f}% refused; "
            f"expected calibration error {report.ece:.3f}"
        )
        if report.unanswerable_refused is not None:
            absent = report.questions - report.answerable
            print(f"  unanswerable ({absent}): {report.unanswerable_refused:.1f}% refused")
            print(
                f"  the most any threshold would refuse within {REFUSAL_F1_COST:g} points of answerable F1: "
                f"{report.unanswerable_refusable:.1f}% (measured on this set: for reference, never for choosing)"
            )


def _counter(label: str):
    interactive = sys.stderr.isatty()
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        if interactive and (done % 25 == 0 or done == total):
            print(
                f"\r{label}: {done}/{total} ({time.monotonic() - started:.0f} s)", end="", file=sys.stderr, flush=True
            )

    return show


def _bench(args: argparse.Namespace) -> int:
    from qa_reader import bench

    model_dir = args.model or config.default_model_dir()
    log = None if args.json else print
    if args.batch:
        if args.repeats < 1:
            raise UserError("--repeats must be at least 1.")
        report = bench.run_batch(model_dir, args.folder, args.repeats, log=log)
    elif args.budgets:
        baseline = args.baseline
        bundled = config.models_dir() / config.DEFAULT_MODEL_NAME
        if baseline is None and Path(model_dir).resolve() != bundled.resolve():
            baseline = bundled  # a budget must beat the model the app ships with today
        report = bench.run_budgets(model_dir, args.questions, args.articles, args.pdf, log=log, baseline=baseline)
        if args.plot:
            title = f"{Path(report['model']).name}: length budgets against the {report['reference']}, this machine"
            _pareto_plot(report["budgets"], args.plot, title, report["reference"])
    else:
        report = bench.run(model_dir, args.questions, args.pdf, log=log)
    if args.json:
        print(json.dumps(report))
    return EXIT_OK


def _start_gui(args: argparse.Namespace) -> int:
    try:
        from qa_reader.gui.app import run_app
    except ImportError as error:
        raise UserError(
            f"The desktop app cannot start here ({error}); the ask, index and eval commands still work."
        ) from error
    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
