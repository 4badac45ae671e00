"""The price band: a mid that moves too far too fast pauses quoting for a while.

A jump of several percent in seconds is news, a broken feed or a liquidation cascade;
quotes priced a moment ago are stale in any of them. The band keeps the highest and
lowest mid of the last ``window_s`` seconds (market time, ``ts_exchange``); when they
are more than ``pct`` percent apart, quoting pauses for ``pause_s`` seconds (local time,
the clock the guardian's timer runs on). Mids keep being watched during a pause, so a
market still moving at its end pauses again at once; one that settled resumes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from makerd.protocol.clock import stepped_back

NS_PER_S = 1_000_000_000
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class BandSettings:
    pct: Decimal
    """0 turns the band off."""
    window_s: float
    pause_s: float


class PriceBand:
    """Running window minimum and maximum (monotonic deques) and the pause deadline."""

    def __init__(self) -> None:
        self._lows: deque[tuple[int, Decimal]] = deque()
        self._highs: deque[tuple[int, Decimal]] = deque()
        self._paused_since_ns = 0
        self._paused_until_ns = 0

    def paused(self, now_ns: int) -> bool:
        # Long before the pause began: the host's clock stepped back, and the pause is
        # over rather than stretched by the step (protocol.clock.still_waiting).
        return now_ns < self._paused_until_ns and not stepped_back(now_ns, self._paused_since_ns)

    def observe(
        self, mid: Decimal, *, ts_exchange: int, ts_local: int, settings: BandSettings
    ) -> str | None:
        """Take one mid; return why quoting pauses when this mid starts a pause."""
        if settings.pct <= 0:
            self._lows.clear()
            self._highs.clear()
            return None
        self._push(mid, ts_exchange, int(settings.window_s * NS_PER_S))
        low, high = self._lows[0][1], self._highs[0][1]
        if low <= 0:
            return None  # the book feed passes only positive prices; nothing to judge
        move_pct = (high - low) / low * HUNDRED
        if move_pct <= settings.pct or self.paused(ts_local):
            return None
        self._paused_since_ns = ts_local
        self._paused_until_ns = ts_local + int(settings.pause_s * NS_PER_S)
        return (
            f"mid moved {move_pct:.2f}% ({low} to {high}) within {settings.window_s:g}s, "
            f"band {settings.pct}%: paused for {settings.pause_s:g}s"
        )

    def _push(self, mid: Decimal, ts_ns: int, window_ns: int) -> None:
        while self._lows and self._lows[-1][1] >= mid:
            self._lows.pop()
        while self._highs and self._highs[-1][1] <= mid:
            self._highs.pop()
        self._lows.append((ts_ns, mid))
        self._highs.append((ts_ns, mid))
        oldest = ts_ns - window_ns
        for extremes in (self._lows, self._highs):
            while extremes[0][0] < oldest:
                extremes.popleft()
