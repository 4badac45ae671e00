"""The paper engine's view of the public book: the last snapshot, minus what we took.

Our own taker orders consume displayed liquidity; until the next snapshot replaces the
book, that liquidity is gone for us (a second IOC cannot take the same size twice).
"""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter

from makerd.protocol.market import BookLevel, BookSnapshotReceived
from makerd.protocol.side import Side

ZERO = Decimal(0)
_PRICE = attrgetter("price")


class LocalBook:
    """Latest displayed levels per side, best first, with our own takes subtracted."""

    def __init__(self) -> None:
        self._bids: tuple[BookLevel, ...] = ()
        self._asks: tuple[BookLevel, ...] = ()
        self._taken: dict[tuple[Side, Decimal], Decimal] = {}
        self._lowest_bid: Decimal | None = None
        self._highest_ask: Decimal | None = None
        self.shown: BookSnapshotReceived | None = None
        """The last book received (None: none yet)."""

    def replace(self, snapshot: BookSnapshotReceived) -> None:
        self.shown = snapshot
        self._bids = snapshot.bids
        self._asks = snapshot.asks
        self._taken.clear()
        # The far end of each side, whatever the levels' order (see ``_beyond_depth``).
        bids, asks = self._bids, self._asks
        self._lowest_bid = min(bids, key=_PRICE).price if bids else None
        self._highest_ask = max(asks, key=_PRICE).price if asks else None

    def best(self, side: Side) -> Decimal | None:
        """The best price still available on ``side`` (bids for BUY, asks for SELL)."""
        for level in self._levels(side):
            if self._available(side, level) > 0:
                return level.price
        return None

    def displayed_at(self, side: Side, price: Decimal) -> Decimal | None:
        """Size shown at ``price`` on ``side``; None if beyond the published depth.

        A price between published levels is an empty level (zero). A price behind the
        last published level is unknown, unless the side shows no levels at all.
        """
        levels = self._levels(side)
        # Most of our resting orders lie beyond the published depth: no walk for them.
        if self._beyond_depth(side, price):
            return None
        # Called for every resting order on every book: the walk is spelled out per side
        # (the same test as ``_is_behind``) rather than a call per level.
        if side is Side.BUY:
            for level in levels:
                if level.price == price:
                    return self._available(side, level)
                if level.price < price:
                    return ZERO
        else:
            for level in levels:
                if level.price == price:
                    return self._available(side, level)
                if level.price > price:
                    return ZERO
        return ZERO if not levels else None

    def _beyond_depth(self, side: Side, price: Decimal) -> bool:
        """True if ``price`` is beyond every level of ``side``, whatever their order: no
        level matches it and none lies behind it, so a walk would end finding nothing."""
        if side is Side.BUY:
            return self._lowest_bid is not None and price < self._lowest_bid
        return self._highest_ask is not None and price > self._highest_ask

    def take(self, taker: Side, limit: Decimal, size: Decimal) -> list[tuple[Decimal, Decimal]]:
        """Consume resting liquidity up to ``limit`` for a ``taker`` order; (price, size)."""
        resting_side = taker.opposite
        fills: list[tuple[Decimal, Decimal]] = []
        remaining = size
        for level in self._levels(resting_side):
            if remaining <= 0 or _is_behind(taker, limit, level.price):
                break
            available = self._available(resting_side, level)
            traded = min(remaining, available)
            if traded <= 0:
                continue
            key = (resting_side, level.price)
            self._taken[key] = self._taken.get(key, ZERO) + traded
            fills.append((level.price, traded))
            remaining -= traded
        return fills

    def _levels(self, side: Side) -> tuple[BookLevel, ...]:
        return self._bids if side is Side.BUY else self._asks

    def _available(self, side: Side, level: BookLevel) -> Decimal:
        taken = self._taken
        # Nothing taken (no IOC of ours since the snapshot) is the rule: skip the lookup,
        # whose key hashes an Enum in Python.
        return level.size - taken.get((side, level.price), ZERO) if taken else level.size


def _is_behind(side: Side, level_price: Decimal, price: Decimal) -> bool:
    """True if ``level_price`` is beyond ``price`` in ``side``'s priority (a lower bid)."""
    return level_price < price if side is Side.BUY else level_price > price
