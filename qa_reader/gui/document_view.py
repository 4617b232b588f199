"""The document view: PDF pages rendered at the screen's pixel ratio (continuous scrolling, zoom, page
navigation, text selection), other formats as flowing text; answer spans and find matches drawn on top."""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QStackedWidget,
    QTextEdit,
    QToolButton,
    QWidget,
)

from qa_reader.gui.layout import column
from qa_reader.gui.render import PageRenderer
from qa_reader.highlight import span_highlights
from qa_reader.memory import release_free_memory
from qa_reader.types import Answer, DocumentContent, Highlight

MIN_ZOOM, MAX_ZOOM = 0.25, 6.0
ZOOM_STEP = 1.2
PAGE_MARGIN = 16  # logical pixels around the column of pages
PAGE_GAP = 12  # logical pixels between pages
# Page images kept: the pages around the viewport (half a screen above and below) always, others only up to
# this many in all. A fit-width page of a 1200-pixel window is about 2.2 MB; 24 kept held 52 MB.
PIXMAPS_KEPT = 3
FIND_LIMIT = 2000
DEFAULT_PAGE_SIZE = (612.0, 792.0)  # US Letter in points, for a page whose size is unknown


class Mark(Enum):
    """What a painted range is, weakest first: later kinds are painted over earlier ones."""

    ALTERNATIVE = "alternative"
    FIND = "find"
    SELECTION = "selection"
    FIND_CURRENT = "find_current"
    ANSWER = "answer"


# Fill and outline per mark: the chosen answer strongest, the other answers faint.
_MARK_COLOURS = {
    Mark.ALTERNATIVE: (QColor(255, 196, 0, 45), QColor(230, 170, 0, 140)),
    Mark.FIND: (QColor(80, 160, 255, 60), None),
    Mark.SELECTION: (QColor(60, 120, 230, 80), None),
    Mark.FIND_CURRENT: (QColor(255, 120, 0, 110), QColor(230, 90, 0, 220)),
    Mark.ANSWER: (QColor(255, 200, 0, 120), QColor(230, 120, 0, 255)),
}


def _over(fill: QColor, base: QColor, strength: float = 1.0) -> QColor:
    """The opaque colour of `fill` (its alpha times `strength`) painted over `base`."""
    alpha = min(1.0, fill.alphaF() * strength)
    return QColor(
        round(fill.red() * alpha + base.red() * (1 - alpha)),
        round(fill.green() * alpha + base.green() * (1 - alpha)),
        round(fill.blue() * alpha + base.blue() * (1 - alpha)),
    )


@dataclass(frozen=True)
class Span:
    """A character range [char_start, char_end) of the document text."""

    char_start: int
    char_end: int


def range_highlights(content: DocumentContent, char_start: int, char_end: int) -> list[Highlight]:
    """Rectangles (one per line, per page) covering a character range of a PDF document."""
    return span_highlights(content.pages, content.boxes.get, char_start, char_end)


def find_all(text: str, needle: str, limit: int = FIND_LIMIT) -> list[Span]:
    """Every case-insensitive occurrence of `needle` in `text` (at most `limit`)."""
    needle = needle.lower()
    if not needle:
        return []
    haystack = text.lower()
    if len(haystack) != len(text):
        haystack = text  # a few characters change length when lower-cased; offsets must stay exact
    spans = []
    start = haystack.find(needle)
    while start >= 0 and len(spans) < limit:
        spans.append(Span(start, start + len(needle)))
        start = haystack.find(needle, start + len(needle))
    return spans


