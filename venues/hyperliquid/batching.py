"""Several coins' new orders, decided at the same moment, leave in one signed action.

Each coin's order manager sends its own ``PlaceOrders``. Those that reach the I/O loop
before it next turns are merged, in arrival order, into actions of at most
:data:`MAX_ORDERS_PER_ACTION` orders: one signature, one nonce and one request instead of
one per coin. Nothing is held back to wait for company: a lone command leaves as it would.
"""

from __future__ import annotations

from dataclasses import replace

from makerd.protocol.orders import OrderRequest, PlaceOrders

MAX_ORDERS_PER_ACTION = 40
"""An action's IP weight is 1 + floor(orders / 40): up to 40 orders cost one request's."""


class PlaceBatcher:
    def __init__(self, max_orders: int = MAX_ORDERS_PER_ACTION) -> None:
        self._max_orders = max_orders
        self._pending: list[PlaceOrders] = []

    def add(self, command: PlaceOrders) -> bool:
        """Queue ``command``; True when it is the first since the last :meth:`take`."""
        self._pending.append(command)
        return len(self._pending) == 1

    def take(self) -> list[PlaceOrders]:
        """Everything queued, merged into as few commands as the per-action bound allows."""
        pending, self._pending = self._pending, []
        if len(pending) <= 1:
            return pending
        orders: list[OrderRequest] = [order for command in pending for order in command.orders]
        # The earliest decision time: a merged command is as old as its oldest part.
        decided = min(command.ts_local for command in pending)
        step = self._max_orders
        return [
            replace(pending[0], orders=tuple(orders[i : i + step]), ts_local=decided)
            for i in range(0, len(orders), step)
        ]
