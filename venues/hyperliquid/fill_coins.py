"""Whether a fill pushed on the account's stream may be booked to the coin it names.

One user stream carries every coin's fills, and each is booked by the coin it names. The
exchange lists the account's other trading too (not ours to book), and never names one
coin's order under another: such a fill, booked to the coin it names, would move two
positions, so it is refused and its real fill asked for again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from typing import Final

from makerd.protocol.account import OrderFilled
from makerd.venues.hyperliquid.state import OrderLegs

_REMEMBERED_ORDERS: Final = 20_000


class FillCoins:
    """The coins a stream books, and the coin of each order it has heard of."""

    def __init__(self, coins: Collection[str], legs: OrderLegs) -> None:
        self.coins = coins
        self._legs = legs
        self._coin_of_oid: OrderedDict[int, str] = OrderedDict()
        """Every order the stream reported, of any coin."""

    def order_reported(self, oid: int, coin: str) -> None:
        self._coin_of_oid[oid] = coin
        if len(self._coin_of_oid) > _REMEMBERED_ORDERS:
            self._coin_of_oid.popitem(last=False)

    def foreign(self, fill: OrderFilled) -> str | None:
        """Why ``fill`` is not this stream's to book as named (None: it is)."""
        if fill.coin not in self.coins:
            return f"coin {fill.coin[:20]!r} is not traded here"
        owner = self._order_coin(fill.venue_order_id)
        if owner is None or owner == fill.coin:
            return None
        return f"oid {fill.venue_order_id} is an order of {owner}, not {fill.coin}"

    def _order_coin(self, oid: int) -> str | None:
        """The coin of order ``oid`` as this run placed it or the stream reported it."""
        cloid = self._legs.cloid_of(oid)
        request = None if cloid is None else self._legs.request_of(cloid)
        return request.coin if request is not None else self._coin_of_oid.get(oid)
