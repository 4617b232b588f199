"""The frozen app's entry point: the `qa-reader` command, plus one rule for documents handed over by the system.

Finder (through PyInstaller's argv emulation) and a file dropped on the Windows executable start the app
with nothing but document paths; those mean "open them", as `qa-reader open FILE...` does.
"""

import multiprocessing
import sys
from pathlib import Path

from qa_reader.cli import main


def _arguments(argv: list[str]) -> list[str]:
    """The command-line arguments, with `open` put in front of a bare list of existing absolute paths."""
    handed_over = bool(argv) and all(Path(arg).is_absolute() and Path(arg).exists() for arg in argv)
    return ["open", *argv] if handed_over else argv


if __name__ == "__main__":
    # `eval --jobs` starts worker processes; in the frozen app each is this executable again, which must
    # become the worker instead of running the command line.
    multiprocessing.freeze_support()
    sys.exit(main(_arguments(sys.argv[1:])))
