"""Parsers of the account's REST answers: open orders, positions, the request budget.

Same rules as :mod:`venues.hyperliquid.parse` (plain bounded decimals, named reasons);
sizes of open orders may be zero and a position's size has a sign. Any coin is
accepted: these answers list the whole account, and the caller picks its coin.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from makerd.protocol.account import PositionReported
from makerd.protocol.market import DropReason
from makerd.protocol.orders import OpenOrder, OpenOrdersReported
from makerd.protocol.risk import MarginReported
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

_PRICE, _SIZE, _NUMBER = DropReason.BAD_PRICE, DropReason.BAD_SIZE, DropReason.BAD_NUMBER


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRateLimit:
    """The address-level request budget (``userRateLimit``): cap ≈ 10000 + volume."""

    cumulative_volume: Decimal
    requests_used: int
    requests_cap: int

    @property
    def requests_left(self) -> int:
        return self.requests_cap - self.requests_used


def parse_open_orders_by_coin(
    data: object,
    *,
    ts_local: int,
    channel: str = "openOrders",
    guard: FrameGuard = OPEN_GUARD,
    asked_ns: int | None = None,
) -> dict[str, OpenOrdersReported]:
    """REST ``openOrders`` / ``frontendOpenOrders`` grouped into one report per coin.

    The exchange does not say when it listed them: ``ts_exchange`` is ``asked_ns`` (the
    local time the request was sent; it listed them after that), else ``ts_local``."""
    listed_ns = ts_local if asked_ns is None else asked_ns
    grouped: dict[str, list[OpenOrder]] = {}
    for raw in as_list(data, channel, "data"):
        item = as_object(raw, channel)
        order = OpenOrder(
            cloid=read_optional_str(item, "cloid", channel),
            venue_order_id=read_int(item, "oid", channel),
            coin=read_str(item, "coin", channel),
            side=read_side(item, channel),
            price=read_decimal(item, "limitPx", channel, reason=_PRICE, guard=guard),
            size=read_decimal(item, "sz", channel, reason=_SIZE, guard=guard, allow_zero=True),
        )
        grouped.setdefault(order.coin, []).append(order)
    return {
        coin: OpenOrdersReported(
            coin=coin, orders=tuple(orders), ts_exchange=listed_ns, ts_local=ts_local
        )
        for coin, orders in grouped.items()
    }


def parse_open_orders(
    data: object,
    *,
    coin: str,
    ts_local: int,
    channel: str = "openOrders",
    asked_ns: int | None = None,
) -> OpenOrdersReported:
    """The open orders of one coin (an empty report when it has none)."""
    by_coin = parse_open_orders_by_coin(data, ts_local=ts_local, channel=channel, asked_ns=asked_ns)
    listed_ns = ts_local if asked_ns is None else asked_ns
    empty = OpenOrdersReported(coin=coin, orders=(), ts_exchange=listed_ns, ts_local=ts_local)
    return by_coin.get(coin, empty)


def parse_positions(
    data: object, *, ts_local: int, guard: FrameGuard = OPEN_GUARD
) -> dict[str, PositionReported]:
    """``clearinghouseState`` → the venue's position per coin (coins with one only)."""
    channel = "clearinghouseState"
    state = as_object(data, channel)
    ts_exchange = _state_time(state, guard=guard, ts_local=ts_local)
    positions: dict[str, PositionReported] = {}
    for raw in as_list(state.get("assetPositions"), channel, "assetPositions"):
        position = as_object(as_object(raw, channel).get("position"), channel)
        coin = read_str(position, "coin", channel)
        entry = position.get("entryPx")
        positions[coin] = PositionReported(
            coin=coin,
            position=read_decimal(position, "szi", channel, reason=_SIZE, guard=guard, signed=True),
            average_entry=Decimal(0)
            if entry is None
            else read_decimal(
                position, "entryPx", channel, reason=_PRICE, guard=guard, allow_zero=True
            ),
            ts_exchange=ts_exchange,
            ts_local=ts_local,
        )
    return positions


def parse_position(data: object, *, coin: str, ts_local: int) -> PositionReported:
    """One coin's position; flat (zero size and entry) when the venue lists none."""
    positions = parse_positions(data, ts_local=ts_local)
    if coin in positions:
        return positions[coin]
    state = as_object(data, "clearinghouseState")
    return PositionReported(
        coin=coin,
        position=Decimal(0),
        average_entry=Decimal(0),
        ts_exchange=_state_time(state, guard=OPEN_GUARD, ts_local=ts_local),
        ts_local=ts_local,
    )


def parse_margin(data: object, *, ts_local: int) -> MarginReported:
    """``clearinghouseState`` → the whole account's margin (``marginSummary``: cross and
    isolated positions together)."""
    channel = "clearinghouseState"
    state = as_object(data, channel)
    summary = as_object(state.get("marginSummary"), channel)
    return MarginReported(
        account_value=read_decimal(
            summary, "accountValue", channel, reason=_NUMBER, guard=OPEN_GUARD, signed=True
        ),
        margin_used=read_decimal(
            summary, "totalMarginUsed", channel, reason=_NUMBER, guard=OPEN_GUARD, allow_zero=True
        ),
        ts_exchange=_state_time(state, guard=OPEN_GUARD, ts_local=ts_local),
        ts_local=ts_local,
    )


def _state_time(state: JsonObject, *, guard: FrameGuard, ts_local: int) -> int:
    """``clearinghouseState``'s own time, or the local receive time where it has none."""
    if "time" not in state:
        return ts_local
    return read_time_ns(state, "time", "clearinghouseState", guard=guard, ts_local=ts_local)


def parse_user_rate_limit(data: object) -> UserRateLimit:
    """``userRateLimit`` → the address's request budget."""
    channel = "userRateLimit"
    limit = as_object(data, channel)
    return UserRateLimit(
        cumulative_volume=read_decimal(
            limit, "cumVlm", channel, reason=_NUMBER, guard=OPEN_GUARD, allow_zero=True
        ),
        requests_used=read_int(limit, "nRequestsUsed", channel),
        requests_cap=read_int(limit, "nRequestsCap", channel),
    )
