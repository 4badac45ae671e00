"""A makerd process's wall clock, stepped at will, as NTP steps a host's.

Stepping the machine's own clock would step every process on it, the local venue (the
exchange's clock) and the test among them, so only the makerd process reads a stepped
clock: a ``sitecustomize`` on its ``PYTHONPATH`` makes ``time.time()`` and
``time.time_ns()`` add the offset a file holds. The monotonic clock stays the real one, as
on a host NTP steps. A makerd restarted by the same test reads the same file: one host,
one clock.
"""

from __future__ import annotations

from pathlib import Path

HOST_CLOCK = '''
"""The host's wall clock, stepped by a test (tests/faults/host_clock.py)."""
import os
import time

_PATH = os.environ["MAKERD_TEST_CLOCK_OFFSET_FILE"]
_real_ns, _monotonic_ns = time.time_ns, time.monotonic_ns
_offset = [0, -(10**18)]  # the offset in ns; when it was read (monotonic ns)


def _offset_ns():
    now = _monotonic_ns()
    if now - _offset[1] > 20_000_000:  # read the file at most every 20 ms
        _offset[1] = now
        try:
            with open(_PATH) as held:
                _offset[0] = int(float(held.read()) * 1e9)
        except (OSError, ValueError):
            pass
    return _offset[0]


time.time_ns = lambda: _real_ns() + _offset_ns()
time.time = lambda: (_real_ns() + _offset_ns()) / 1e9
'''


class SteppedClock:
    """The environment that gives a makerd process a wall clock this object steps."""

    def __init__(self, directory: Path, *, offset_s: int = 0) -> None:
        self._path = directory / "clock-offset"
        site = directory / "host-clock"
        site.mkdir()
        (site / "sitecustomize.py").write_text(HOST_CLOCK)
        self.env = {"PYTHONPATH": str(site), "MAKERD_TEST_CLOCK_OFFSET_FILE": str(self._path)}
        self.offset_s = offset_s
        self.set(offset_s)

    def set(self, offset_s: int) -> None:
        """Step the clock to ``offset_s`` from the real time (written whole, then renamed)."""
        partial = self._path.with_suffix(".partial")
        partial.write_text(str(offset_s))
        partial.replace(self._path)
        self.offset_s = offset_s
