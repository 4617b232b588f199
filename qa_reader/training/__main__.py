"""`python -m qa_reader.training train|export|quantize|evaluate ...`: one command per stage."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qa_reader.training")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train (or resume) the student reader in RUN_DIR")
    train.add_argument("run_dir", type=Path)
    from qa_reader.training.loop import TrainConfig

    for spec in dataclasses.fields(TrainConfig):
        if spec.name == "weights":
            continue
        default = spec.default
        kind = type(default)
        if kind is bool:
            train.add_argument(f"--{spec.name.replace('_', '-')}", type=lambda v: v.lower() in ("1", "true", "yes"), default=default)
        else:
            train.add_argument(f"--{spec.name.replace('_', '-')}", type=kind, default=default)

    args = parser.parse_args(argv)
    if args.command == "train":
        from qa_reader.training.loop import Trainer

        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if f.name != "weights"}
        Trainer(args.run_dir, TrainConfig(**values)).run()


if __name__ == "__main__":
    main()
