"""Hand memory that was freed back to the system once a large job is over.

Indexing a long PDF and reading many passages leave tens of megabytes freed but still mapped in glibc's
per-thread heaps (measured: 83 MB of a 440 MB app after a 247-page PDF and one question), which the
resident size keeps counting. `release_free_memory()` asks glibc to give it back (`malloc_trim`); on other
C libraries and systems it does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from functools import cache

log = logging.getLogger(__name__)


@cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: no library search, no subprocess
    except (OSError, AttributeError):  # musl and other C libraries have no malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return freed heap memory to the system where the C library allows it; True when it was asked."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> int | None:
    """Start measuring the process's peak resident size afresh (Linux: writing 5 to /proc/self/clear_refs
    resets VmHWM); the resident size now, in KiB, or None where the peak cannot be reset."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return None
    return _status_kb("VmRSS")


def peak_since_reset() -> int | None:
    """The peak resident size in KiB since `reset_peak` (VmHWM), or None where it is not kept."""
    return _status_kb("VmHWM")
