"""Pure parsers: decoded Hyperliquid JSON (REST ``/info`` and WS data) → protocol events.

Every parser takes the ``data`` payload (the WS frame's ``data`` or the REST body) and
the local receive time; venue times are unix ms and become integer ns. Anything that
does not have the documented shape raises :class:`FeedParseError` (never a bare
``KeyError``/``TypeError``) so the caller can count it and drop it.

Fill identity: the trade id is ``"{coin}:{tid}"``. Fills recorded before ``tid``
existed (the SDK's 2023 cassettes) fall back to ``"{coin}:{hash}:{oid}:{digest}"``,
where ``digest`` hashes the whole fill record: the transaction hash is shared by every
fill of one taker order, and in those recordings even ``startPosition`` repeats across
fills at one price. Records identical in every field within one response get ``#2``,
``#3``… in order of appearance, so re-reading the same history gives the same ids. A fill
seen once with and once without ``tid`` would get two ids; live feeds always carry
``tid``, so only old recordings use the fallback.

REST ``openOrders`` carries no server time, so its ``ts_exchange`` is the local time.

Validation happens here, before anything becomes a protocol message: decimals are plain
digit strings of bounded length (:class:`FrameLimits`), prices and the sizes of books,
trades and fills are positive, exchange times positive and not beyond the clock-skew
bound, books not crossed. A :class:`FrameGuard` adds the session's context: the coins
it trades and the price band around the last good mid. Every refusal is a
:class:`FeedParseError` whose ``reason`` names the check.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal

from makerd.protocol.account import Liquidity, OrderFilled
from makerd.protocol.market import DropReason, TradePrinted
from makerd.protocol.orders import OrderStatus
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.errors import (
    FeedParseError,
    order_status_for,
    reject_reason_for_status,
)
from makerd.venues.hyperliquid.fields import (
    JsonObject,
    as_list,
    as_object,
    read_decimal,
    read_int,
    read_optional_str,
    read_side,
    read_str,
    read_time_ns,
)
from makerd.venues.hyperliquid.limits import OPEN_GUARD, FrameGuard
from makerd.venues.hyperliquid.parse_account import (
    UserRateLimit,
    parse_margin,
    parse_open_orders,
    parse_open_orders_by_coin,
    parse_position,
    parse_positions,
    parse_user_rate_limit,
)
from makerd.venues.hyperliquid.parse_book import LevelCache, parse_bbo, parse_l2_book

_PRICE, _SIZE, _NUMBER = DropReason.BAD_PRICE, DropReason.BAD_SIZE, DropReason.BAD_NUMBER

__all__ = [
    "LevelCache",
    "OrderStatusReported",
    "UserFillsMessage",
    "UserRateLimit",
    "parse_bbo",
    "parse_fill",
    "parse_fills",
    "parse_l2_book",
    "parse_margin",
    "parse_open_orders",
    "parse_open_orders_by_coin",
    "parse_order_updates",
    "parse_position",
    "parse_positions",
    "parse_trades",
    "parse_user_fills_message",
    "parse_user_rate_limit",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFillsMessage:
    """One WS ``userFills`` frame; the first after subscribing is a backfill snapshot."""

    user: str
    is_snapshot: bool
    fills: tuple[OrderFilled, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusReported:
    """The venue's status for one order (``orderUpdates``, ``historicalOrders``).

    ``venue_status`` keeps the venue's name (``badAloPxRejected``, ``scheduledCancel``);
    ``status`` and ``reject_reason`` are its protocol meaning. ``size`` is what remains.
    """

    cloid: str | None
    venue_order_id: int
    coin: str
    side: Side
    price: Decimal
    size: Decimal
    original_size: Decimal | None
    status: OrderStatus
    venue_status: str
    reject_reason: RejectReason | None
    ts_exchange: int
    ts_local: int


def parse_trades(
    data: object, *, ts_local: int, ts_mono: int | None = None, guard: FrameGuard = OPEN_GUARD
) -> tuple[TradePrinted, ...]:
    """A ``trades`` frame; ``side`` is the aggressor's, the id ``"{coin}:{tid}"``."""
    channel = "trades"
    trades = []
    for item in as_list(data, channel, "data"):
        trade = as_object(item, channel)
        coin = read_str(trade, "coin", channel)
        guard.check_coin(coin, channel)
        price = read_decimal(trade, "px", channel, reason=_PRICE, guard=guard)
        guard.check_band(coin, (price,), ts_local, channel)
        trades.append(
            TradePrinted(
                coin=coin,
                side=read_side(trade, channel),
                price=price,
                size=read_decimal(trade, "sz", channel, reason=_SIZE, guard=guard),
                trade_id=f"{coin}:{read_int(trade, 'tid', channel)}",
                ts_exchange=read_time_ns(trade, "time", channel, guard=guard, ts_local=ts_local),
                ts_local=ts_local,
                ts_mono=ts_mono,
            )
        )
    return tuple(trades)


