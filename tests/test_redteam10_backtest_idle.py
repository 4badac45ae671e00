"""``--reader auto`` judges the cores idle now, by a short sample of the kernel's CPU time
counters, among the cores the process may use: busy cores are seen at once (the one-minute
load average saw them a minute late), and a process held to one core never reads ahead.
Real processes, the real ``/proc/stat``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from makerd.venues.replay.ahead import IDLE_CORES, SMALL_INPUT_BYTES, choose_reader
from makerd.venues.replay.idle_cores import PROC_STAT, cpu_times, idle_between, idle_cores

STAT_BEFORE = """cpu  324473 0 39780 196236 880 0 1298 459 0 0
cpu0 151234 0 19852 109212 302 0 555 232 0 0
cpu1 173238 0 19928 87024 577 0 743 226 0 0
intr 2932878 0 0 0
ctxt 7629416
"""
STAT_AFTER = """cpu  324493 0 39780 196256 880 0 1298 459 0 0
cpu0 151234 0 19852 109232 302 0 555 232 0 0
cpu1 173258 0 19928 87024 577 0 743 226 0 0
intr 2932999 0 0 0
ctxt 7629999
"""
"""Twenty ticks later: cpu0 idle throughout, cpu1 busy throughout."""


def test_one_idle_and_one_busy_cpu_make_one_idle_core() -> None:
    before, after = cpu_times(STAT_BEFORE), cpu_times(STAT_AFTER)

    assert before[0] == (109_212 + 302, 151_234 + 19_852 + 109_212 + 302 + 555 + 232)
    assert idle_between(before, after, {0, 1}) == 1.0
    assert idle_between(before, after, {0}) == 1.0
    assert idle_between(before, after, {1}) == 0.0
    assert idle_between(before, before, {0, 1}) == 0.0, "no tick passed: nothing known idle"


@pytest.fixture
def every_core_busy() -> Iterator[None]:
    """One spinning process per core this process may use, stopped after the test."""
    cores = len(os.sched_getaffinity(0))
    spin = "import sys; print('spinning', flush=True)\nwhile True: pass"
    spinners = [
        subprocess.Popen([sys.executable, "-c", spin], stdout=subprocess.PIPE, text=True)
        for _ in range(cores)
    ]
    try:
        for spinner in spinners:
            assert spinner.stdout is not None
            assert spinner.stdout.readline() == "spinning\n"
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


@pytest.mark.skipif(not PROC_STAT.is_file(), reason="no /proc/stat: the load average answers")
@pytest.mark.usefixtures("every_core_busy")
def test_cores_busy_now_are_seen_at_once_and_the_replay_reads_inline() -> None:
    assert idle_cores() < IDLE_CORES
    assert choose_reader("auto", input_bytes=SMALL_INPUT_BYTES).ahead is False


@pytest.mark.skipif(not PROC_STAT.is_file(), reason="no /proc/stat: the load average answers")
def test_a_process_held_to_one_core_counts_that_core_alone() -> None:
    held = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "from makerd.venues.replay.ahead import SMALL_INPUT_BYTES, choose_reader\n"
        "from makerd.venues.replay.idle_cores import idle_cores\n"
        "print(idle_cores(), choose_reader('auto', input_bytes=SMALL_INPUT_BYTES).ahead)"
    )

    done = subprocess.run(
        [sys.executable, "-c", held], capture_output=True, text=True, check=True, timeout=60
    )

    idle, reads = done.stdout.split()
    assert 0.0 <= float(idle) <= 1.0
    assert reads == "False"
