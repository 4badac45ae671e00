"""Client order ids: unique per process run, never reused after an actor restart."""

from __future__ import annotations

import itertools
import secrets
import threading


class CloidFactory:
    """``0x`` + 32 hex digits: a 64-bit run prefix, then a 64-bit counter.

    The factory outlives actor incarnations, so a restarted order_manager keeps counting.
    """

    def __init__(self, run_prefix: int | None = None) -> None:
        self._prefix = secrets.randbits(64) if run_prefix is None else run_prefix
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            n = next(self._counter)
        return f"0x{self._prefix:016x}{n:016x}"
