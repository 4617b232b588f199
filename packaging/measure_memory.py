"""Start the real app on a document, ask a question, scroll through the pages, then print the memory held.

    QT_QPA_PLATFORM=offscreen python packaging/measure_memory.py DOC.pdf [--question "…"] [--tracemalloc]

Uses a fresh library and settings folder (QA_READER_HOME in a temporary folder), so the first open indexes
the document. Prints VmRSS and VmHWM of this process (Linux /proc/self/status) and what the window and
the engine hold: rendered pages, character boxes, tokenised passages. Exit 2 when no answer came in time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _status(field: str) -> str:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return "?"


def _mib(kib_text: str) -> str:
    return f"{int(kib_text.split()[0]) / 1024:.0f} MB" if kib_text[:1].isdigit() else kib_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--question", default="What is the recovery time objective?")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the answer")
    parser.add_argument("--pages", type=int, default=60, help="pages to scroll through after the answer")
    parser.add_argument("--tracemalloc", action="store_true", help="also list the largest Python allocations")
    options = parser.parse_args(argv)
    if options.tracemalloc:
        tracemalloc.start(8)
    home = tempfile.mkdtemp(prefix="qa-reader-memory-")
    os.environ["QA_READER_HOME"] = home

    from PySide6.QtCore import QTimer

    from qa_reader.gui.app import application, start

    app = application()
    app_args = argparse.Namespace(
        command="open", files=[options.file], question=options.question, library=None, model=None
    )
    running = start(app_args, app)
    if running is None:
        print("Another QA Reader runs on this library.", file=sys.stderr)
        return 2
    window = running.window
    window.resize(1200, 800)
    view = window.document.pdf
    deadline = time.monotonic() + options.timeout
    outcome = {"code": 2, "page": 0}

    def answered() -> bool:
        result = window.answers.result
        return result is not None and result.question == options.question and window.document.content is not None

    def scroll() -> None:
        if outcome["page"] >= min(options.pages, max(view.page_count, 1)):
            QTimer.singleShot(3000, finish)  # the app at rest after scrolling
            return
        view.go_to_page(outcome["page"])
        outcome["page"] += 1
        QTimer.singleShot(150, scroll)

    def finish() -> None:
        outcome["rss"] = f"VmRSS {_mib(_status('VmRSS'))}, VmHWM {_mib(_status('VmHWM'))}"
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        outcome["rss"] += f"; after malloc_trim: VmRSS {_mib(_status('VmRSS'))}"
        outcome["rss"] += "".join(f", {f} {_mib(_status(f))}" for f in ("RssAnon", "RssFile", "RssShmem"))
        if options.tracemalloc:
            current, peak = tracemalloc.get_traced_memory()
            lines = [f"tracemalloc at rest: {current / 2**20:.1f} MB now, {peak / 2**20:.1f} MB peak"]
            for stat in tracemalloc.take_snapshot().statistics("lineno")[:12]:
                lines.append(f"  {stat.size / 2**20:7.1f} MB  {stat.traceback[0]}")
            outcome["python"] = "\n".join(lines) + "\n"
        outcome["code"] = 0
        app.quit()

    def poll() -> None:
        if answered():
            best = window.answers.current_answer()
            header = window.answers.header.text()
            print(f"answer: {best.text if best else None!r} after {time.monotonic() - started:.1f} s ({header})")
            QTimer.singleShot(500, scroll)
            return
        if time.monotonic() > deadline:
            print("no answer in time", file=sys.stderr)
            app.quit()
            return
        QTimer.singleShot(200, poll)

    started = time.monotonic()
    QTimer.singleShot(200, poll)
    app.exec()

    content = window.document.content
    pixmaps = list(view._pixmaps.values())
    pixmap_bytes = sum(p.width() * p.height() * p.depth() // 8 for _, p in pixmaps)
    print(f"at rest in the event loop: {outcome.get('rss')}")
    print(
        f"after the event loop: VmRSS {_mib(_status('VmRSS'))}, VmHWM {_mib(_status('VmHWM'))}"
        + "".join(f", {f} {_mib(_status(f))}" for f in ("RssAnon", "RssFile", "RssShmem"))
    )
    import ctypes

    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"after malloc_trim: VmRSS {_mib(_status('VmRSS'))}")
    print(f"page images kept: {len(pixmaps)} ({pixmap_bytes / 2**20:.1f} MB)")
    if content is not None:
        held = content.boxes.held() if hasattr(content.boxes, "held") else content.boxes
        megabytes = sum(b.nbytes for _, b in held.values()) / 2**20
        print(f"character boxes held by the view: {len(held)} pages ({megabytes:.1f} MB)")
        print(f"document text: {len(content.text):,} characters")
    print(outcome.get("python", ""), end="")
    running.window.shutdown()
    running.server.close()
    return outcome["code"]


if __name__ == "__main__":
    sys.exit(main())
