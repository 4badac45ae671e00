"""Whether a fill or an order update on the account's stream is about the coin it names.

One user stream carries every coin's fills and order updates, and each is handed to the
coin it names. The exchange lists the account's other trading too (not ours to book), and
never names one coin's order under another: such a fill, booked to the coin it names,
would move two positions, and such an update would tie another coin's order to an oid
that is not its own. Both are refused (the fill's real one is asked for again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from typing import Final

from makerd.protocol.account import OrderFilled
from makerd.venues.hyperliquid.state import OrderLegs

_REMEMBERED_ORDERS: Final = 20_000


class StreamCoins:
    """The coins a stream serves, and the coin of each order it has heard of."""

    def __init__(self, coins: Collection[str], legs: OrderLegs) -> None:
        self.coins = coins
        self._legs = legs
        self._coin_of_oid: OrderedDict[int, str] = OrderedDict()
        """Every order the stream reported (and did not refuse), of any coin."""

    def order_reported(self, oid: int, coin: str) -> None:
        self._coin_of_oid[oid] = coin
        if len(self._coin_of_oid) > _REMEMBERED_ORDERS:
            self._coin_of_oid.popitem(last=False)

    def fill_refusal(self, fill: OrderFilled) -> str | None:
        """Why ``fill`` is not this stream's to book as named (None: it is)."""
        if fill.coin not in self.coins:
            return f"coin {fill.coin[:20]!r} is not traded here"
        cloid = self._legs.cloid_of(fill.venue_order_id)
        owner = self._placed_coin(cloid) or self._coin_of_oid.get(fill.venue_order_id)
        if owner is None or owner == fill.coin:
            return None
        return f"oid {fill.venue_order_id} is an order of {owner}, not {fill.coin}"

    def order_refusal(self, coin: str, cloid: str) -> str | None:
        """Why an update of ``cloid`` naming ``coin`` is not about that order (None: it is)."""
        owner = self._placed_coin(cloid)
        if owner is None or owner == coin:
            return None
        return f"cloid {cloid} is an order of {owner}, not {coin[:20]}"

    def _placed_coin(self, cloid: str | None) -> str | None:
        """The coin this run placed ``cloid`` in (None: not one of its live orders)."""
        request = None if cloid is None else self._legs.request_of(cloid)
        return None if request is None else request.coin
