"""Signal handling: handlers only set flags; the main thread does the work."""

from __future__ import annotations

import faulthandler
import signal
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
        faulthandler.enable()  # SIGABRT from systemd's watchdog dumps every thread's stack
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        faulthandler.register(signal.SIGUSR1, all_threads=True)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop.is_set():
            self.second_stop.set()
        self.stop_signal = signal.Signals(signum).name
        self.stop.set()

    def _on_reload(self, _signum: int, _frame: FrameType | None) -> None:
        self.reload.set()