def parse_fills(
    data: object,
    *,
    ts_local: int,
    channel: str = "userFills",
    guard: FrameGuard = OPEN_GUARD,
    history: bool = False,
) -> tuple[OrderFilled, ...]:
    """A list of fills: REST ``userFills`` / ``userFillsByTime``, or ``userEvents.fills``.

    One impossible fill refuses the whole list (the caller asks the exchange again).
    ``history`` (a snapshot of past fills) skips the coin and band checks: the account's
    past may hold other coins, at prices from before the market moved.
    """
    fills = []
    fallback_ids: Counter[str] = Counter()
    for item in as_list(data, channel, "fills"):
        fill = parse_fill(item, ts_local=ts_local, channel=channel, guard=guard, history=history)
        if isinstance(item, dict) and "tid" not in item:
            fallback_ids[fill.trade_id] += 1
            if (occurrence := fallback_ids[fill.trade_id]) > 1:
                fill = replace(fill, trade_id=f"{fill.trade_id}#{occurrence}")
        fills.append(fill)
    return tuple(fills)


def parse_user_fills_message(
    data: object, *, ts_local: int, guard: FrameGuard = OPEN_GUARD
) -> UserFillsMessage:
    """A WS ``userFills`` frame; ``isSnapshot`` absent means a live (non-snapshot) update."""
    message = as_object(data, "userFills")
    is_snapshot = message.get("isSnapshot", False)
    if not isinstance(is_snapshot, bool):
        raise FeedParseError("userFills", "isSnapshot is not a boolean")
    return UserFillsMessage(
        user=read_str(message, "user", "userFills"),
        is_snapshot=is_snapshot,
        fills=parse_fills(
            message.get("fills"), ts_local=ts_local, guard=guard, history=is_snapshot
        ),
    )


def parse_fill(
    item: object,
    *,
    ts_local: int,
    channel: str = "userFills",
    guard: FrameGuard = OPEN_GUARD,
    history: bool = False,
) -> OrderFilled:
    """One fill; ``crossed`` means taker, ``fee`` keeps its sign (negative = rebate)."""
    fill = as_object(item, channel)
    coin = read_str(fill, "coin", channel)
    if not history:
        guard.check_coin(coin, channel)
    oid = read_int(fill, "oid", channel)
    crossed = fill.get("crossed")
    if not isinstance(crossed, bool):
        reason = DropReason.MISSING_FIELD if crossed is None else DropReason.BAD_FIELD
        raise FeedParseError(channel, "crossed is missing or not a boolean", reason)
    price = read_decimal(fill, "px", channel, reason=_PRICE, guard=guard)
    if not history:
        guard.check_band(coin, (price,), ts_local, channel)
    return OrderFilled(
        trade_id=_fill_trade_id(fill, coin, oid, channel),
        cloid=read_optional_str(fill, "cloid", channel),
        venue_order_id=oid,
        coin=coin,
        side=read_side(fill, channel),
        price=price,
        size=read_decimal(fill, "sz", channel, reason=_SIZE, guard=guard),
        fee=read_decimal(fill, "fee", channel, reason=_NUMBER, guard=guard, signed=True),
        liquidity=Liquidity.TAKER if crossed else Liquidity.MAKER,
        ts_exchange=read_time_ns(fill, "time", channel, guard=guard, ts_local=ts_local),
        ts_local=ts_local,
    )


def _fill_trade_id(fill: JsonObject, coin: str, oid: int, channel: str) -> str:
    if "tid" in fill:
        return f"{coin}:{read_int(fill, 'tid', channel)}"
    tx_hash = read_str(fill, "hash", channel)
    canonical = json.dumps(fill, sort_keys=True, separators=(",", ":"), default=str).encode()
    return f"{coin}:{tx_hash}:{oid}:{hashlib.sha256(canonical).hexdigest()[:16]}"


def parse_order_updates(
    data: object, *, ts_local: int, channel: str = "orderUpdates", guard: FrameGuard = OPEN_GUARD
) -> tuple[OrderStatusReported, ...]:
    """An ``orderUpdates`` frame or a ``historicalOrders`` body: one report per item.

    ``size`` (what remains) may be zero: a filled or cancelled order has none left.
    """
    reports = []
    for raw in as_list(data, channel, "data"):
        item = as_object(raw, channel)
        order = as_object(item.get("order"), channel)
        venue_status = read_str(item, "status", channel)
        original = order.get("origSz")
        reports.append(
            OrderStatusReported(
                cloid=read_optional_str(order, "cloid", channel),
                venue_order_id=read_int(order, "oid", channel),
                coin=read_str(order, "coin", channel),
                side=read_side(order, channel),
                price=read_decimal(order, "limitPx", channel, reason=_PRICE, guard=guard),
                size=read_decimal(order, "sz", channel, reason=_SIZE, guard=guard, allow_zero=True),
                original_size=None
                if original is None
                else read_decimal(order, "origSz", channel, reason=_SIZE, guard=guard),
                status=order_status_for(venue_status),
                venue_status=venue_status,
                reject_reason=reject_reason_for_status(venue_status),
                ts_exchange=read_time_ns(
                    item, "statusTimestamp", channel, guard=guard, ts_local=ts_local
                ),
                ts_local=ts_local,
            )
        )
    return tuple(reports)
