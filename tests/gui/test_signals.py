"""Guard for the PySide6 pin: 6.12.0 on Python 3.11 drops a reference to True on every Signal.emit()
from Python, and after a few thousand signals the interpreter aborts ("deallocating True or False").
pyproject.toml keeps PySide6 below 6.12; this fails if an affected build comes back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Sender(QObject):
    sent = Signal(int)


def test_emit_leaves_the_reference_count_of_true_alone() -> None:
    sender = _Sender()
    received = []
    sender.sent.connect(received.append)
    before = sys.getrefcount(True)
    for number in range(2000):
        sender.sent.emit(number)
    # An affected build loses 2000 references here; the interpreter may hold one or two more or fewer.
    assert abs(sys.getrefcount(True) - before) <= 2
    assert received == list(range(2000))
