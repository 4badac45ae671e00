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
    MARGIN_RATIO = "margin_ratio"
    UNREALIZED_LOSS = "unrealized_loss"
    MAX_GROSS_EXPOSURE = "max_gross_exposure"
    MAX_NET_EXPOSURE = "max_net_exposure"


class RiskLimit(Enum):
    """A limit whose soft action (reduce-only quoting, or a pause) is in force."""

    POSITION = "position"
    POSITION_NOTIONAL = "position_notional"
    DRAWDOWN = "drawdown"
    SESSION_LOSS = "session_loss"
    DAILY_LOSS = "daily_loss"
    LOSS_STREAK = "loss_streak"
    MARGIN_RATIO = "margin_ratio"
    UNREALIZED_LOSS = "unrealized_loss"
    PRICE_BAND = "price_band"
    OPEN_INTEREST_CAP = "open_interest_cap"
    """The exchange refused an order for the coin's open-interest cap: reduce-only a while."""
    MARKET_HALT = "market_halt"
    """The exchange refused an order as its coin's trading is halted: halted a while."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskStateChanged:
    state: TradingState
    reason: str
    ts_local: int
    limits: tuple[RiskLimit, ...] = ()
    """The limits acting: near their hard limit (reduce-only) or the price band (halted
    for a while, no kill switch). Empty for a kill switch and for a return to normal."""
    coin: str | None = None
    """The coin it applies to; None: every coin (the only case with one coin)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginReported:
    """The account's margin as the venue sees it (live: ``clearinghouseState``)."""

    account_value: Decimal
    margin_used: Decimal
    ts_exchange: int
    ts_local: int

    @property
    def use(self) -> Decimal:
        """Margin used over account value: 0 with nothing used, 1 (or more) when the
        account is worth no more than the margin its positions need."""
        if self.margin_used <= 0:
            return Decimal(0)
        if self.account_value <= 0:
            return Decimal(1)
        return self.margin_used / self.account_value


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
