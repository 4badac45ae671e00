"""Restart intensity: OTP's ``add_restart``, on a monotonic clock with sub-second resolution."""

from __future__ import annotations


class RestartIntensity:
    """At most ``max_restarts`` restarts in any ``period_s`` window, counted per supervisor.

    On each restart, timestamps older than ``now - period_s`` are dropped (one exactly at
    that boundary is kept, as in OTP), ``now`` is added, and the restart is allowed while
    the count is ``<= max_restarts``. With ``max_restarts=0`` the first restart gives up.
    """

    def __init__(self, *, max_restarts: int, period_s: float) -> None:
        if max_restarts < 0:
            raise ValueError(f"max_restarts must be >= 0, got {max_restarts}")
        if period_s <= 0:
            raise ValueError(f"period_s must be > 0, got {period_s}")
        self.max_restarts = max_restarts
        self.period_s = period_s
        # Replaced, never mutated: other threads read it without a lock.
        self._timestamps: tuple[float, ...] = ()

    def add_restart(self, now: float) -> bool:
        """Count one restart at ``now``; False when that exceeds the intensity (give up)."""
        threshold = now - self.period_s
        kept = tuple(ts for ts in self._timestamps if ts >= threshold)
        self._timestamps = (now, *kept)
        return len(self._timestamps) <= self.max_restarts

    def count(self, now: float) -> int:
        """Restarts inside the window ending at ``now``."""
        threshold = now - self.period_s
        return sum(1 for ts in self._timestamps if ts >= threshold)
