"""What each account did, kept for tests to assert on (``GET /_debug/account``).

Every signed action whose signer maps to an account is logged with the venue time it
arrived (before any armed delay), its type, how many orders it carried and whether the
exchange accepted it; the log keeps the most recent :data:`MAX_ACTIONS`, in arrival order.
Each order a placement or modify asked for is kept with its price and the coin's best bid
and ask when the action arrived, before it ran: a test can judge every price a client
sent against the book the venue held then (a refused post-only order included).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from makerd.venues.hl_local.wire import HttpReply, JsonDict

MAX_ACTIONS = 20_000
PRUNE_BATCH = 1_000
COUNTED_ORDERS = {"order": "orders", "batchModify": "modifies"}

Touch = Callable[[object], tuple[str, Decimal | None, Decimal | None] | None]
"""An asset id's coin, best bid and best ask, or None for an asset the venue does not list."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PricedOrder:
    """One order of a placement or modify, beside the venue's touch when it arrived."""

    coin: str
    is_buy: bool
    px: str
    best_bid: Decimal | None
    best_ask: Decimal | None

    def json(self) -> JsonDict:
        return {
            "coin": self.coin,
            "is_buy": self.is_buy,
            "px": self.px,
            "best_bid": None if self.best_bid is None else str(self.best_bid),
            "best_ask": None if self.best_ask is None else str(self.best_ask),
        }


def priced_orders(action: dict[str, Any], touch: Touch) -> tuple[PricedOrder, ...]:
    """The orders ``action`` asks for, each with the touch ``touch`` gives now; a malformed
    entry is left out (the action itself answers for it)."""
    kind = action.get("type")
    items = action.get(COUNTED_ORDERS.get(str(kind), ""))
    if kind == "modify":
        items = [action]
    if not isinstance(items, list):
        return ()
    priced: list[PricedOrder] = []
    for item in items:
        wire = item.get("order") if kind in {"modify", "batchModify"} else item
        if not isinstance(wire, dict) or not isinstance(wire.get("p"), str):
            continue
        seen = touch(wire.get("a"))
        if seen is None:
            continue
        coin, best_bid, best_ask = seen
        priced.append(
            PricedOrder(
                coin=coin,
                is_buy=wire.get("b") is True,
                px=wire["p"],
                best_bid=best_bid,
                best_ask=best_ask,
            )
        )
    return tuple(priced)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRecord:
    """One signed action of an account."""

    time_ms: int
    type: str
    orders: int
    accepted: bool
    priced: tuple[PricedOrder, ...] = ()

    @staticmethod
    def of(
        action: dict[str, Any],
        reply: HttpReply,
        *,
        arrived_ms: int,
        priced: tuple[PricedOrder, ...] = (),
    ) -> ActionRecord:
        """The record of ``action``, answered by ``reply``."""
        kind = str(action.get("type"))
        items = action.get(COUNTED_ORDERS.get(kind, ""))
        body = reply.body
        accepted = reply.status == 200 and isinstance(body, dict) and body.get("status") == "ok"
        return ActionRecord(
            time_ms=arrived_ms,
            type=kind,
            orders=len(items) if isinstance(items, list) else 0,
            accepted=accepted,
            priced=priced,
        )

    def json(self) -> JsonDict:
        return {
            "time_ms": self.time_ms,
            "type": self.type,
            "orders": self.orders,
            "accepted": self.accepted,
            "priced": [order.json() for order in self.priced],
        }


class ActionLog:
    """An account's most recent actions, ordered by arrival even when answered later."""

    def __init__(self) -> None:
        self._records: list[ActionRecord] = []

    def add(self, record: ActionRecord) -> None:
        bisect.insort_right(self._records, record, key=lambda item: item.time_ms)
        if len(self._records) > MAX_ACTIONS + PRUNE_BATCH:
            del self._records[:PRUNE_BATCH]

    def recent(self) -> list[ActionRecord]:
        return self._records[-MAX_ACTIONS:]


def fill_record_json(fill: JsonDict) -> JsonDict:
    """The fields of a ``userFills`` entry that ``/_debug/account`` reports."""
    keys = ("coin", "tid", "oid", "px", "sz", "side", "time", "closedPnl", "fee")
    return {key: fill[key] for key in keys}
