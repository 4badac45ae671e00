"""What each account did, kept for tests to assert on (``GET /_debug/account``).

Every signed action whose signer maps to an account is logged with the venue time it
arrived (before any armed delay), its type, how many orders it carried and whether the
exchange accepted it; the log keeps the most recent :data:`MAX_ACTIONS`, in arrival order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from makerd.venues.hl_local.wire import HttpReply, JsonDict

MAX_ACTIONS = 20_000
PRUNE_BATCH = 1_000
COUNTED_ORDERS = {"order": "orders", "batchModify": "modifies"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRecord:
    """One signed action of an account."""

    time_ms: int
    type: str
    orders: int
    accepted: bool

    @staticmethod
    def of(action: dict[str, Any], reply: HttpReply, *, arrived_ms: int) -> ActionRecord:
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
        )

    def json(self) -> JsonDict:
        return {
            "time_ms": self.time_ms,
            "type": self.type,
            "orders": self.orders,
            "accepted": self.accepted,
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
