"""Deliberate failures for tests and drills, configured under ``faults:``; off by default.

They live in the shell, not in the logic: the state machines have no test branches.
"""

from __future__ import annotations

import threading

NS_PER_S = 1_000_000_000


class InjectedCrashError(RuntimeError):
    """Raised on purpose to exercise the supervisor."""


class FaultPlan:
    """Crash ``crash_role`` every ``crash_every_s``; hang ``hang_role`` once after a delay.

    Hanging only once lets a drill show the replacement working."""

    def __init__(
        self,
        *,
        crash_role: str | None = None,
        crash_every_s: float = 0.0,
        hang_role: str | None = None,
        hang_after_s: float = 0.0,
        start_ns: int = 0,
    ) -> None:
        self._crash_role = crash_role
        self._crash_every_ns = int(crash_every_s * NS_PER_S)
        self._hang_role = hang_role
        self._hang_at_ns = start_ns + int(hang_after_s * NS_PER_S)
        self._next_crash_ns = start_ns + self._crash_every_ns
        self._lock = threading.Lock()
        self._hung_once: set[str] = set()
        self.release = threading.Event()
        """Set to let hung handlers return (so a test process can exit)."""

    def before_message(self, role: str, now_ns: int) -> None:
        if role == self._crash_role and self._crash_every_ns > 0:
            with self._lock:
                due = now_ns >= self._next_crash_ns
                if due:
                    self._next_crash_ns = now_ns + self._crash_every_ns
            if due:
                raise InjectedCrashError(f"injected crash in {role}")
        if role == self._hang_role and now_ns >= self._hang_at_ns:
            with self._lock:
                first = role not in self._hung_once
                self._hung_once.add(role)
            if first:
                # Hang (until released): the watchdog must notice, the supervisor replace us.
                self.release.wait()
