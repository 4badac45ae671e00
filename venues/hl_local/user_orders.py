"""Each user's orders as the engine tracks them: open ones, statuses, the peak counts.

Closed orders stay queryable (``orderStatus``) up to :data:`MAX_CLOSED_RECORDS` per user,
oldest dropped first. The peak of resting orders, for the account and for each coin, is
updated where an order starts to rest, so it is exact, not sampled: a process quoting
several coins is bounded per coin, and a sampled count misses a peak between samples.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from makerd.venues.hl_local.book import RestingOrder

MAX_CLOSED_RECORDS = 20_000
PRUNE_BATCH = 1_000


@dataclass(slots=True, kw_only=True)
class OrderRecord:
    """The last known status of one of a user's orders."""

    order: RestingOrder
    status: str
    status_ms: int


@dataclass(slots=True)
class _UserOrders:
    records: dict[int, OrderRecord] = field(default_factory=dict)
    by_cloid: dict[str, int] = field(default_factory=dict)
    open: dict[int, RestingOrder] = field(default_factory=dict)
    peak_open: int = 0
    peak_open_by_coin: Counter[str] = field(default_factory=Counter)


class UserOrders:
    """Every user's order records, keyed by lowercase address."""

    def __init__(self) -> None:
        self._users: dict[str, _UserOrders] = {}

    def open_orders(self, user: str) -> list[RestingOrder]:
        orders = self._users.get(user.lower())
        return [] if orders is None else list(orders.open.values())

    def peak_open(self, user: str) -> int:
        """The most orders ``user`` had resting at once since start or the last reset."""
        orders = self._users.get(user.lower())
        return 0 if orders is None else orders.peak_open

    def peak_open_by_coin(self, user: str) -> Counter[str]:
        """The most orders ``user`` had resting at once in each coin (absent: never any)."""
        orders = self._users.get(user.lower())
        return Counter() if orders is None else Counter(orders.peak_open_by_coin)

    def reset_peak_open(self, user: str) -> int:
        """Restart the peaks (the account's and each coin's) from the current counts;
        return the account's."""
        orders = self._of(user.lower())
        orders.peak_open = len(orders.open)
        orders.peak_open_by_coin = Counter(order.coin for order in orders.open.values())
        return orders.peak_open

    def record(self, user: str, oid_or_cloid: int | str) -> OrderRecord | None:
        orders = self._users.get(user.lower())
        if orders is None:
            return None
        oid = orders.by_cloid.get(oid_or_cloid) if isinstance(oid_or_cloid, str) else oid_or_cloid
        return None if oid is None else orders.records.get(oid)

    def track(self, order: RestingOrder, *, status: str, now_ms: int) -> None:
        """A new order (not resting yet)."""
        orders = self._of(order.user)
        orders.records[order.oid] = OrderRecord(order=order, status=status, status_ms=now_ms)
        if order.cloid is not None:
            orders.by_cloid[order.cloid] = order.oid

    def rest(self, order: RestingOrder) -> None:
        """The order now rests on the book."""
        orders = self._of(order.user)
        orders.open[order.oid] = order
        orders.peak_open = max(orders.peak_open, len(orders.open))
        in_coin = sum(1 for other in orders.open.values() if other.coin == order.coin)
        peaks = orders.peak_open_by_coin
        peaks[order.coin] = max(peaks[order.coin], in_coin)

    def close(self, order: RestingOrder, *, status: str, now_ms: int) -> None:
        """The order is off the book for good (filled, canceled, rejected)."""
        orders = self._of(order.user)
        orders.open.pop(order.oid, None)
        orders.records[order.oid] = OrderRecord(order=order, status=status, status_ms=now_ms)
        if len(orders.records) > MAX_CLOSED_RECORDS + PRUNE_BATCH:
            _prune_closed(orders)

    def _of(self, user: str) -> _UserOrders:
        return self._users.setdefault(user, _UserOrders())


def _prune_closed(orders: _UserOrders) -> None:
    """Forget the oldest closed orders so a long-running venue stays bounded in memory."""
    closed = [oid for oid, record in orders.records.items() if record.status != "open"]
    for oid in closed[:PRUNE_BATCH]:
        cloid = orders.records.pop(oid).order.cloid
        if cloid is not None and orders.by_cloid.get(cloid) == oid:
            del orders.by_cloid[cloid]
