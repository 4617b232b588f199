"""Start the real app on a document, ask a question, and save screenshots once the answer is highlighted.

    python -m qa_reader.gui.screenshot OUT.png --file DOC.pdf --question "…"

Saves OUT.png (the main window) and OUT-screen.png (the whole screen). Meant to run under Xvfb (see
packaging/screenshot.sh); exits 0 when an answer was shown, 1 when none was, 2 on a timeout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from qa_reader.gui.app import application, start

SETTLE_MS = 400


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa_reader.gui.screenshot", description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, metavar="OUT.png")
    parser.add_argument("--file", type=Path, required=True, help="the document to open")
    parser.add_argument("--question", required=True)
    parser.add_argument("--library", type=Path, help="library database (default: the data folder's)")
    parser.add_argument("--model", type=Path, help="model folder (default: $QA_READER_MODEL or the bundled one)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the answer")
    parser.add_argument("--size", default="", metavar="WxH", help="window size (default: the whole screen)")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    app_args = argparse.Namespace(
        command="open", files=[options.file], question=options.question, library=options.library, model=options.model
    )
    app = application()
    running = start(app_args, app)
    if running is None:
        print("A QA Reader is already running on this library; close it first.", file=sys.stderr)
        return 2
    window = running.window
    screen = QGuiApplication.primaryScreen()
    if options.size:
        width, height = (int(part) for part in options.size.lower().split("x"))
        window.resize(width, height)
    else:
        window.setGeometry(screen.availableGeometry())
    window.move(0, 0)
    deadline = time.monotonic() + options.timeout
    outcome = {"code": 2}

    def answer_on_screen() -> bool:
        result = window.answers.result
        if result is None or result.question != options.question:
            return False
        content = window.document.content
        best = window.answers.current_answer()
        if best is None or content is None or content.record.id != best.document_id:
            return not result.found and content is not None
        if content.is_pdf:
            return window.document.pdf.current_page in window.document.pdf.rendered_pages()
        return True

    def save() -> None:
        output = options.output
        output.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(output))
        screen.grabWindow(0).save(str(output.with_name(output.stem + "-screen.png")))
        result = window.answers.result
        outcome["code"] = 0 if result is not None and result.found else 1
        best = window.answers.current_answer()
        summary = f"“{best.text}” p. {best.page_number} ({best.score:.0%})" if best else "no answer"
        print(f"{output}: {summary}; {window.answers.header.text()}")
        window.close()

    def poll() -> None:
        if answer_on_screen():
            QTimer.singleShot(SETTLE_MS, save)
            return
        if time.monotonic() > deadline:
            print(f"No answer on screen after {options.timeout:.0f} s; saving what is there.", file=sys.stderr)
            save()
            outcome["code"] = 2
            return
        QTimer.singleShot(100, poll)

    QTimer.singleShot(100, poll)
    app.exec()
    running.window.shutdown()
    running.server.close()
    return outcome["code"]


if __name__ == "__main__":
    sys.exit(main())
