"""Hold a Linux CPU latency request for a benchmark's run (``/dev/cpu_dma_latency``).

Writing a latency in µs to that device, and keeping it open, asks the kernel to keep every
CPU in idle states that wake within that latency; the request ends when the file is closed,
by us or by the kernel when the process dies. ``0`` keeps idle CPUs polling instead of
halting. Benchmarks use it to show how much of a figure is the host waking its CPUs rather
than makerd's own work (docs/operations.md, "Latency and the host's idle states").

The request is global: it speeds every process on the machine, so a comparison run under
it (the bare client against makerd) stays fair.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEVICE = Path("/dev/cpu_dma_latency")


class CpuLatencyUnavailableError(Exception):
    """The request cannot be held here: not Linux, no such device, or not allowed."""


@contextmanager
def held_cpu_latency(max_us: int | None) -> Iterator[str]:
    """Hold ``max_us`` (None: hold nothing) for the ``with`` block; yields what is held,
    in words, for the benchmark's header."""
    if max_us is None:
        yield "no CPU latency request held (the host's own idle policy)"
        return
    try:
        device = DEVICE.open("wb", buffering=0)
    except OSError as error:
        raise CpuLatencyUnavailableError(f"cannot open {DEVICE}: {error.strerror}") from error
    with device:
        device.write(struct.pack("i", max_us))
        yield f"CPU latency request held at {max_us} µs ({DEVICE})"


def current_limit_us() -> int | None:
    """The limit every CPU honours now (the lowest request held), or None if unreadable."""
    try:
        raw = DEVICE.read_bytes()
    except OSError:
        return None
    return int(struct.unpack("i", raw[:4])[0]) if len(raw) >= 4 else None
