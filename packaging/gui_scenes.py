"""Drive the real app through three scenes and save a screenshot of each (run it under Xvfb).

    DISPLAY=:99 QT_QPA_PLATFORM=xcb QA_READER_HOME=$(mktemp -d) \\
        .venv/bin/python packaging/gui_scenes.py OUT_DIR --pdf A.pdf --other B.pdf

1. lookup.png: a question asked in the main window, then at once another in the quick lookup; saved when
   both have their answer (the whole screen: both windows).
2. switch.png: another document opened after that; saved when it is on screen (the answers panel must
   be empty: its answers were about the first document).
3. batch.png: the batch sheet, three questions of both documents, saved when every cell is in.

Prints one line per scene and exits 0 when every scene reached its state, 2 on a timeout.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from qa_reader.gui.app import application, start

MAIN_QUESTION = "What are the phases of the incident response life cycle?"
LOOKUP_QUESTION = "Who should be on the incident response team?"
BATCH_QUESTIONS = (
    "What is an incident?",
    "What is the recovery time objective?",
    "Who should be notified of an incident?",
)
SETTLE_MS = 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/gui_scenes.py", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pdf", type=Path, required=True, help="the document asked first")
    parser.add_argument("--other", type=Path, required=True, help="the document opened second")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds each scene may take")
    options = parser.parse_args(argv)
    options.out_dir.mkdir(parents=True, exist_ok=True)

    app = application()
    running = start(argparse.Namespace(command="open", files=[], question=None, library=None, model=None), app)
    if running is None:
        print("A QA Reader is already running on this library; close it first.", file=sys.stderr)
        return 2
    window = running.window
    screen = QGuiApplication.primaryScreen()
    window.resize(1280, 800)
    window.move(0, 0)
    outcome = {"code": 0}
    state = {"done": False}

    def wait_for(ready: Callable[[], bool], then: Callable[[], None], name: str) -> None:
        deadline = time.monotonic() + options.timeout

        def poll() -> None:
            if ready():
                QTimer.singleShot(SETTLE_MS, then)
            elif time.monotonic() > deadline:
                print(f"{name}: not reached after {options.timeout:.0f} s; saving what is there", file=sys.stderr)
                outcome["code"] = 2
                then()
            else:
                QTimer.singleShot(100, poll)

        QTimer.singleShot(100, poll)

    def shown_question() -> str:
        result = window.answers.result
        return result.question if result is not None else ""

    # 1. The main window and the lookup answer in turn.
    def showing(path: Path) -> bool:
        content = window.document.content
        return content is not None and Path(content.record.path).resolve() == path.resolve()

    def open_first() -> None:
        window.open_paths([options.pdf], remember=False)
        wait_for(lambda: showing(options.pdf), ask_both, "open")

    def ask_both() -> None:
        window.ask(MAIN_QUESTION)
        window.open_lookup(LOOKUP_QUESTION)
        window.lookup.move(700, 420)
        wait_for(
            # The lookup's citation line fills in with its answer, or with its best guess when not found.
            lambda: shown_question() == MAIN_QUESTION and bool(window.lookup.where.text()),
            save_lookup,
            "lookup",
        )

    def save_lookup() -> None:
        screen.grabWindow(0).save(str(options.out_dir / "lookup.png"))
        best = window.answers.current_answer()
        print(f"lookup.png: main “{best.text if best else None}”; lookup {window.lookup.answer.text()!r}")
        window.lookup.close()
        open_other()

    # 2. Another document: the answers about the first one go.
    def open_other() -> None:
        window.open_paths([options.other], remember=False)
        wait_for(lambda: showing(options.other), save_switch, "switch")

    def save_switch() -> None:
        window.grab().save(str(options.out_dir / "switch.png"))
        left = window.answers.result
        title = window.document.content.record.title
        print(f"switch.png: {title}; the answers panel holds {left.question if left else None!r}")
        open_batch()

    # 3. The batch sheet over both documents.
    def open_batch() -> None:
        from qa_reader.gui.batch import BatchDialog

        window.open_batch()
        dialog = window.findChild(BatchDialog)
        dialog.resize(1200, 640)
        dialog.move(40, 40)
        dialog.questions.setPlainText("\n".join(BATCH_QUESTIONS))
        dialog.completed.connect(lambda: state.__setitem__("done", True))
        dialog.run_button.click()
        wait_for(lambda: state["done"], lambda: save_batch(dialog), "batch")

    def save_batch(dialog) -> None:
        dialog.grab().save(str(options.out_dir / "batch.png"))
        print(f"batch.png: {dialog.status.text()}")
        dialog.close()
        window.close()

    QTimer.singleShot(200, open_first)
    app.exec()
    window.shutdown()
    running.server.close()
    return outcome["code"]


if __name__ == "__main__":
    sys.exit(main())
