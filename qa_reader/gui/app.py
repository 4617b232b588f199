"""The desktop app's entry point: hand over to a running instance, or build the window and run."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from qa_reader import __version__, config
from qa_reader.gui.instance import InstanceServer, hand_over, server_name

# The window and the engine runner are imported only once we know that this process is the app: a second
# `qa-reader open FILE` then hands its request over without loading any of it.
if TYPE_CHECKING:
    from qa_reader.gui.main_window import MainWindow
    from qa_reader.gui.worker import EngineRunner

log = logging.getLogger(__name__)

ICON = "qa-reader.svg"
SAMPLE = Path("sample") / "welcome.md"


@dataclass
class Running:
    """The pieces of a started app, for run_app and the screenshot tool."""

    app: QApplication
    window: MainWindow
    runner: EngineRunner
    server: InstanceServer


def message_from(args: argparse.Namespace) -> dict:
    """What this call asks of the app, with files made absolute (a running app has another directory)."""
    files = [str(Path(f).expanduser().resolve()) for f in getattr(args, "files", None) or []]
    return {"command": args.command or "open", "files": files, "question": getattr(args, "question", None)}


def application() -> QApplication:
    """The QApplication (created once), named and with its icon."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("QA Reader")
    app.setApplicationDisplayName("QA Reader")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("QA Reader")
    app.setDesktopFileName("qa-reader")
    icon = config.resources_dir() / ICON
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def start(args: argparse.Namespace, app: QApplication) -> Running | None:
    """Hand the request to a running app (returns None), or build and show this one."""
    library_path = Path(args.library).expanduser() if getattr(args, "library", None) else config.library_path()
    message = message_from(args)
    name = server_name(library_path)
    if hand_over(name, message):
        return None
    from qa_reader.gui.main_window import MainWindow
    from qa_reader.gui.preferences import Preferences
    from qa_reader.gui.theme import apply_theme
    from qa_reader.gui.worker import EngineRunner

    server = InstanceServer(name)
    server.listen()
    preferences = Preferences()
    apply_theme(app, preferences.theme())
    model_dir = Path(args.model).expanduser() if getattr(args, "model", None) else None
    runner = EngineRunner(library_path, model_dir, preferences.engine_settings())
    window = MainWindow(runner, preferences, sample=config.resources_dir() / SAMPLE)
    window.setWindowIcon(app.windowIcon())
    server.received.connect(window.handle_message)
    runner.start()
    if message["command"] == "lookup":
        window.handle_message(message)
    else:
        window.show()
        if message["files"] or message["question"]:
            window.handle_message(message)
    return Running(app, window, runner, server)


def run_app(args: argparse.Namespace) -> int:
    """Run the desktop app until its last window closes; returns the exit code."""
    started = time.perf_counter()
    logging.basicConfig(level=logging.INFO, format="qa-reader: %(message)s")
    app = application()
    running = start(args, app)
    if running is None:
        print("qa-reader: handed over to the QA Reader already running.", file=sys.stderr)
        return 0
    log.info("window ready in %.0f ms", (time.perf_counter() - started) * 1000)
    _quit_on_signals(app)
    try:
        return app.exec()
    finally:
        running.window.shutdown()
        running.server.close()


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C in the terminal and SIGTERM (logging out) close the app cleanly, saving its state."""

    def quit_app(number: int, frame: object) -> None:
        for widget in app.topLevelWidgets():
            if widget.isVisible():
                widget.close()
        app.quit()

    signal.signal(signal.SIGINT, quit_app)
    signal.signal(signal.SIGTERM, quit_app)
    # Python runs signal handlers only between bytecodes; a timer gives it a chance while Qt waits.
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(300)
