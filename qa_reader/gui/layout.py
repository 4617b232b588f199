"""How the window's panels are laid out: a column of widgets, edge to edge, one of which takes the height."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget


def column(parent: QWidget, header: QWidget, body: QWidget, *footers: QWidget) -> QVBoxLayout:
    """Lay `header`, `body` (which takes the height left over) and `footers` one under the other in `parent`,
    without margins or spacing; returns the layout."""
    layout = QVBoxLayout(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(header)
    layout.addWidget(body, 1)
    for footer in footers:
        layout.addWidget(footer)
    return layout
