"""Fills and positions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from makerd.protocol.side import Side


class Liquidity(Enum):
    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled:
    """A fill as the venue reported it; may arrive twice (replays, snapshots)."""

    trade_id: str
    cloid: str | None
    venue_order_id: int
    coin: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: Liquidity
    ts_exchange: int
    ts_local: int
    late: bool = False
    """Found by a repair query (downtime, reconnect, a bad push), not pushed live."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FillBooked:
    """A fill entered the journal exactly once, with what it did to the position."""

    fill: OrderFilled
    position_after: Decimal
    realized_pnl: Decimal
    ts_local: int
    off_lot_grid: bool = False
    """Its size is off the coin's lot grid: booked as the venue reported it, and counted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionChanged:
    coin: str
    position: Decimal
    average_entry: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees_paid: Decimal
    mark: Decimal
    ts_local: int
    funding: Decimal = Decimal(0)
    """Funding received (negative: paid) on the position, summed over booked payments."""
    carried_pnl: Decimal = Decimal(0)
    """The part of ``total_pnl`` booked before this session: a live account's ledger is
    rebuilt from every session's fills, so it carries the last figure the previous
    session published (sim and paper start from nothing: 0)."""

    @property
    def total_pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl - self.fees_paid + self.funding

    @property
    def session_pnl(self) -> Decimal:
        """What this session made: the total less what it carried in."""
        return self.total_pnl - self.carried_pnl


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingPaid:
    """One funding payment on the position, as the venue booked it; may arrive twice.

    ``amount`` is what the account received in USD (negative: it paid), charged at
    ``rate`` on ``position``. ``key`` names the payment (coin and funding time): the
    same payment from a push, a repair query or a replay carries the same key.
    """

    coin: str
    amount: Decimal
    rate: Decimal
    position: Decimal
    key: str
    ts_exchange: int
    ts_local: int


def funding_key(coin: str, time_ms: int) -> str:
    """A funding payment's identity: one per coin per funding time on an account."""
    return f"{coin}@{time_ms}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionReported:
    """The venue's own position, against which the journal is reconciled."""

    coin: str
    position: Decimal
    average_entry: Decimal
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairFills:
    """Ask the venue for every fill of the account at or after ``since_ns`` (exchange time).

    The venue retries until it has an answer; each fill comes back as an ordinary
    :class:`OrderFilled` marked ``late`` (the fill_tracker books each trade id once), then
    :class:`FillsRepaired`, then a fresh :class:`PositionReported`.
    """

    coin: str
    since_ns: int
    reason: str
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FillsRepaired:
    """Every fill up to ``through_ns`` (exchange time) has been delivered."""

    coin: str
    through_ns: int
    fills_found: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionMismatch:
    """The venue's position differs from the booked fills; ``action`` says what was done."""

    coin: str
    booked: Decimal
    venue: Decimal
    action: str
    """``repair`` (fills asked for again) or ``adjusted`` (an adjustment was booked)."""
    ts_local: int
