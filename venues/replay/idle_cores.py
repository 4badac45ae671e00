"""How many of the cores this process may run on are idle now: a short sample of the
kernel's CPU time counters, for ``--reader auto``.

The one-minute load average it replaces lags by about a minute: a backtest started
right after another (a sweep of seeds) saw the last one's load and read in its own
process on an idle machine, and one started just as other work began saw the quiet
minute before. Linux counts each CPU's idle time in ``/proc/stat``; two readings a
fifth of a second apart say how much of each CPU allowed to this process (its affinity)
nobody used meanwhile. Where there is no ``/proc/stat``, the load average still answers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SAMPLE_S = 0.2
"""The sample's length: 20 clock ticks of each CPU at the kernel's usual 100 Hz, enough
to tell an idle core from a busy one, short beside a backtest's start."""
PROC_STAT = Path("/proc/stat")

CpuTimes = dict[int, tuple[int, int]]
"""Each CPU's (idle, total) time in clock ticks, by its number."""


def idle_cores(*, sample_s: float = SAMPLE_S, stat: Path = PROC_STAT) -> float:
    """Idle cores among those this process may use, over the next ``sample_s`` seconds."""
    allowed = _allowed_cpus()
    try:
        before = cpu_times(stat.read_text(encoding="ascii"))
        time.sleep(sample_s)
        after = cpu_times(stat.read_text(encoding="ascii"))
    except OSError:  # not Linux: the load average, lagging as it is
        return _idle_by_load(len(allowed) if allowed else os.cpu_count() or 1)
    return idle_between(before, after, allowed or set(after))


def idle_between(before: CpuTimes, after: CpuTimes, cpus: set[int]) -> float:
    """Idle cores among ``cpus`` between two readings of :func:`cpu_times`."""
    counted = cpus & before.keys() & after.keys()
    idle = sum(after[cpu][0] - before[cpu][0] for cpu in counted)
    total = sum(after[cpu][1] - before[cpu][1] for cpu in counted)
    # No tick passed (a sample shorter than a tick): nothing known, so nothing idle.
    return len(counted) * idle / total if total > 0 else 0.0


def cpu_times(text: str) -> CpuTimes:
    """Each CPU's idle (idle + iowait) and total time from ``/proc/stat``'s ``cpuN`` lines."""
    times: CpuTimes = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if not (name.startswith("cpu") and name[3:].isdigit()):
            continue
        # user nice system idle iowait irq softirq steal (guest time is within user)
        ticks = [int(field) for field in rest.split()[:8]]
        times[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))
    return times


def _allowed_cpus() -> set[int]:
    affinity = getattr(os, "sched_getaffinity", None)
    return set(affinity(0)) if affinity is not None else set()


def _idle_by_load(cores: int) -> float:
    try:
        return cores - os.getloadavg()[0]
    except OSError:  # not known either: assume the machine is busy
        return 0.0
