"""The account's funding payments: REST ``userFunding`` and WebSocket ``userFundings``.

REST answers a list of ``{"delta": {"type": "funding", "coin", "usdc", "szi",
"fundingRate", "nSamples"}, "hash", "time"}``; the stream pushes ``{"isSnapshot"?,
"user", "fundings": [{"time", "coin", "usdc", "szi", "fundingRate", "nSamples"}]}``.
Both become :class:`FundingPaid`, keyed by coin and funding time, so a payment seen in a
push, a snapshot and a repair query is the same payment. ``usdc`` is what the account
received (negative: paid). One unreadable entry refuses the whole message: the caller
counts the drop, and the next repair query asks the exchange again.

Paper mode charges the market's current rate, read from ``metaAndAssetCtxs`` (the
coin's ``funding`` and ``oraclePx``, at the coin's index in the universe).
"""

from __future__ import annotations

from decimal import Decimal

from makerd.protocol.account import FundingPaid, funding_key
from makerd.protocol.market import DropReason
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.fields import (
    NS_PER_MS,
    JsonObject,
    as_list,
    as_object,
    read_decimal,
    read_str,
    read_time_ns,
)
from makerd.venues.hyperliquid.limits import OPEN_GUARD, FrameGuard

REST_CHANNEL = "userFunding"
WS_CHANNEL = "userFundings"
CTX_CHANNEL = "metaAndAssetCtxs"


def parse_user_funding(
    data: object, *, ts_local: int, guard: FrameGuard = OPEN_GUARD
) -> tuple[FundingPaid, ...]:
    """A REST ``userFunding`` answer, oldest first as the exchange sends it."""
    payments = []
    for item in as_list(data, REST_CHANNEL, "funding history"):
        entry = as_object(item, REST_CHANNEL)
        delta = as_object(entry.get("delta"), REST_CHANNEL)
        kind = read_str(delta, "type", REST_CHANNEL)
        if kind != "funding":
            raise FeedParseError(REST_CHANNEL, f"delta type {kind[:40]!r} is not 'funding'")
        time_ns = read_time_ns(entry, "time", REST_CHANNEL, guard=guard, ts_local=ts_local)
        payments.append(_payment(delta, time_ns, REST_CHANNEL, ts_local, guard))
    return tuple(payments)


def parse_user_fundings_message(
    data: object, *, ts_local: int, guard: FrameGuard = OPEN_GUARD
) -> tuple[FundingPaid, ...]:
    """A WebSocket ``userFundings`` frame (its opening snapshot or a new payment)."""
    message = as_object(data, WS_CHANNEL)
    is_snapshot = message.get("isSnapshot", False)
    if not isinstance(is_snapshot, bool):
        raise FeedParseError(WS_CHANNEL, "isSnapshot is not a boolean")
    payments = []
    for item in as_list(message.get("fundings"), WS_CHANNEL, "fundings"):
        entry = as_object(item, WS_CHANNEL)
        time_ns = read_time_ns(entry, "time", WS_CHANNEL, guard=guard, ts_local=ts_local)
        payments.append(_payment(entry, time_ns, WS_CHANNEL, ts_local, guard))
    return tuple(payments)


def _payment(
    fields: JsonObject, time_ns: int, channel: str, ts_local: int, guard: FrameGuard
) -> FundingPaid:
    coin = read_str(fields, "coin", channel)
    number = DropReason.BAD_NUMBER
    return FundingPaid(
        coin=coin,
        amount=read_decimal(fields, "usdc", channel, reason=number, guard=guard, signed=True),
        rate=read_decimal(fields, "fundingRate", channel, reason=number, guard=guard, signed=True),
        position=read_decimal(fields, "szi", channel, reason=number, guard=guard, signed=True),
        key=funding_key(coin, time_ns // NS_PER_MS),
        ts_exchange=time_ns,
        ts_local=ts_local,
    )


def parse_asset_funding(
    data: object, coin: str, *, guard: FrameGuard = OPEN_GUARD
) -> tuple[Decimal, Decimal]:
    """``(rate, oracle price)`` of ``coin`` from a ``metaAndAssetCtxs`` answer."""
    pair = as_list(data, CTX_CHANNEL, "[meta, assetCtxs]")
    if len(pair) != 2:
        raise FeedParseError(CTX_CHANNEL, "expected a [meta, assetCtxs] pair")
    universe = as_list(as_object(pair[0], CTX_CHANNEL).get("universe"), CTX_CHANNEL, "universe")
    contexts = as_list(pair[1], CTX_CHANNEL, "assetCtxs")
    names = [entry.get("name") if isinstance(entry, dict) else None for entry in universe]
    if coin not in names or names.index(coin) >= len(contexts):
        raise FeedParseError(CTX_CHANNEL, f"no asset context for {coin[:40]!r}")
    context = as_object(contexts[names.index(coin)], CTX_CHANNEL)
    number = DropReason.BAD_NUMBER
    rate = read_decimal(context, "funding", CTX_CHANNEL, reason=number, guard=guard, signed=True)
    oracle = read_decimal(
        context, "oraclePx", CTX_CHANNEL, reason=DropReason.BAD_PRICE, guard=guard
    )
    return rate, oracle
