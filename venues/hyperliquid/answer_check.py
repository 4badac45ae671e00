"""Whether an ``/exchange`` answer can be the answer to the action it came back for.

An answer is matched to its request by the transport alone: the HTTP exchange it came
on, or the id of a WebSocket ``post``. An answer carrying another post's id was taken for
its own: two placements sent together were each accepted under the other's order id,
and a cancel answered with a placement's statuses was a confirmed cancel. What the
answer says of itself is checked here: its kind (an order action is answered ``order``,
a cancel ``cancel``), the number of its statuses, and the cloid each placement status
names. An answer that fails is another action's: the caller treats it as lost and
settles from the venue. A whole-action refusal names nothing and cannot be checked,
nor can two cancels' answers (bare strings) told apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from makerd.venues.hyperliquid.errors import ExchangeResponse, FilledOnArrival, Resting

_ORDER_KINDS: Final = frozenset({"order", "batchModify", "modify"})
_CANCEL_KINDS: Final = frozenset({"cancel", "cancelByCloid"})
_KINDS_BY_ACTION: Final = {
    "order": _ORDER_KINDS,
    "batchModify": _ORDER_KINDS,
    "modify": _ORDER_KINDS,
    "cancel": _CANCEL_KINDS,
    "cancelByCloid": _CANCEL_KINDS,
}
"""The kinds each action may be answered with. A ``batchModify`` is answered ``order`` as
far as is known (the reference leaves ``batchModify`` open), so either is taken; every
other action is answered ``default``."""
_KNOWN_KINDS: Final = _ORDER_KINDS | _CANCEL_KINDS | {"default"}


def foreign_answer(action: Mapping[str, object], response: ExchangeResponse) -> str | None:
    """Why ``response`` cannot answer ``action``, in words; None when it can."""
    if response.error is not None:
        return None
    sent_type = str(action.get("type"))
    expected = _KINDS_BY_ACTION.get(sent_type, frozenset({"default"}))
    if response.kind in _KNOWN_KINDS and response.kind not in expected:
        # A kind nobody documented says nothing: only another action's kind is refused.
        return f"a {response.kind!r} answer to a {sent_type!r} action"
    cloids = _cloids(action)
    if len(response.statuses) > len(cloids):
        return f"{len(response.statuses)} statuses for {len(cloids)} items"
    for sent, status in zip(cloids, response.statuses, strict=False):
        named = status.cloid if isinstance(status, Resting | FilledOnArrival) else None
        if named is not None and named != sent:
            return f"a status for cloid {named[:40]!r} answering {sent!r}"
    return None


def _cloids(action: Mapping[str, object]) -> list[str | None]:
    """The cloid of each item of ``action``, in order (None where an item has none)."""
    items: object
    if action.get("type") == "batchModify":
        items = [m.get("order") for m in _dicts(action.get("modifies"))]
    elif action.get("type") == "order":
        items = action.get("orders")
    else:
        items = action.get("cancels", [])
    return [_cloid(item) for item in _dicts(items)]


def _dicts(items: object) -> list[Mapping[str, object]]:
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _cloid(item: Mapping[str, object]) -> str | None:
    cloid = item.get("c")
    return cloid if isinstance(cloid, str) else None
