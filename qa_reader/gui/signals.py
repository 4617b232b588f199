"""`emit(signal, *args)`: Signal.emit with a guard for PySide6 builds whose emit() returns True without
taking a reference to it (seen in PySide6 6.12 on Python 3.11).

With such a build every emit() from Python drops one reference to True; True is an ordinary object before
Python 3.12, so after a few thousand signals the interpreter aborts with "deallocating True or False". The
guard measures the running PySide6 once at import and gives the reference back only where it is lost.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 8
_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    probed = Signal()


def _emit_loses_true() -> bool:
    """Emit a few signals and see whether True lost exactly one reference each (and give them back)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.probed.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):
        _incref(True)
    return lost == _PROBES


EMIT_LOSES_TRUE = _emit_loses_true()


def emit(signal: SignalInstance, *args: object) -> None:
    """Emit `signal` with `args`, keeping True's reference count right on affected PySide6 builds."""
    signal.emit(*args)
    if EMIT_LOSES_TRUE:
        _incref(True)
