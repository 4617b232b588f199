"""`python -m qa_reader.training train|export|evaluate|plot ...`: one command per stage."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from pathlib import Path


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    from qa_reader.training.loop import TrainConfig  # torch: only the commands that train need it

    for spec in dataclasses.fields(TrainConfig):
        if spec.name == "weights":
            continue
        option = f"--{spec.name.replace('_', '-')}"
        if isinstance(spec.default, bool):
            parser.add_argument(option, type=lambda v: v.lower() in ("1", "true", "yes"), default=spec.default)
        else:
            parser.add_argument(option, type=type(spec.default), default=spec.default)


def argv_command(argv: list[str] | None) -> str | None:
    """The command word of an argument list (the first one not starting with "-")."""
    words = sys.argv[1:] if argv is None else argv
    return next((word for word in words if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qa_reader.training")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train (or resume) the student reader in RUN_DIR")
    train.add_argument("run_dir", type=Path)
    if argv_command(argv) == "train":
        _add_config_options(train)
    export = commands.add_parser("export", help="ONNX export + int8 quantization of RUN_DIR into OUT_DIR")
    export.add_argument("run_dir", type=Path)
    export.add_argument("out_dir", type=Path)
    export.add_argument("--name", default=None)
    export.add_argument(
        "--length-adaptive",
        action="store_true",
        help="export the Drop-and-Restore graph with a keep_ratios input (for a LengthDrop-trained run)",
    )
    evaluate = commands.add_parser("evaluate", help="full-dev, AddSent, COVID-QA and v2 threshold into the manifest")
    evaluate.add_argument("model_dir", type=Path)
    evaluate.add_argument("--no-fp32", action="store_true")
    evaluate.add_argument("--no-ood", action="store_true")
    calibrate = commands.add_parser(
        "calibrate", help="refit the answer calibration and threshold into MODEL_DIR's manifest (no torch)"
    )
    calibrate.add_argument("model_dir", type=Path)
    calibrate.add_argument("--train-dir", type=Path, default=None, help="default: ../shared/data/train")
    calibrate.add_argument("--every", type=int, default=2, help="ask every N-th held-out question (default 2)")
    calibrate.add_argument("--cache", type=Path, default=None, help="save (or reuse) the collected candidates here")
    calibrate.add_argument("--ablation", action="store_true", help="also measure each feature left out")
    calibrate.add_argument(
        "--silver", type=Path, default=None, help="a pseudo-label output: its held-out articles are asked too"
    )
    calibrate.add_argument(
        "--glossaries", action="store_true", help="each held-out document ends with a glossary of its own names"
    )
    calibrate.add_argument(
        "--silver-from",
        type=Path,
        default=None,
        help="add the silver asks of an earlier --cache of the same model instead of asking them again",
    )
    plot = commands.add_parser("plot", help="copy RUN_DIR's curve.csv into OUT_DIR and draw curve.png")
    plot.add_argument("run_dir", type=Path)
    plot.add_argument("out_dir", type=Path)

    lengths = commands.add_parser(
        "search-lengths", help="search the keep ratios of a length-adaptive model and pick its budgets"
    )
    lengths.add_argument("model_dir", type=Path)
    lengths.add_argument("--questions", type=int, default=600, help="held-out training questions F1 is measured on")
    lengths.add_argument("--generations", type=int, default=8)
    lengths.add_argument("--population", type=int, default=12)
    lengths.add_argument("--write", action="store_true", help="store the budgets in the model's manifest")
    silver = commands.add_parser("pseudo-label", help="silver labels for the unlabeled SQuAD 2.0 train questions")
    silver.add_argument("model_dir", type=Path)
    silver.add_argument("out_path", type=Path, nargs="?")
    silver.add_argument("--min-probability", type=float, default=0.05)
    silver.add_argument("--min-share", type=float, default=0.7)
    silver.add_argument("--limit", type=int, default=None)
    silver.add_argument(
        "--held-out-only", action="store_true", help="only the held-out articles (for calibrate --silver; no training)"
    )
    silver.add_argument("--assignment", choices=("independent", "balanced", "cover"), default="cover")
    silver.add_argument("--cache", type=Path, default=None, help="JSON-lines cache of the teacher's reads")
    silver.add_argument("--threads", type=int, default=1, help="onnxruntime threads (2 on an idle machine)")
    silver.add_argument("--check", action="store_true", help="measure the labelling on gold answers instead")
    silver.add_argument("--check-file", type=Path, default=None, help="for --check: a SQuAD file (SQuADShifts wiki)")
    silver.add_argument("--fit-limit", type=int, default=20000, help="for --check: train questions the split is fit on")

    args = parser.parse_args(argv)
    if args.command == "train":
        from qa_reader.training.loop import TrainConfig, Trainer

        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if f.name != "weights"}
        Trainer(args.run_dir, TrainConfig(**values)).run()
    elif args.command == "search-lengths":
        from qa_reader.training.lengths import search_model

        search_model(args.model_dir, args.questions, args.generations, args.population, args.write)
    elif args.command == "export":
        from qa_reader.training.export import write_folder

        write_folder(args.run_dir, args.out_dir, args.name or args.out_dir.name, adaptive=args.length_adaptive)
    elif args.command == "evaluate":
        from qa_reader.training.report import measure

        measure(args.model_dir, with_fp32=not args.no_fp32, with_ood=not args.no_ood)
    elif args.command == "pseudo-label":
        from qa_reader.training.pseudo import check_assignment, check_split, pseudo_label

        if args.check:
            for row in check_assignment(
                args.model_dir, limit=args.limit or 2000, path=args.check_file, threads=args.threads
            ):
                print(row, flush=True)
            print(check_split(args.model_dir, args.cache, fit_limit=args.fit_limit, threads=args.threads), flush=True)
        elif args.out_path is None:
            parser.error("pseudo-label needs OUT_PATH (or --check)")
        else:
            counts = pseudo_label(
                args.model_dir,
                args.out_path,
                args.min_probability,
                args.min_share,
                args.limit,
                method=args.assignment,
                cache=args.cache,
                threads=args.threads,
                held_out_only=args.held_out_only,
            )
            print(counts)
    elif args.command == "calibrate":
        from qa_reader.training.calibrate import calibrate

        calibrate(
            args.model_dir,
            args.train_dir,
            every=args.every,
            cache=args.cache,
            with_ablation=args.ablation,
            silver=args.silver,
            glossaries=args.glossaries,
            silver_from=args.silver_from,
        )
    elif args.command == "plot":
        from qa_reader.training.report import plot_curve

        args.out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.run_dir / "curve.csv", args.out_dir / "curve.csv")
        plot_curve(args.out_dir / "curve.csv", args.out_dir / "curve.png")


if __name__ == "__main__":
    main()
