"""Signal handling: handlers only set flags; the main thread does the work.

Two exceptions, both about seeing inside the process. SIGUSR1 writes every thread's stack
to stderr and carries on; SIGABRT (what systemd's watchdog sends) writes them and then
aborts. Both dumps run as Python handlers, on the main thread, holding the GIL, so no other
thread can push or pop a frame while its stack is read (the main thread wakes at least every
0.1 s, so a handler runs within that). faulthandler's own handlers read the other threads'
frames from inside the signal, while those threads run on: with six threads calling and
returning, 4 dumps in 100 read a freed frame and the process died of SIGSEGV instead. For
SIGUSR1 that was a crash of a trading process on an operator's request. faulthandler stays
enabled for the real crashes (SIGSEGV, SIGFPE, SIGBUS, SIGILL), where the process is lost
anyway. If the main thread itself is wedged, the SIGABRT handler never runs; the service's
``TimeoutAbortSec`` then ends the process with SIGKILL.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
from types import FrameType


class SignalFlags:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.stop_signal: str | None = None
        self.second_stop = threading.Event()

    def install(self) -> None:
        """Call from the main thread (Python only runs handlers there)."""
        faulthandler.enable(all_threads=True)
        signal.signal(signal.SIGABRT, _dump_stacks_and_abort)
        signal.signal(signal.SIGUSR1, _dump_stacks)
        self.catch()

    def catch(self) -> None:
        """Only the stop and reload signals: what ``makerd run`` does before its imports.

        Until then their default actions apply: SIGHUP ends the process, which systemd's
        ``Restart=on-failure`` counts as a clean exit (a reload during start-up left the
        service down), and SIGINT is a ``KeyboardInterrupt`` traceback.
        """
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def release(self) -> None:
        """Give those signals back their default actions (a command other than ``run``
        was caught early by mistake), acting on one caught meanwhile as they would have."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        if self.stop_signal is not None:
            signal.raise_signal(signal.Signals[self.stop_signal])
        if self.reload.is_set():
            signal.raise_signal(signal.SIGHUP)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop.is_set():
            self.second_stop.set()
        self.stop_signal = signal.Signals(signum).name
        self.stop.set()

    def _on_reload(self, _signum: int, _frame: FrameType | None) -> None:
        self.reload.set()


def _dump_stacks(signum: int, _frame: FrameType | None) -> None:
    sys.stderr.write(f"makerd: {signal.Signals(signum).name}: the stack of every thread\n")
    sys.stderr.flush()
    faulthandler.dump_traceback(all_threads=True)


def _dump_stacks_and_abort(signum: int, frame: FrameType | None) -> None:
    _dump_stacks(signum, frame)
    signal.signal(signal.SIGABRT, signal.SIG_DFL)
    os.abort()
