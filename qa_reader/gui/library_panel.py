"""The library sidebar: every document with its status (indexing with progress, ready, scanned pages
without text, failed with the reason, missing), opened with Enter and removed with Delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from qa_reader.gui.layout import column
from qa_reader.types import DocumentRecord, DocumentStatus, FailureReason, LibraryEntry

RowRole = Qt.ItemDataRole.UserRole + 1
_PADDING = 7

_STAGES = {"reading": "Reading the file", "passages": "Preparing passages", "ready": "Ready", "unchanged": "Ready"}


def path_key(path: str | Path) -> str:
    """The absolute path the engine files a document under."""
    return str(Path(path).expanduser().resolve())


class RowStatus(StrEnum):
    """What a sidebar line says of its file (its dot's colour, and its accessible text)."""

    WAITING = "waiting"
    INDEXING = "indexing"
    READY = "ready"
    PARTIAL = "partial"  # some pages are scanned, without text
    STALE = "stale"  # changed on disk, being indexed again
    SCANNED = "scanned"  # failed: no text layer at all
    FAILED = "failed"
    MISSING = "missing"

    @property
    def searchable(self) -> bool:
        return self in (RowStatus.READY, RowStatus.PARTIAL, RowStatus.STALE)

    @property
    def busy(self) -> bool:
        """Whether the file is waiting or being indexed."""
        return self in (RowStatus.WAITING, RowStatus.INDEXING)


@dataclass(frozen=True)
class LibraryRow:
    """One line of the sidebar."""

    path: str
    title: str
    status: RowStatus
    detail: str  # the second line: pages, the reason of a failure, the indexing stage
    progress: float = -1.0  # 0..1 while indexing, else -1
    document_id: int | None = None

    @property
    def searchable(self) -> bool:
        return self.document_id is not None and self.status.searchable


def row_for(record: DocumentRecord, stale: bool = False, missing: bool = False) -> LibraryRow:
    """The sidebar line of a library record: its status and reason code decide, never the wording of its
    message."""
    if missing:
        status, detail = RowStatus.MISSING, "The file was moved or deleted."
    elif record.status is DocumentStatus.FAILED:
        status = RowStatus.SCANNED if record.reason is FailureReason.SCANNED else RowStatus.FAILED
        detail = record.error or "It could not be read."
    elif stale:
        status, detail = RowStatus.STALE, "Changed on disk; indexing again…"
    else:
        pages = f"{record.page_count} page{'s' if record.page_count != 1 else ''}"
        status, detail = RowStatus(record.status.value), f"{record.format.upper()} · {pages}"
        if record.status is DocumentStatus.PARTIAL:
            detail += " · " + scanned_pages_detail(record.scanned_pages)
    return LibraryRow(record.path, record.title, status, detail, -1.0, record.id)


def scanned_pages_detail(page_indexes: Sequence[int], shown: int = 5) -> str:
    """Which pages of a partly scanned PDF have no text, in a few words."""
    if not page_indexes:
        return "some pages are scanned, without text"
    numbers = ", ".join(str(index + 1) for index in page_indexes[:shown]) + ("…" if len(page_indexes) > shown else "")
    if len(page_indexes) == 1:
        return f"page {numbers} is scanned, without text"
    return f"pages {numbers} are scanned, without text"


_STATUS_COLOURS = {
    RowStatus.WAITING: QColor(150, 150, 150),
    RowStatus.INDEXING: QColor(52, 120, 220),
    RowStatus.READY: QColor(46, 160, 67),
    RowStatus.PARTIAL: QColor(210, 153, 34),
    RowStatus.STALE: QColor(210, 153, 34),
    RowStatus.SCANNED: QColor(160, 110, 200),
    RowStatus.FAILED: QColor(207, 60, 50),
    RowStatus.MISSING: QColor(150, 150, 150),
}


class _LibraryDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        line = option.fontMetrics.height()
        return QSize(120, 2 * line + 2 * _PADDING + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        row: LibraryRow = index.data(RowRole)
        palette = option.palette
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = QColor(text_colour)
        dim.setAlpha(165)
        line = option.fontMetrics.height()
        dot = QRectF(rect.left() + _PADDING, rect.top() + _PADDING + line / 2 - 4, 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_STATUS_COLOURS.get(row.status, QColor(150, 150, 150)))
        painter.drawEllipse(dot)

        left = dot.right() + 8
        width = rect.right() - left - _PADDING
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(text_colour)
        metrics = painter.fontMetrics()
        title = metrics.elidedText(row.title, Qt.TextElideMode.ElideRight, int(width))
        painter.drawText(QRectF(left, rect.top() + _PADDING, width, line), Qt.AlignmentFlag.AlignVCenter, title)

        painter.setFont(option.font)
        painter.setPen(dim)
        second = QRectF(left, rect.top() + _PADDING + line + 4, width, line)
        if row.progress >= 0:
            bar = QRectF(second.left(), second.center().y() - 3, min(90.0, width * 0.4), 6)
            track = QColor(text_colour)
            track.setAlpha(45)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(bar, 3, 3)
            filled = QRectF(bar)
            filled.setWidth(max(3.0, bar.width() * min(1.0, row.progress)))
            painter.setBrush(_STATUS_COLOURS[RowStatus.INDEXING])
            painter.drawRoundedRect(filled, 3, 3)
            painter.setPen(dim)
            second.setLeft(bar.right() + 6)
        detail = painter.fontMetrics().elidedText(row.detail, Qt.TextElideMode.ElideRight, int(second.width()))
        painter.drawText(second, Qt.AlignmentFlag.AlignVCenter, detail)
        painter.restore()


class _LibraryList(QListWidget):
    removeRequested = Signal()
    openRequested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.removeRequested.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.openRequested.emit()
            return
        super().keyPressEvent(event)


class LibraryPanel(QWidget):
    """The documents of the library; `opened` when one is chosen, `removeRequested` on Delete."""

    opened = Signal(int)  # document id
    removeRequested = Signal(int)  # document id
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("Library", self)
        self.heading.setObjectName("panelHeading")
        self.heading.setContentsMargins(10, 8, 10, 6)
        self.list = _LibraryList(self)
        self.list.setItemDelegate(_LibraryDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAccessibleName("Library documents")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        column(self, self.heading, self.list)
        self.list.itemActivated.connect(self._on_item_activated)
        self.list.itemClicked.connect(self._on_item_activated)
        self.list.openRequested.connect(self._on_open_current)
        self.list.removeRequested.connect(self._on_remove_current)
        self.list.customContextMenuRequested.connect(self._on_context_menu)

    # --- rows -------------------------------------------------------------------------------------------

    def rows(self) -> list[LibraryRow]:
        return [self.list.item(i).data(RowRole) for i in range(self.list.count())]

    def row(self, path: str) -> LibraryRow | None:
        item = self._item(path)
        return item.data(RowRole) if item is not None else None

    def row_by_id(self, document_id: int) -> LibraryRow | None:
        return next((row for row in self.rows() if row.document_id == document_id), None)

    def _item(self, path: str) -> QListWidgetItem | None:
        key = path_key(path)
        for index in range(self.list.count()):
            item = self.list.item(index)
            if item.data(RowRole).path == key:
                return item
        return None

    def _put(self, row: LibraryRow) -> None:
        item = self._item(row.path)
        if item is None:
            item = QListWidgetItem()
            self.list.addItem(item)
        item.setData(RowRole, row)
        item.setText(f"{row.title}, {row.status}: {row.detail}")
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{row.title}. {row.status}. {row.detail}")
        item.setToolTip(f"{row.path}\n{row.detail}")
        self._update_heading()

    def _update_heading(self) -> None:
        count = sum(1 for row in self.rows() if row.document_id is not None)
        self.heading.setText(f"<b>Library</b> <span style='color:gray'>· {count}</span>")

    def set_entries(self, entries: list[LibraryEntry]) -> None:
        """Show the library as listed by the engine, keeping the lines of files still being indexed."""
        pending = [row for row in self.rows() if row.status.busy]
        listed = {entry.record.path for entry in entries}
        current = self.current_row()
        self.list.clear()
        for entry in entries:
            row = row_for(entry.record, entry.stale, entry.missing)
            self._put(row)
        for row in pending:
            if row.path in listed:
                self._put(replace(self.row(row.path), status=row.status, detail=row.detail, progress=row.progress))
            else:
                self._put(row)
        if current is not None:
            self.select_path(current.path)
        self._update_heading()

    def mark_waiting(self, path: str) -> None:
        key = path_key(path)
        existing = self.row(key)
        title = existing.title if existing is not None else Path(key).name
        document_id = existing.document_id if existing is not None else None
        self._put(LibraryRow(key, title, RowStatus.WAITING, "Waiting to be indexed", 0.0, document_id))

    def set_progress(self, path: str, stage: str, fraction: float) -> None:
        key = path_key(path)
        existing = self.row(key)
        title = existing.title if existing is not None else Path(key).name
        document_id = existing.document_id if existing is not None else None
        detail = f"{_STAGES.get(stage, stage.capitalize())}… {fraction:.0%}"
        self._put(LibraryRow(key, title, RowStatus.INDEXING, detail, fraction, document_id))

    def set_record(self, record: DocumentRecord) -> None:
        self._put(row_for(record))

    def mark_failed(self, path: str, message: str) -> None:
        """Show at once that a file could not be indexed, and why (the library's own listing, which follows,
        tells a scanned file from other failures)."""
        key = path_key(path)
        existing = self.row(key)
        title = existing.title if existing is not None else Path(key).name
        document_id = existing.document_id if existing is not None else None
        self._put(LibraryRow(key, title, RowStatus.FAILED, message, -1.0, document_id))

    def drop_pending(self, path: str) -> None:
        """Forget a file whose indexing was cancelled or failed before it reached the library."""
        item = self._item(path)
        if item is None:
            return
        row: LibraryRow = item.data(RowRole)
        if row.document_id is None:
            self.list.takeItem(self.list.row(item))
        elif row.status.busy:
            kept = "Indexing cancelled; the earlier version is kept."
            self._put(replace(row, status=RowStatus.READY, detail=kept, progress=-1))
        self._update_heading()

    def remove_document(self, document_id: int) -> None:
        for index in range(self.list.count()):
            if self.list.item(index).data(RowRole).document_id == document_id:
                self.list.takeItem(index)
                break
        self._update_heading()

    # --- selection --------------------------------------------------------------------------------------

    def current_row(self) -> LibraryRow | None:
        item = self.list.currentItem()
        return item.data(RowRole) if item is not None else None

    def select_path(self, path: str) -> None:
        item = self._item(path)
        if item is not None:
            self.list.setCurrentItem(item)

    def select_document(self, document_id: int) -> None:
        for index in range(self.list.count()):
            item = self.list.item(index)
            if item.data(RowRole).document_id == document_id:
                self.list.blockSignals(True)
                self.list.setCurrentItem(item)
                self.list.blockSignals(False)
                return

    @Slot(QListWidgetItem)
    def _on_item_activated(self, item: QListWidgetItem) -> None:
        row: LibraryRow = item.data(RowRole)
        if row.searchable:
            self.opened.emit(row.document_id)

    @Slot()
    def _on_open_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._on_item_activated(item)

    @Slot()
    def _on_remove_current(self) -> None:
        row = self.current_row()
        if row is not None and row.document_id is not None:
            self.removeRequested.emit(row.document_id)

    @Slot(QPoint)
    def _on_context_menu(self, position: QPoint) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        row: LibraryRow = item.data(RowRole)
        menu = QMenu(self)
        open_action = menu.addAction("Open")
        open_action.setEnabled(row.searchable)
        remove_action = menu.addAction("Remove from library")
        remove_action.setEnabled(row.document_id is not None and not row.status.busy)
        cancel_action = menu.addAction("Cancel indexing")
        cancel_action.setEnabled(row.status.busy)
        chosen = menu.exec(self.list.viewport().mapToGlobal(position))
        if chosen is open_action:
            self.opened.emit(row.document_id)
        elif chosen is remove_action:
            self.removeRequested.emit(row.document_id)
        elif chosen is cancel_action:
            self.cancelRequested.emit()
