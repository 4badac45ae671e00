"""Small builders for tests: real protocol messages with readable defaults."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from makerd.protocol.account import Liquidity, OrderFilled, PositionChanged
from makerd.protocol.control import OperatorAction, OperatorCommandApplied
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookLevel, BookSnapshotReceived, BookUpdated
from makerd.protocol.orders import QuoteLevel, QuoteTarget
from makerd.protocol.risk import TradingState
from makerd.protocol.side import Side

BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
S = 1_000_000_000
STALE_AFTER_NS = 5 * S
"""``feed.stale_after_s``'s default: the oldest book a quoter built here prices from."""


def d(value: str | int) -> Decimal:
    return Decimal(value)


def book(bid: str, ask: str, *, ts: int = T0, depth: int = 5, size: str = "1") -> BookUpdated:
    tick = d(1)
    bids = tuple(BookLevel(price=d(bid) - i * tick, size=d(size)) for i in range(depth))
    asks = tuple(BookLevel(price=d(ask) + i * tick, size=d(size)) for i in range(depth))
    return BookUpdated(coin="BTC", bids=bids, asks=asks, ts_exchange=ts, ts_local=ts)


def snapshot(bid: str, ask: str, *, ts: int = T0) -> BookSnapshotReceived:
    updated = book(bid, ask, ts=ts)
    return BookSnapshotReceived(
        coin="BTC", bids=updated.bids, asks=updated.asks, ts_exchange=ts, ts_local=ts
    )


def target(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], *, ts: int = T0
) -> QuoteTarget:
    return QuoteTarget(
        coin="BTC",
        bids=tuple(QuoteLevel(price=d(p), size=d(s)) for p, s in bids),
        asks=tuple(QuoteLevel(price=d(p), size=d(s)) for p, s in asks),
        book_ts_local=ts,
        ts_local=ts,
    )


def fill(
    trade_id: str,
    side: Side,
    price: str,
    size: str,
    *,
    fee: str = "0",
    cloid: str | None = None,
    ts: int = T0,
) -> OrderFilled:
    return OrderFilled(
        trade_id=trade_id,
        cloid=cloid,
        venue_order_id=0,
        coin="BTC",
        side=side,
        price=d(price),
        size=d(size),
        fee=d(fee),
        liquidity=Liquidity.MAKER,
        ts_exchange=ts,
        ts_local=ts,
    )


def position(
    pos: str,
    *,
    realized: str = "0",
    unrealized: str = "0",
    fees: str = "0",
    mark: str = "60000",
    ts: int = T0,
) -> PositionChanged:
    return PositionChanged(
        coin="BTC",
        position=d(pos),
        average_entry=d(mark),
        realized_pnl=d(realized),
        unrealized_pnl=d(unrealized),
        fees_paid=d(fees),
        mark=d(mark),
        ts_local=ts,
    )


T = TypeVar("T")


def of_type(messages: list[object], kind: type[T]) -> list[T]:
    return [m for m in messages if isinstance(m, kind)]


def operator_applied(
    action: OperatorAction = OperatorAction.PAUSE,
    *,
    paused: bool = True,
    coin: str = "BTC",
    request_id: int = 1,
) -> OperatorCommandApplied:
    """An order manager's answer to an operator command that touched no order."""
    return OperatorCommandApplied(
        request_id=request_id,
        coin=coin,
        action=action,
        paused=paused,
        was_paused=not paused,
        cancelled=0,
        position=Decimal(0),
        flatten_order=None,
        risk_state=TradingState.NORMAL,
        ts_local=T0,
    )
