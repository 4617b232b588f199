"""The emit() guard keeps True alive on PySide6 builds whose Signal.emit loses a reference to it."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from qa_reader.gui.signals import emit


class _Sender(QObject):
    sent = Signal(int)


def test_emit_leaves_the_reference_count_of_true_alone() -> None:
    sender = _Sender()
    received = []
    sender.sent.connect(received.append)
    before = sys.getrefcount(True)
    for number in range(2000):
        emit(sender.sent, number)
    # Unguarded, an affected build would have lost 2000 references; the interpreter may hold one or two more.
    assert abs(sys.getrefcount(True) - before) <= 2
    assert received == list(range(2000))
