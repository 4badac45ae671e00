"""The trading gate: a process-wide flag checked before every order leaves the process.

Actor inboxes are FIFO, so a kill switch sent as a message waits behind the backlog;
the gate closes at once, from any thread, and stays closed. A coin whose supervisor gave
up is halted in it the same way: that coin's orders still queued for the venue (its dead
order_manager's last placements) are refused when they would leave.
"""

from __future__ import annotations

import threading

from makerd.protocol.orders import ModifyOrders, OrderRequest, PlaceOrders, closes


class TradingGate:
    def __init__(self) -> None:
        self._closed = threading.Event()
        self._reason = ""
        self._halted: frozenset[str] = frozenset()
        self.refused = 0

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def reason(self) -> str:
        return self._reason

    def close(self, reason: str) -> None:
        if not self._closed.is_set():
            self._reason = reason
            self._closed.set()

    def halt_coin(self, coin: str) -> None:
        """``coin`` places and modifies nothing from now on; the other coins trade on."""
        self._halted = self._halted | {coin}  # one reference swap: safe to read anywhere

    def coin_halted(self, coin: str) -> bool:
        return coin in self._halted

    def allows(self, command: object) -> bool:
        """Cancels always pass; new risk does not once closed (a flatten's closing orders do)."""
        if not self._closed.is_set():
            return True
        if isinstance(command, PlaceOrders) and all(map(closes, command.orders)):
            return True
        if isinstance(command, PlaceOrders | ModifyOrders):
            self.refused += 1
            return False
        return True

    def allows_order(self, order: OrderRequest) -> bool:
        """One order of a placement (several coins' commands leave merged): once closed,
        only a closing order passes."""
        if not self._closed.is_set() or closes(order):
            return True
        self.refused += 1
        return False
