"""Seeing inside a running makerd: SIGUSR1 dumps every thread's stack and trading goes on;
SIGABRT (systemd's watchdog) dumps them and aborts, and always dies of SIGABRT.

The stacks are read on the main thread holding the GIL. Read from inside the signal handler
instead, as faulthandler does, a dump races threads that are returning from calls, and a
few in a hundred ended in SIGSEGV: the churn test below is that race, made frequent.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.processes import MakerdProcess, write_config

DUMP_HEADER = "the stack of every thread"
CHURNING_CHILD = textwrap.dedent(
    """
    import threading
    from makerd.daemon.signals import SignalFlags

    flags = SignalFlags()
    flags.install()

    def deep(depth):
        return 0 if depth == 0 else deep(depth - 1) + 1

    def churn():
        while True:
            deep(200)
            worker = threading.Thread(target=deep, args=(50,))
            worker.start()
            worker.join()

    for _ in range(6):
        threading.Thread(target=churn, daemon=True).start()
    print("up", flush=True)
    while not flags.stop.wait(0.1):  # makerd's main thread wakes this often too
        pass
    """
)


def test_sigusr1_dumps_every_thread_and_trading_goes_on(tmp_path: Path) -> None:
    config = write_config(tmp_path / "fast-status.yaml", {"status_interval_s": 0.5})
    args = ["run", "--config", str(config), "--duration", "120", "--metrics-port", "0"]
    makerd = MakerdProcess(args, cwd=tmp_path)
    makerd.wait_for(r"metrics on http://")
    makerd.wait_for(r"makerd sim BTC \|")
    dumps = 5
    for _ in range(dumps):
        makerd.signal(signal.SIGUSR1)
        makerd.wait_for(rf"SIGUSR1: {DUMP_HEADER}")
    makerd.wait_for(r"makerd sim BTC \|")  # still quoting after the dumps
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == 0, makerd.text[-3000:]
    threads_per_dump = makerd.text.count("Thread 0x") / dumps
    assert threads_per_dump > 5, "a dump showed the current thread only"  # actors, venue, main


def test_sigabrt_under_thread_churn_always_dies_of_sigabrt_after_a_full_dump(
    tmp_path: Path,
) -> None:
    endings = []
    for _ in range(30):
        child = subprocess.Popen(
            [sys.executable, "-c", CHURNING_CHILD],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "up\n"
        child.send_signal(signal.SIGABRT)
        _, stderr = child.communicate(timeout=30)
        # Other threads appear as "Thread 0x..." (the main thread as "Current thread").
        endings.append((child.returncode, DUMP_HEADER in stderr, "\nThread 0x" in stderr))

    assert set(endings) == {(-signal.SIGABRT, True, True)}, endings