class PdfPagesView(QAbstractScrollArea):
    """Every page of a PDF in one column; pages are rendered lazily, only when (nearly) visible."""

    currentPageChanged = Signal(int)  # page_index
    zoomChanged = Signal(float)  # logical pixels per PDF point
    selectionChanged = Signal()

    def __init__(self, renderer: PageRenderer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._renderer = renderer
        self._content: DocumentContent | None = None
        self._sizes: list[tuple[float, float]] = []
        self._tops: list[float] = []
        self._widest = DEFAULT_PAGE_SIZE[0]  # points
        self._zoom = 1.0
        self._fit_width = True
        self._pixmaps: OrderedDict[int, tuple[float, QPixmap]] = OrderedDict()
        self._requested: tuple = ()
        self._marks: dict[Mark, list[Highlight]] = {}
        self._current_page = 0
        self._selection: Span | None = None
        self._anchor_char: int | None = None
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.viewport().setAutoFillBackground(True)
        self.setAccessibleName("Document pages")
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        renderer.rendered.connect(self._on_rendered)
        # Images of pages scrolled past are freed here in bursts; once scrolling rests, the heap they held
        # goes back to the system (glibc keeps it otherwise, and it counts as resident memory).
        self._release = QTimer(self)
        self._release.setSingleShot(True)
        self._release.setInterval(1000)
        self._release.timeout.connect(release_free_memory)

    # --- content and geometry -------------------------------------------------------------------------

    def set_content(self, content: DocumentContent | None) -> None:
        self._content = content
        if self._pixmaps:
            self._release.start()
        self._pixmaps.clear()
        self._requested = ()
        self._marks = {}
        self._selection = None
        self._current_page = 0
        if content is None:
            self._sizes = []
        else:
            self._sizes = [
                (page.width, page.height) if page.width > 0 and page.height > 0 else DEFAULT_PAGE_SIZE
                for page in content.pages
            ]
        self._widest = max((width for width, _ in self._sizes), default=DEFAULT_PAGE_SIZE[0])
        if self._fit_width:
            self._zoom = self._fitting_zoom()
        self._layout()
        self.verticalScrollBar().setValue(0)
        self.viewport().update()
        self.zoomChanged.emit(self._zoom)
        self.currentPageChanged.emit(0)

    @property
    def content(self) -> DocumentContent | None:
        return self._content

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def page_count(self) -> int:
        return len(self._sizes)

    @property
    def current_page(self) -> int:
        return self._current_page

    def _fitting_zoom(self) -> float:
        if not self._sizes:
            return 1.0
        available = self.viewport().width() - 2 * PAGE_MARGIN
        return max(MIN_ZOOM, min(MAX_ZOOM, available / self._widest))

    def _layout(self) -> None:
        """Page positions at the current zoom (in content pixels) and the scroll bars' ranges."""
        self._tops = []
        y = float(PAGE_MARGIN)
        for _, height in self._sizes:
            self._tops.append(y)
            y += height * self._zoom + PAGE_GAP
        total_height = y - PAGE_GAP + PAGE_MARGIN if self._sizes else 0
        content_width = self._widest * self._zoom + 2 * PAGE_MARGIN
        viewport = self.viewport().size()
        vertical, horizontal = self.verticalScrollBar(), self.horizontalScrollBar()
        vertical.setRange(0, max(0, int(total_height - viewport.height())))
        vertical.setPageStep(max(1, viewport.height() - 40))
        vertical.setSingleStep(40)
        horizontal.setRange(0, max(0, int(content_width - viewport.width())))
        horizontal.setPageStep(max(1, viewport.width()))
        horizontal.setSingleStep(40)

    def page_rect(self, page_index: int) -> QRectF:
        """The page's rectangle in viewport coordinates."""
        width, height = self._sizes[page_index]
        content_width = max(self.viewport().width(), self._widest * self._zoom + 2 * PAGE_MARGIN)
        x = (content_width - width * self._zoom) / 2 - self.horizontalScrollBar().value()
        y = self._tops[page_index] - self.verticalScrollBar().value()
        return QRectF(x, y, width * self._zoom, height * self._zoom)

    def _page_index_at(self, content_y: float) -> int:
        """The page whose top is the last one at or above a content-space y (bisection: long PDFs stay fast)."""
        return max(0, min(len(self._tops) - 1, bisect.bisect_right(self._tops, content_y) - 1))

    def visible_pages(self, extra: float = 0.0) -> list[int]:
        """Pages meeting the viewport (grown by `extra` viewports above and below), nearest the centre first."""
        if not self._sizes:
            return []
        height = self.viewport().height()
        scrolled = self.verticalScrollBar().value()
        first = self._page_index_at(scrolled - extra * height)
        last = self._page_index_at(scrolled + height * (1 + extra))
        centre = height / 2
        visible = range(first, last + 1)
        return sorted(visible, key=lambda i: abs(self.page_rect(i).center().y() - centre))

    def _page_at(self, point: QPointF) -> tuple[int, float, float] | None:
        """(page_index, x, y in PDF points) under a viewport point, or None between pages."""
        if not self._sizes:
            return None
        index = self._page_index_at(point.y() + self.verticalScrollBar().value() + PAGE_GAP / 2)
        rect = self.page_rect(index)
        if not rect.top() - PAGE_GAP / 2 <= point.y() <= rect.bottom() + PAGE_GAP / 2:
            return None
        return index, (point.x() - rect.left()) / self._zoom, (point.y() - rect.top()) / self._zoom

    # --- zoom and navigation --------------------------------------------------------------------------

    def set_zoom(self, zoom: float, fit_width: bool = False) -> None:
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self._fit_width = fit_width
        if not self._sizes:
            self._zoom = zoom
            self.zoomChanged.emit(zoom)
            return
        anchor = self._centre_anchor()
        self._zoom = zoom
        self._layout()
        if anchor is not None:
            page_index, fraction = anchor
            top = self._tops[page_index] + fraction * self._sizes[page_index][1] * zoom
            self.verticalScrollBar().setValue(int(top - self.viewport().height() / 2))
        self._requested = ()
        self.viewport().update()
        self.zoomChanged.emit(zoom)

    def _centre_anchor(self) -> tuple[int, float] | None:
        """The page at the viewport's centre and how far down it the centre lies (0..1)."""
        if not self._sizes:
            return None
        centre = self.verticalScrollBar().value() + self.viewport().height() / 2
        index = self._page_index_at(centre)
        height = self._sizes[index][1] * self._zoom
        return index, max(0.0, min(1.0, (centre - self._tops[index]) / height))

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def fit_width(self) -> None:
        self.set_zoom(self._fitting_zoom(), fit_width=True)

    def go_to_page(self, page_index: int) -> None:
        if not self._sizes:
            return
        page_index = max(0, min(page_index, len(self._sizes) - 1))
        self.verticalScrollBar().setValue(int(self._tops[page_index] - PAGE_MARGIN))

    def scroll_to_highlight(self, highlight: Highlight) -> None:
        """Scroll (only if needed) so that the highlight's first rectangle is well inside the viewport."""
        if not self._sizes or highlight.page_index >= len(self._sizes) or not highlight.rects:
            return
        x0, y0, x1, y1 = highlight.rects[0]
        top = self._tops[highlight.page_index] + y0 * self._zoom
        bottom = self._tops[highlight.page_index] + y1 * self._zoom
        view_top = self.verticalScrollBar().value()
        view_height = self.viewport().height()
        if top < view_top + 0.15 * view_height or bottom > view_top + 0.85 * view_height:
            self.verticalScrollBar().setValue(int(top - view_height / 3))
        rect = self.page_rect(highlight.page_index)
        left = rect.left() + x0 * self._zoom
        right = rect.left() + x1 * self._zoom
        if left < 0 or right > self.viewport().width():
            horizontal = self.horizontalScrollBar()
            horizontal.setValue(int(horizontal.value() + left - PAGE_MARGIN))

    def is_visible(self, highlight: Highlight) -> bool:
        """Whether the highlight's first rectangle lies inside the viewport."""
        if not highlight.rects or highlight.page_index >= len(self._sizes):
            return False
        rect = self.page_rect(highlight.page_index)
        x0, y0, x1, y1 = highlight.rects[0]
        target = QRectF(
            rect.left() + x0 * self._zoom, rect.top() + y0 * self._zoom, (x1 - x0) * self._zoom, (y1 - y0) * self._zoom
        )
        return QRectF(self.viewport().rect()).contains(target)

    # --- marks and selection --------------------------------------------------------------------------

    def set_marks(self, mark: Mark, highlights: Sequence[Highlight]) -> None:
        self._marks[mark] = list(highlights)
        self.viewport().update()

    def marks(self, mark: Mark) -> list[Highlight]:
        return list(self._marks.get(mark, []))

    def selected_text(self) -> str:
        if self._content is None or self._selection is None:
            return ""
        return self._content.text[self._selection.char_start : self._selection.char_end]

    def _char_at(self, page_index: int, x: float, y: float) -> int | None:
        """The document offset of the character nearest to (x, y) on a page."""
        if self._content is None:
            return None
        stored = self._content.boxes.get(page_index)
        if stored is None or len(stored[1]) == 0:
            return None
        page_start, boxes = stored
        centres_x = (boxes[:, 0] + boxes[:, 2]) / 2
        centres_y = (boxes[:, 1] + boxes[:, 3]) / 2
        # Same line first (the vertical distance weighs more), then the nearest character on it.
        distance = np.abs(centres_x - x) + 8 * np.maximum(0, np.abs(centres_y - y) - (boxes[:, 3] - boxes[:, 1]) / 2)
        distance = np.where(np.isnan(distance), np.inf, distance)
        nearest = int(np.argmin(distance))
        if not np.isfinite(distance[nearest]):
            return None
        after = x > centres_x[nearest]
        return page_start + nearest + (1 if after else 0)

    def _set_selection(self, selection: Span | None) -> None:
        self._selection = selection
        if selection is None or self._content is None:
            self._marks[Mark.SELECTION] = []
        else:
            self._marks[Mark.SELECTION] = range_highlights(self._content, selection.char_start, selection.char_end)
        self.viewport().update()
        self.selectionChanged.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self._page_at(event.position())
            self._anchor_char = self._char_at(*hit) if hit else None
            self._set_selection(None)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._anchor_char is not None and event.buttons() & Qt.MouseButton.LeftButton:
            hit = self._page_at(event.position())
            char = self._char_at(*hit) if hit else None
            if char is not None and char != self._anchor_char:
                self._set_selection(Span(min(char, self._anchor_char), max(char, self._anchor_char)))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._anchor_char = None
        super().mouseReleaseEvent(event)

    # --- painting -------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        background = self.palette().color(QPalette.ColorRole.Window).darker(115)
        painter.fillRect(event.rect(), background)
        if not self._sizes:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        visible = self.visible_pages()
        for page_index in visible:
            rect = self.page_rect(page_index)
            painter.fillRect(rect.adjusted(1, 2, 1, 2), QColor(0, 0, 0, 40))
            painter.fillRect(rect, Qt.GlobalColor.white)
            cached = self._pixmaps.get(page_index)
            if cached is not None:
                self._pixmaps.move_to_end(page_index)
                painter.drawPixmap(rect, cached[1], QRectF(cached[1].rect()))
            self._paint_marks(painter, page_index, rect)
        self._request_pages()

    def _paint_marks(self, painter: QPainter, page_index: int, page_rect: QRectF) -> None:
        for mark in Mark:
            fill, outline = _MARK_COLOURS[mark]
            painter.setPen(QPen(outline, 1.2) if outline is not None else Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            for highlight in self._marks.get(mark, []):
                if highlight.page_index != page_index:
                    continue
                for x0, y0, x1, y1 in highlight.rects:
                    pad = 1.0
                    painter.drawRoundedRect(
                        QRectF(
                            page_rect.left() + x0 * self._zoom - pad,
                            page_rect.top() + y0 * self._zoom - pad,
                            (x1 - x0) * self._zoom + 2 * pad,
                            (y1 - y0) * self._zoom + 2 * pad,
                        ),
                        2,
                        2,
                    )

    def _render_scale(self) -> float:
        return round(self._zoom * self.devicePixelRatioF(), 3)

    def _request_pages(self) -> None:
        if self._content is None:
            return
        scale = self._render_scale()
        wanted = [
            index
            for index in self.visible_pages(extra=0.5)
            if index not in self._pixmaps or self._pixmaps[index][0] != scale
        ]
        key = (self._content.record.path, scale, tuple(wanted))
        if key != self._requested:
            self._requested = key
            self._renderer.request(self._content.record.path, scale, wanted)

    @Slot(str, int, float, QImage)
    def _on_rendered(self, path: str, page_index: int, scale: float, image: QImage) -> None:
        if self._content is None or path != self._content.record.path:
            return
        current = self._pixmaps.get(page_index)
        if current is not None and current[0] == self._render_scale() and scale != current[0]:
            return  # an older zoom's image arriving late
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self._pixmaps[page_index] = (scale, pixmap)
        self._pixmaps.move_to_end(page_index)
        visible = set(self.visible_pages(extra=0.5))
        while len(self._pixmaps) > PIXMAPS_KEPT:
            oldest = next((i for i in self._pixmaps if i not in visible), None)
            if oldest is None:
                break
            del self._pixmaps[oldest]
            self._release.start()
        self.viewport().update()

    @property
    def images_held(self) -> int:
        """How many rendered page images the view holds, at any scale."""
        return len(self._pixmaps)

    def rendered_pages(self) -> list[int]:
        """Pages with an image at the current zoom (for tests and the screenshot tool)."""
        scale = self._render_scale()
        return [index for index, (page_scale, _) in self._pixmaps.items() if page_scale == scale]

    # --- events ---------------------------------------------------------------------------------------

    @Slot()
    def _on_scrolled(self) -> None:
        anchor = self._centre_anchor()
        if anchor is not None and anchor[0] != self._current_page:
            self._current_page = anchor[0]
            self.currentPageChanged.emit(anchor[0])
        self.viewport().update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_width and self._sizes:
            self.set_zoom(self._fitting_zoom(), fit_width=True)
        else:
            self._layout()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if event.angleDelta().y() > 0:
                self.zoom_in()
            elif event.angleDelta().y() < 0:
                self.zoom_out()
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            text = self.selected_text()
            if text:
                QGuiApplication.clipboard().setText(text)
            return
        if event.matches(QKeySequence.StandardKey.MoveToStartOfDocument) or event.key() == Qt.Key.Key_Home:
            self.verticalScrollBar().setValue(0)
            return
        if event.matches(QKeySequence.StandardKey.MoveToEndOfDocument) or event.key() == Qt.Key.Key_End:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
            return
        if event.key() == Qt.Key.Key_Space:
            direction = -1 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            vertical = self.verticalScrollBar()
            vertical.setValue(vertical.value() + direction * vertical.pageStep())
            return
        super().keyPressEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(640, 600)


_HEADING_SCALE = {1: 1.6, 2: 1.35, 3: 1.15}  # font size of a Markdown heading against the body text


class TextPagesView(QPlainTextEdit):
    """Flowing text (text, Markdown, HTML, EPUB) with answer and find ranges coloured in place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._content: DocumentContent | None = None
        self._astral = False
        self._marks: dict[Mark, list[Span]] = {}
        self.setReadOnly(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.document().setDocumentMargin(28)
        font = self.font()
        font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.15)
        self.setFont(font)
        self.setAccessibleName("Document text")

    def set_content(self, content: DocumentContent | None) -> None:
        self._content = content
        self._marks = {}
        text = content.text if content is not None else ""
        self._astral = any(ord(char) > 0xFFFF for char in text)
        self.setPlainText(text)
        self.setExtraSelections([])
        if content is not None and content.headings:
            self._style_headings(content.headings)

    def _style_headings(self, headings: Sequence[tuple[int, str]]) -> None:
        """Show a Markdown file's headings as headings: larger and bold, their text (and offsets) unchanged.

        The stored text has no markup left, so its paragraphs are matched in order against the headings
        read from the file; a heading that is no longer there (the file changed) is skipped.
        """
        base = self.font().pointSizeF()
        waiting = list(headings)
        block = self.document().begin()
        while block.isValid() and waiting:
            level, heading = waiting[0]
            if block.text() == heading:
                waiting.pop(0)
                block_format = QTextBlockFormat()
                block_format.setHeadingLevel(level)
                block_format.setTopMargin(base * 0.6)
                char_format = QTextCharFormat()
                char_format.setFontWeight(700)
                char_format.setFontPointSize(base * _HEADING_SCALE.get(level, 1.0))
                cursor = QTextCursor(block)
                cursor.mergeBlockFormat(block_format)
                cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(char_format)
            block = block.next()

    @property
    def content(self) -> DocumentContent | None:
        return self._content

    def _position(self, char_offset: int) -> int:
        """A Python string offset as a QTextDocument position (which counts UTF-16 code units)."""
        if not self._astral or self._content is None:
            return char_offset
        prefix = self._content.text[:char_offset]
        return char_offset + sum(1 for char in prefix if ord(char) > 0xFFFF)

    def _char_offset(self, position: int) -> int:
        if not self._astral or self._content is None:
            return position
        offset, units = 0, 0
        for char in self._content.text:
            units += 2 if ord(char) > 0xFFFF else 1
            if units > position:
                break
            offset += 1
        return offset

    def set_marks(self, mark: Mark, spans: Sequence[Span]) -> None:
        self._marks[mark] = list(spans)
        selections = []
        for kind in Mark:
            if kind is Mark.SELECTION:
                continue
            fill, _ = _MARK_COLOURS[kind]
            background = _over(fill, self.palette().color(QPalette.ColorRole.Base), strength=2.0)
            text_format = QTextCharFormat()
            text_format.setBackground(background)
            # Dark text on light marks, light text on dark ones: readable in either theme.
            luminance = 0.299 * background.red() + 0.587 * background.green() + 0.114 * background.blue()
            text_format.setForeground(QColor(20, 20, 20) if luminance > 140 else QColor(240, 240, 240))
            if kind is Mark.ANSWER:
                text_format.setFontWeight(700)
            for span in self._marks.get(kind, []):
                selection = QTextEdit.ExtraSelection()
                cursor = QTextCursor(self.document())
                cursor.setPosition(self._position(span.char_start))
                cursor.setPosition(self._position(span.char_end), QTextCursor.MoveMode.KeepAnchor)
                selection.cursor = cursor
                selection.format = text_format
                selections.append(selection)
        self.setExtraSelections(selections)

    def marks(self, mark: Mark) -> list[Span]:
        return list(self._marks.get(mark, []))

    def scroll_to_span(self, span: Span) -> None:
        """Scroll so that the span is visible, a third of the way down when it has to move."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._position(span.char_start))
        rect = self.cursorRect(cursor)
        height = self.viewport().height()
        if rect.top() < 0.1 * height or rect.bottom() > 0.85 * height:
            self.setTextCursor(cursor)
            self.centerCursor()

    def selected_text(self) -> str:
        cursor = self.textCursor()
        if not cursor.hasSelection() or self._content is None:
            return ""
        start = self._char_offset(cursor.selectionStart())
        end = self._char_offset(cursor.selectionEnd())
        return self._content.text[start:end]


class FindBar(QWidget):
    """Plain-text search in the open document: Enter finds the next match, Shift+Enter the previous."""

    searched = Signal(str, bool)  # text, forward
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Find in document")
        self.field.setAccessibleName("Find in document")
        self.field.setClearButtonEnabled(True)
        self.count = QLabel(self)
        self.count.setMinimumWidth(90)
        previous = QToolButton(self)
        previous.setText("↑")
        previous.setToolTip("Previous match (Shift+Enter)")
        previous.setAccessibleName("Previous match")
        following = QToolButton(self)
        following.setText("↓")
        following.setToolTip("Next match (Enter)")
        following.setAccessibleName("Next match")
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Close (Esc)")
        close.setAccessibleName("Close find bar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(QLabel("Find:", self))
        layout.addWidget(self.field, 1)
        layout.addWidget(self.count)
        layout.addWidget(previous)
        layout.addWidget(following)
        layout.addWidget(close)
        previous.clicked.connect(lambda: self.searched.emit(self.field.text(), False))
        following.clicked.connect(lambda: self.searched.emit(self.field.text(), True))
        close.clicked.connect(self.close_bar)
        self.field.returnPressed.connect(lambda: self.searched.emit(self.field.text(), True))
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(200)
        self._typing.timeout.connect(lambda: self.searched.emit(self.field.text(), True))
        self.field.textEdited.connect(lambda _: self._typing.start())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and shift:
            self.searched.emit(self.field.text(), False)
            return
        super().keyPressEvent(event)

    def open_bar(self, text: str = "") -> None:
        self.show()
        if text:
            self.field.setText(text)
        self.field.setFocus()
        self.field.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.closed.emit()


class DocumentView(QWidget):
    """The open document with its header (title, page, zoom) and find bar."""

    pageChanged = Signal(int)

    def __init__(self, renderer: PageRenderer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._content: DocumentContent | None = None
        self._answers: list[Answer] = []
        self._selected: Answer | None = None
        self._matches: list[Span] = []
        self._match_index = -1
        self._last_find = ""

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setAccessibleName("Document title")
        self.title.setObjectName("documentTitle")
        self.page_box = QSpinBox(self)
        self.page_box.setAccessibleName("Page number")
        self.page_box.setToolTip("Go to page (Ctrl+G)")
        self.page_box.setKeyboardTracking(False)
        self.page_total = QLabel(self)
        self.zoom_label = QLabel(self)
        self.zoom_label.setMinimumWidth(44)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._zoom_out = self._tool_button("−", "Zoom out (Ctrl+-)", self.zoom_out)
        self._zoom_in = self._tool_button("+", "Zoom in (Ctrl++)", self.zoom_in)
        self._fit = self._tool_button("Fit width", "Fit width (Ctrl+0)", self.fit_width)
        header = QHBoxLayout()
        header.setContentsMargins(10, 4, 6, 4)
        page_label = QLabel("Page", self)
        page_label.setBuddy(self.page_box)
        self._pdf_controls = (
            page_label,
            self.page_box,
            self.page_total,
            self._zoom_out,
            self.zoom_label,
            self._zoom_in,
            self._fit,
        )
        header.addWidget(self.title, 1)
        header.addWidget(page_label)
        header.addWidget(self.page_box)
        header.addWidget(self.page_total)
        header.addSpacing(12)
        header.addWidget(self._zoom_out)
        header.addWidget(self.zoom_label)
        header.addWidget(self._zoom_in)
        header.addWidget(self._fit)
        self._header = QWidget(self)
        self._header.setLayout(header)
        self._header.setObjectName("documentHeader")

        self.pdf = PdfPagesView(renderer, self)
        self.text = TextPagesView(self)
        self.placeholder = QLabel(
            "<p style='font-size:15pt'>No document open</p>"
            "<p>Open a file with <b>Ctrl+O</b> or drop files and folders here,<br>"
            "then ask a question with <b>Ctrl+L</b>.</p><p>Press <b>F1</b> for every shortcut.</p>",
            self,
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setAccessibleName("No document open")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.pdf)
        self.stack.addWidget(self.text)
        self.find_bar = FindBar(self)
        self.find_bar.hide()

        column(self, self._header, self.stack, self.find_bar)

        self.page_box.valueChanged.connect(self._on_page_chosen)
        self.pdf.currentPageChanged.connect(self._on_current_page)
        self.pdf.zoomChanged.connect(self._on_zoom)
        self.find_bar.searched.connect(self._on_find)
        self.find_bar.closed.connect(self._on_find_closed)
        self._update_header()

    def _tool_button(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # --- content ----------------------------------------------------------------------------------------

    @property
    def content(self) -> DocumentContent | None:
        return self._content

    @property
    def document_id(self) -> int | None:
        return self._content.record.id if self._content is not None else None

    def show_content(self, content: DocumentContent | None) -> None:
        self._content = content
        self._matches, self._match_index, self._last_find = [], -1, ""
        if content is None:
            self.pdf.set_content(None)
            self.text.set_content(None)
            self.stack.setCurrentWidget(self.placeholder)
        elif content.is_pdf:
            self.text.set_content(None)
            self.stack.setCurrentWidget(self.pdf)
            self.pdf.set_content(content)
        else:
            self.pdf.set_content(None)
            self.stack.setCurrentWidget(self.text)
            self.text.set_content(content)
        self._update_header()
        self._apply_answers(scroll=self._selected is not None)

    def _update_header(self) -> None:
        content = self._content
        is_pdf = content is not None and content.is_pdf
        self.title.setText(content.record.title if content is not None else "")
        self.title.setToolTip(content.record.path if content is not None else "")
        for widget in self._pdf_controls:
            widget.setVisible(is_pdf)
        pages = self.pdf.page_count if is_pdf else 0
        self.page_box.blockSignals(True)
        self.page_box.setRange(1 if pages else 0, max(pages, 0))
        self.page_box.setValue(1 if pages else 0)
        self.page_box.blockSignals(False)
        self.page_total.setText(f"of {pages}" if pages else "")
        self._on_zoom(self.pdf.zoom)

    def focus_view(self) -> None:
        self.stack.currentWidget().setFocus()

    # --- answers ----------------------------------------------------------------------------------------

    def set_answers(self, answers: Sequence[Answer], selected: Answer | None, scroll: bool = True) -> None:
        """Mark every answer of this document; the selected one strongest, scrolled into view if asked."""
        self._answers = list(answers)
        self._selected = selected
        self._apply_answers(scroll)

    def _apply_answers(self, scroll: bool) -> None:
        content = self._content
        if content is None:
            return

        # An answer belongs here when it comes from this document *and* this version of its text: after
        # a file changed on disk, new answers can arrive before the new text is shown (and old ones after).
        def belongs(answer: Answer) -> bool:
            return (
                answer.document_id == content.record.id
                and content.text[answer.char_start : answer.char_end] == answer.text
            )

        here = [a for a in self._answers if belongs(a)]
        selected = self._selected
        if selected is not None and not belongs(selected):
            selected = None
        others = [a for a in here if a is not selected]
        if content.is_pdf:
            self.pdf.set_marks(Mark.ALTERNATIVE, [h for a in others for h in a.highlights])
            self.pdf.set_marks(Mark.ANSWER, list(selected.highlights) if selected else [])
            if scroll and selected is not None and selected.highlights:
                self.pdf.scroll_to_highlight(selected.highlights[0])
        else:
            self.text.set_marks(Mark.ALTERNATIVE, [Span(a.char_start, a.char_end) for a in others])
            self.text.set_marks(Mark.ANSWER, [Span(selected.char_start, selected.char_end)] if selected else [])
            if scroll and selected is not None:
                self.text.scroll_to_span(Span(selected.char_start, selected.char_end))

    # --- zoom and pages -----------------------------------------------------------------------------------

    def zoom_in(self) -> None:
        self.pdf.zoom_in()

    def zoom_out(self) -> None:
        self.pdf.zoom_out()

    def fit_width(self) -> None:
        self.pdf.fit_width()

    def next_page(self) -> None:
        self.pdf.go_to_page(self.pdf.current_page + 1)

    def previous_page(self) -> None:
        self.pdf.go_to_page(self.pdf.current_page - 1)

    def focus_page_box(self) -> None:
        if self.page_box.isEnabled():
            self.page_box.setFocus()
            self.page_box.selectAll()

    @Slot(int)
    def _on_page_chosen(self, page_number: int) -> None:
        if page_number >= 1:
            self.pdf.go_to_page(page_number - 1)

    @Slot(int)
    def _on_current_page(self, page_index: int) -> None:
        self.page_box.blockSignals(True)
        self.page_box.setValue(page_index + 1)
        self.page_box.blockSignals(False)
        self.pageChanged.emit(page_index)

    @Slot(float)
    def _on_zoom(self, zoom: float) -> None:
        # 1.0 logical pixel per point is 75% of a 96-dpi screen's "actual size" (a point is 1/72 inch).
        self.zoom_label.setText(f"{zoom * 72 / 96:.0%}" if self._content is not None and self._content.is_pdf else "")

    # --- find and selection ---------------------------------------------------------------------------------

    def show_find(self) -> None:
        """Open the find bar, seeded with the selected text when it is a short single line."""
        selected = self.selected_text().strip()
        self.find_bar.open_bar(selected[:100] if "\n" not in selected else "")

    def selected_text(self) -> str:
        if self._content is None:
            return ""
        return self.pdf.selected_text() if self._content.is_pdf else self.text.selected_text()

    @property
    def find_matches(self) -> list[Span]:
        return list(self._matches)

    @Slot(str, bool)
    def _on_find(self, needle: str, forward: bool) -> None:
        if self._content is None:
            self.find_bar.count.setText("")
            return
        if needle != self._last_find:
            self._last_find = needle
            self._matches = find_all(self._content.text, needle)
            self._match_index = -1
        if not self._matches:
            self.find_bar.count.setText("No match" if needle else "")
            self._show_matches()
            return
        step = 1 if forward else -1
        self._match_index = (self._match_index + step) % len(self._matches)
        limited = "+" if len(self._matches) >= FIND_LIMIT else ""
        self.find_bar.count.setText(f"{self._match_index + 1} of {len(self._matches)}{limited}")
        self._show_matches()

    def _show_matches(self) -> None:
        content = self._content
        if content is None:
            return
        current = self._matches[self._match_index] if 0 <= self._match_index < len(self._matches) else None
        if content.is_pdf:
            near = [m for m in self._matches if m is not current][:400]
            near_marks = [h for m in near for h in range_highlights(content, m.char_start, m.char_end)]
            self.pdf.set_marks(Mark.FIND, near_marks)
            current_marks = range_highlights(content, current.char_start, current.char_end) if current else []
            self.pdf.set_marks(Mark.FIND_CURRENT, current_marks)
            if current_marks:
                self.pdf.scroll_to_highlight(current_marks[0])
        else:
            self.text.set_marks(Mark.FIND, [m for m in self._matches if m is not current])
            self.text.set_marks(Mark.FIND_CURRENT, [current] if current else [])
            if current is not None:
                self.text.scroll_to_span(current)

    @Slot()
    def _on_find_closed(self) -> None:
        self._matches, self._match_index, self._last_find = [], -1, ""
        self._show_matches()
        self.focus_view()
