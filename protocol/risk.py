"""Risk states and the kill switch."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class TradingState(Enum):
    NORMAL = "normal"
    REDUCE_ONLY = "reduce_only"
    HALTED = "halted"


class KillReason(Enum):
    """A fixed set, so it can label metrics."""

    MAX_DRAWDOWN = "max_drawdown"
    SESSION_LOSS = "session_loss"
    DAILY_LOSS = "daily_loss"
    MAX_POSITION = "max_position"
    LOSS_STREAK = "loss_streak"
    STALE_FEED = "stale_feed"
    RESTART_INTENSITY = "restart_intensity"
    REJECTION_STORM = "rejection_storm"
    OPERATOR = "operator"
    MAX_GROSS_EXPOSURE = "max_gross_exposure"
    MAX_NET_EXPOSURE = "max_net_exposure"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskStateChanged:
    state: TradingState
    reason: str
    ts_local: int
    coin: str | None = None
    """The coin it applies to; None: every coin (the only case with one coin)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitchTripped:
    reason: KillReason
    detail: str
    flatten: bool
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistedRisk:
    """What the risk guardian carries across restarts (one row in the journal).

    ``equity`` is the PnL of every session so far (realized + unrealized − fees), so
    the high-water mark and the day's loss continue where the last process left them.
    """

    day: str
    """The UTC day ``day_pnl`` belongs to, ``YYYY-MM-DD``."""
    day_pnl: Decimal
    peak_equity: Decimal
    equity: Decimal
    loss_streak: int
    last_trip_reason: str
    last_trip_ns: int
    updated_ns: int
