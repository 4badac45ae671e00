"""Which public trades are new flow, and which are history the exchange sent again.

On every (re)subscription Hyperliquid first sends a ``trades`` message of recent trades.
Those were seen before the connection was lost: passing them on again would count them
twice in the quoter's estimates and, in paper mode or a replay, fill a resting order
twice over. A trade older than the newest one passed on is history. A trade of that
newest time is history too when its id was already passed on; another id of the same
time is new flow (one block prints several trades).
"""

from __future__ import annotations

from makerd.protocol.market import TradePrinted


class TradeHistory:
    """Per coin: the newest trade time passed on and the ids passed on at that time."""

    def __init__(self) -> None:
        self._newest_ns: dict[str, int] = {}
        self._ids_at_newest: dict[str, set[str]] = {}

    def start_at(self, coin: str, floor_ns: int) -> None:
        """Trades older than ``floor_ns`` are history, unless newer ones were passed on."""
        self._newest_ns.setdefault(coin, floor_ns)
        self._ids_at_newest.setdefault(coin, set())

    def is_new(self, trade: TradePrinted) -> bool:
        """Whether ``trade`` is new flow; a new one is remembered as passed on."""
        coin = trade.coin
        newest = self._newest_ns.get(coin)
        if newest is not None and trade.ts_exchange < newest:
            return False
        if newest is None or trade.ts_exchange > newest:
            self._newest_ns[coin] = trade.ts_exchange
            self._ids_at_newest[coin] = {trade.trade_id}
            return True
        ids = self._ids_at_newest.setdefault(coin, set())
        if trade.trade_id in ids:
            return False
        ids.add(trade.trade_id)
        return True
