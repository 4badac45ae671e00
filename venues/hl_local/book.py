"""One coin's limit order book with price-time priority.

User orders and the synthetic background liquidity live in the same book, so a user's
order is filled exactly when the book says it would be: by price first, then by arrival.
Self-trade prevention follows Hyperliquid: the resting (maker) order is expired. A
reduce-only maker never trades past its position: it fills up to what the position
leaves, and is cancelled when nothing is left (Hyperliquid's ``reduceOnlyCanceled``).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

SYNTHETIC_USER = "0x0000000000000000000000000000000000000000"


@dataclass(slots=True, kw_only=True)
class RestingOrder:
    """A live order; ``remaining`` shrinks as it fills. Venue-internal, never shared."""

    oid: int
    user: str
    coin: str
    is_buy: bool
    limit_px: Decimal
    remaining: Decimal
    orig_size: Decimal
    timestamp_ms: int
    cloid: str | None = None
    reduce_only: bool = False
    tif: str = "Gtc"

    @property
    def side_code(self) -> str:
        return "B" if self.is_buy else "A"


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """One maker order (partly) consumed by a taker."""

    maker: RestingOrder
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchResult:
    matches: tuple[Match, ...]
    self_trade_expired: tuple[RestingOrder, ...]
    reduce_only_cancelled: tuple[RestingOrder, ...] = ()
    """Reduce-only makers taken off the book: the position left them no more room."""

    @property
    def filled_size(self) -> Decimal:
        return sum((match.size for match in self.matches), Decimal(0))


ReduceOnlyRoom = Callable[[RestingOrder, Sequence[Match]], Decimal]
"""How much a reduce-only maker may still trade, given the matches made so far."""


@dataclass(slots=True, kw_only=True)
class _Walk:
    """One taker's walk through the book: what it matched and what it took off."""

    taker_user: str
    room: ReduceOnlyRoom | None
    matches: list[Match] = field(default_factory=list)
    expired: list[RestingOrder] = field(default_factory=list)
    reduce_only_cancelled: list[RestingOrder] = field(default_factory=list)

    def room_of(self, maker: RestingOrder) -> Decimal:
        if self.room is None or not maker.reduce_only:
            return maker.remaining
        return self.room(maker, self.matches)


@dataclass(frozen=True, slots=True, kw_only=True)
class Level:
    price: Decimal
    size: Decimal
    count: int


class _BookSide:
    """Price levels of one side; prices kept sorted ascending."""

    def __init__(self, *, is_bid: bool) -> None:
        self.is_bid = is_bid
        self._prices: list[Decimal] = []
        self._queues: dict[Decimal, deque[RestingOrder]] = {}

    def best(self) -> Decimal | None:
        if not self._prices:
            return None
        return self._prices[-1] if self.is_bid else self._prices[0]

    def prices_best_first(self) -> list[Decimal]:
        return self._prices[::-1] if self.is_bid else list(self._prices)

    def queue(self, price: Decimal) -> deque[RestingOrder]:
        return self._queues[price]

    def add(self, order: RestingOrder) -> None:
        queue = self._queues.get(order.limit_px)
        if queue is None:
            queue = deque()
            self._queues[order.limit_px] = queue
            bisect.insort(self._prices, order.limit_px)
        queue.append(order)

    def remove(self, order: RestingOrder) -> None:
        queue = self._queues[order.limit_px]
        queue.remove(order)
        if not queue:
            self._drop_level(order.limit_px)

    def _drop_level(self, price: Decimal) -> None:
        del self._queues[price]
        index = bisect.bisect_left(self._prices, price)
        del self._prices[index]

    def drop_level_if_empty(self, price: Decimal) -> None:
        if price in self._queues and not self._queues[price]:
            self._drop_level(price)

    def levels(self, depth: int) -> list[Level]:
        result = []
        for price in self.prices_best_first()[:depth]:
            queue = self._queues[price]
            size = sum((order.remaining for order in queue), Decimal(0))
            result.append(Level(price=price, size=size, count=len(queue)))
        return result


class OrderBook:
    """The book of one coin."""

    def __init__(self, coin: str) -> None:
        self.coin = coin
        self._bids = _BookSide(is_bid=True)
        self._asks = _BookSide(is_bid=False)
        self._orders: dict[int, RestingOrder] = {}

    def best_bid(self) -> Decimal | None:
        return self._bids.best()

    def best_ask(self) -> Decimal | None:
        return self._asks.best()

    def get(self, oid: int) -> RestingOrder | None:
        return self._orders.get(oid)

    def orders(self) -> list[RestingOrder]:
        return list(self._orders.values())

    def add(self, order: RestingOrder) -> None:
        """Rest an order at the back of its price level's queue."""
        self._side(is_buy=order.is_buy).add(order)
        self._orders[order.oid] = order

    def remove(self, oid: int) -> RestingOrder | None:
        order = self._orders.pop(oid, None)
        if order is not None:
            self._side(is_buy=order.is_buy).remove(order)
        return order

    def would_cross(self, *, is_buy: bool, limit_px: Decimal) -> bool:
        opposite = self.best_ask() if is_buy else self.best_bid()
        if opposite is None:
            return False
        return limit_px >= opposite if is_buy else limit_px <= opposite

    def levels(self, depth: int = 20) -> tuple[list[Level], list[Level]]:
        """Aggregated (bids, asks), best first."""
        return self._bids.levels(depth), self._asks.levels(depth)

    def match(
        self,
        *,
        taker_is_buy: bool,
        limit_px: Decimal,
        size: Decimal,
        taker_user: str,
        room: ReduceOnlyRoom | None = None,
    ) -> MatchResult:
        """Consume resting liquidity that crosses ``limit_px``, best price and oldest first.

        ``room`` says how much a reduce-only maker may still trade, given the matches so
        far (its position's size on the side it reduces); None: no limit."""
        opposite = self._side(is_buy=not taker_is_buy)
        walk = _Walk(taker_user=taker_user, room=room)
        left = size
        for price in opposite.prices_best_first():
            crosses = price <= limit_px if taker_is_buy else price >= limit_px
            if left <= 0 or not crosses:
                break
            left = self._match_level(opposite, price, left=left, walk=walk)
        return MatchResult(
            matches=tuple(walk.matches),
            self_trade_expired=tuple(walk.expired),
            reduce_only_cancelled=tuple(walk.reduce_only_cancelled),
        )

    def _match_level(
        self, side: _BookSide, price: Decimal, *, left: Decimal, walk: _Walk
    ) -> Decimal:
        queue = side.queue(price)
        while queue and left > 0:
            maker = queue[0]
            if maker.user == walk.taker_user and walk.taker_user != SYNTHETIC_USER:
                self._take_off(queue, maker)
                walk.expired.append(maker)
                continue
            room = walk.room_of(maker)
            if room <= 0:  # the position it reduced is gone: it would only grow it now
                self._take_off(queue, maker)
                walk.reduce_only_cancelled.append(maker)
                continue
            traded = min(left, maker.remaining, room)
            maker.remaining -= traded
            left -= traded
            walk.matches.append(Match(maker=maker, price=price, size=traded))
            if maker.remaining <= 0:
                self._take_off(queue, maker)
        side.drop_level_if_empty(price)
        return left

    def _take_off(self, queue: deque[RestingOrder], maker: RestingOrder) -> None:
        """``maker``, first in ``queue``, leaves the book."""
        queue.popleft()
        del self._orders[maker.oid]

    def _side(self, *, is_buy: bool) -> _BookSide:
        return self._bids if is_buy else self._asks
