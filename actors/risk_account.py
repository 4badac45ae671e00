"""The figures the risk limits are judged on, continued across restarts.

A session's ledger starts at zero; the account does not. ``equity`` is every session's
PnL so far, the high-water mark is the highest equity ever seen, and the day's PnL
belongs to a UTC day: a restart carries all three on from the journal, so a bot that
crash-loops cannot win back a fresh loss budget on every start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from makerd.protocol.risk import PersistedRisk

NS_PER_S = 1_000_000_000
S_PER_DAY = 86_400
ZERO = Decimal(0)


def utc_day(ts_ns: int) -> str:
    """The UTC date of ``ts_ns``, ``YYYY-MM-DD`` (named once a day: every position update
    asks, and POSIX time has exactly 86,400 seconds a day)."""
    return _day_named(ts_ns // NS_PER_S // S_PER_DAY)


@lru_cache(maxsize=4)
def _day_named(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * S_PER_DAY, tz=UTC).strftime("%Y-%m-%d")


class RiskAccount:
    def __init__(self, persisted: PersistedRisk | None) -> None:
        self._carried = persisted.equity if persisted else ZERO
        self.peak = persisted.peak_equity if persisted else ZERO
        self.day = persisted.day if persisted else ""
        self._day_before_session = persisted.day_pnl if persisted else ZERO
        self._session_pnl_at_day_start = ZERO
        self.loss_streak = persisted.loss_streak if persisted else 0
        self.last_trip_reason = persisted.last_trip_reason if persisted else ""
        self.last_trip_ns = persisted.last_trip_ns if persisted else 0
        self.session_pnl = ZERO
        self.session_peak = ZERO
        self.updated_ns = persisted.updated_ns if persisted else 0

    def update(self, session_pnl: Decimal, ts_ns: int) -> None:
        """Take the session's newest total PnL (realized + unrealized − fees)."""
        day = utc_day(ts_ns)
        if day != self.day:
            # A new UTC day: its budget starts from what the session has made so far.
            self.day = day
            self._day_before_session = ZERO
            self._session_pnl_at_day_start = self.session_pnl
        self.session_pnl = session_pnl
        self.session_peak = max(self.session_peak, session_pnl)
        self.peak = max(self.peak, self.equity)
        self.updated_ns = ts_ns

    @property
    def equity(self) -> Decimal:
        return self._carried + self.session_pnl

    @property
    def drawdown(self) -> Decimal:
        return self.peak - self.equity

    @property
    def day_pnl(self) -> Decimal:
        return self._day_before_session + self.session_pnl - self._session_pnl_at_day_start

    def record_trip(self, reason: str, ts_ns: int) -> None:
        self.last_trip_reason = reason
        self.last_trip_ns = ts_ns

    def snapshot(self) -> PersistedRisk:
        return PersistedRisk(
            day=self.day,
            day_pnl=self.day_pnl,
            peak_equity=self.peak,
            equity=self.equity,
            loss_streak=self.loss_streak,
            last_trip_reason=self.last_trip_reason,
            last_trip_ns=self.last_trip_ns,
            updated_ns=self.updated_ns,
        )
