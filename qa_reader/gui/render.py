"""PDF pages rendered to images on a background thread, the pages wanted most recently first.

The document view says which pages it wants (the visible ones, nearest first); a newer wish replaces an
older one, so scrolling fast never leaves a queue of pages nobody looks at any more.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from qa_reader.memory import release_free_memory

log = logging.getLogger(__name__)


class _Wish:
    """The pages the view wants now, in the order it wants them; shared by both threads under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path = ""
        self._scale = 1.0
        self._pages: list[int] = []

    def replace(self, path: str, scale: float, pages: list[int]) -> None:
        with self._lock:
            self._path, self._scale, self._pages = path, scale, list(pages)

    def take(self) -> tuple[str, int, float] | None:
        with self._lock:
            if not self._pages:
                return None
            return self._path, self._pages.pop(0), self._scale


class _RenderLoop(QObject):
    rendered = Signal(str, int, float, QImage)  # path, page_index, scale, image
    failed = Signal(str, int, str)

    def __init__(self, wish: _Wish) -> None:
        super().__init__()
        self._wish = wish

    @Slot()
    def _on_posted(self) -> None:
        from qa_reader.ingest.pdf import render_page

        while (job := self._wish.take()) is not None:
            path, page_index, scale = job
            try:
                width, height, stride, samples = render_page(path, page_index, scale)
            except Exception as error:  # a damaged page must not stop the others from rendering
                log.warning("Page %d of %s could not be rendered: %s", page_index + 1, path, error)
                self.failed.emit(path, page_index, str(error))
                continue
            image = QImage(samples, width, height, stride, QImage.Format.Format_RGB888).copy()
            self.rendered.emit(path, page_index, scale, image)
        # Each page passes through MuPDF's pixmap and a QImage; the images of pages scrolled past are freed
        # on the GUI thread, in this thread's heap, which glibc keeps unless asked to give it back.
        release_free_memory()


class PageRenderer(QObject):
    """Renders PDF pages on its own thread; `rendered` arrives on the GUI thread."""

    rendered = Signal(str, int, float, QImage)
    failed = Signal(str, int, str)
    _posted = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._wish = _Wish()
        self._thread = QThread()
        self._thread.setObjectName("qa-reader-render")
        self._loop = _RenderLoop(self._wish)
        self._loop.moveToThread(self._thread)
        self._thread.finished.connect(self._loop.deleteLater)
        self._posted.connect(self._loop._on_posted)
        self._loop.rendered.connect(self.rendered)
        self._loop.failed.connect(self.failed)
        self._thread.start()

    def request(self, path: str, scale: float, pages: list[int]) -> None:
        """Render these pages (first ones first) at `scale`, forgetting any earlier request not yet done."""
        self._wish.replace(path, scale, pages)
        if pages:
            self._posted.emit()

    @property
    def running(self) -> bool:
        """Whether the rendering thread runs (until `stop`)."""
        return self._thread.isRunning()

    def stop(self) -> None:
        self._wish.replace("", 1.0, [])
        self._thread.quit()
        self._thread.wait()
