"""The peak resident size can be measured for one stretch of work, whatever came before it."""

import sys

import pytest

from qa_reader import memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM and clear_refs are Linux's")


def _touch(megabytes: int) -> bytearray:
    block = bytearray(megabytes << 20)
    block[::4096] = b"x" * len(block[::4096])  # every page written, so resident
    return block


def test_the_peak_counts_from_the_reset_not_from_an_earlier_larger_one() -> None:
    earlier = _touch(120)
    del earlier
    memory.release_free_memory()
    before = memory.reset_peak()
    block = _touch(40)
    grown_mb = (memory.peak_since_reset() - before) / 1024
    del block
    assert 35 <= grown_mb < 100  # the 40 MB block, not the 120 MB one before the reset
