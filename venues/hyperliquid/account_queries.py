"""The account's truth from ``/info``: open orders, position, fills and funding payments
since a time, budget.

Queries always name the trading account (master, sub-account or vault), never the
agent wallet that signs: the exchange answers an agent's address with empty lists.
Open orders and positions are kept per perp dex: a builder-deployed coin's are only
listed when the query names its dex. One answer lists every coin of its dex, so a
repair of several coins asks once per dex: a request costs the same IP weight whether it
serves one coin or ten. Coins asking separately are not served a request already on its
way: its answer may predate the question (a stop's cancels, say). A question asked while
another still waits its turn is another matter: the waiting one's queries leave after
both were asked, so one answer per dex serves both (:meth:`fresh_snapshot`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from makerd.protocol.account import FundingPaid, OrderFilled, PositionReported
from makerd.protocol.orders import OpenOrdersReported
from makerd.protocol.risk import MarginReported
from makerd.venues.hyperliquid.meta import dex_of
from makerd.venues.hyperliquid.parse import (
    UserRateLimit,
    parse_fills,
    parse_margin,
    parse_open_orders,
    parse_position,
    parse_user_rate_limit,
)
from makerd.venues.hyperliquid.parse_funding import parse_user_funding
from makerd.venues.hyperliquid.rate_budget import Priority, info_weight
from makerd.venues.hyperliquid.rest import RestClient

_NS_PER_MS = 1_000_000
_PAGE_LIMIT = 500
JOIN_WINDOW_S = 0.01
"""How long a snapshot question waits for the others of its tick before it is asked."""


def by_dex(coins: Sequence[str]) -> list[list[str]]:
    """The coins grouped by perp dex, in the order each dex first appears."""
    groups: dict[str, list[str]] = {}
    for coin in coins:
        groups.setdefault(dex_of(coin), []).append(coin)
    return list(groups.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class _SnapshotBatch:
    coins: list[str]
    answer: asyncio.Future[dict[str, AccountSnapshot]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSnapshot:
    open_orders: OpenOrdersReported
    position: PositionReported


class AccountQueries:
    """Read-only queries about one account on one exchange.

    Every answer is stamped with the local time it arrived, read from ``now_ns`` after the
    request returns: a question that waited its turn in the request budget must not look,
    by the time it is answered, like a frame from the future.
    """

    def __init__(
        self,
        rest: RestClient,
        *,
        user: str,
        now_ns: Callable[[], int],
        monotonic_ns: Callable[[], int] | None = None,
    ) -> None:
        self._rest = rest
        self.user = user
        self._now_ns = now_ns
        self._monotonic_ns = monotonic_ns
        self._waiting: dict[Priority, _SnapshotBatch] = {}
        self._answering: list[_SnapshotBatch] = []
        """Batches whose queries have left: what they answer, a question asked again gets."""
        self.snapshots_joined = 0
        """Snapshot questions answered by one that was still waiting its turn."""
        self._margin_turn = 0
        self._margin_by_dex: dict[str, MarginReported] = {}
        """Each perp dex's last margin reading (see :meth:`margin`)."""

    async def fresh_snapshot(
        self, coin: str, *, priority: Priority = Priority.QUERY, again: bool = False
    ) -> AccountSnapshot | None:
        """A snapshot whose queries leave after this call, or None when the same question
        (coin and priority) already waits its turn: that one answers both. A question
        asked ``again`` (nothing learnt since it was first asked) is also None while an
        answer for the coin is on its way: on a tight budget a snapshot takes seconds, and
        each retry that started queries of its own held the budget at the query reserve,
        where no new order could be placed, for tens of seconds after a rate limit.

        Questions about other coins asked while one waits its turn (the loop's next step,
        or request budget) join it: one listing and one position query per perp dex
        answer them all. Coins starting together asked once each, and every question
        asked during a rate limit waited with its own queries; when the limit lifted they
        drained the budget one after another for long enough to keep new quotes out.
        """
        if again and any(coin in batch.coins for batch in self._answering):
            self.snapshots_joined += 1
            return None
        batch = self._waiting.get(priority)
        if batch is not None:
            self.snapshots_joined += 1
            if coin in batch.coins:
                return None
            batch.coins.append(coin)
            return (await batch.answer)[coin]
        batch = _SnapshotBatch(coins=[coin], answer=asyncio.get_running_loop().create_future())
        self._waiting[priority] = batch
        try:
            try:
                # The other coins' questions of the same tick join: each order manager
                # decides on its own thread, a few hundred microseconds to milliseconds
                # apart, and one loop step let only those already queued in.
                await asyncio.sleep(JOIN_WINDOW_S)
                await self.wait_turn(priority=priority)
            finally:
                del self._waiting[priority]
            self._answering.append(batch)
            try:
                answers = await self._snapshots(batch.coins, priority)
            finally:
                self._answering.remove(batch)
        except BaseException as error:
            if len(batch.coins) > 1:  # the others wait for this answer: they share its fate
                if isinstance(error, asyncio.CancelledError):
                    batch.answer.cancel()
                else:
                    batch.answer.set_exception(error)
            raise
        batch.answer.set_result(answers)
        return answers[coin]

    async def wait_turn(self, *, priority: Priority) -> None:
        """Until an open-orders listing may leave at once, spending nothing."""
        await self._rest.budget.wait_for(info_weight("frontendOpenOrders"), priority=priority)

    async def _snapshots(
        self, coins: Sequence[str], priority: Priority
    ) -> dict[str, AccountSnapshot]:
        open_orders = await self.open_orders_of(coins, priority=priority)
        positions = await self.positions_of(coins, priority=priority)
        return {
            coin: AccountSnapshot(open_orders=open_orders[coin], position=positions[coin])
            for coin in coins
        }

    async def snapshot(self, coin: str, *, priority: Priority = Priority.QUERY) -> AccountSnapshot:
        """Open orders first, then the position (both stamped with local receive time)."""
        open_orders = await self.open_orders(coin, priority=priority)
        return AccountSnapshot(
            open_orders=open_orders, position=await self.position(coin, priority=priority)
        )

    async def open_orders(
        self, coin: str, *, priority: Priority = Priority.QUERY
    ) -> OpenOrdersReported:
        return (await self.open_orders_of((coin,), priority=priority))[coin]

    async def open_orders_of(
        self, coins: Sequence[str], *, priority: Priority = Priority.QUERY
    ) -> dict[str, OpenOrdersReported]:
        """Each coin's open orders, one query per perp dex. ``frontendOpenOrders`` (same
        weight as ``openOrders``) because only it carries the cloid, and reconciliation
        tells our orders from orphans by cloid."""
        reports: dict[str, OpenOrdersReported] = {}
        for members in by_dex(coins):
            # Dated when asked: the exchange lists after that (the request may yet wait for
            # budget). By the time the answer is heard an order placed since may rest, and
            # a stop begun in between must not take the answer for one asked after it.
            asked_ns = self._now_ns()
            asked_mono = None if self._monotonic_ns is None else self._monotonic_ns()
            orders, at = await self._ask("frontendOpenOrders", members[0], priority)
            for coin in members:
                report = parse_open_orders(
                    orders, coin=coin, ts_local=at, channel="frontendOpenOrders", asked_ns=asked_ns
                )
                reports[coin] = replace(report, asked_mono_ns=asked_mono)
        return reports

    async def position(self, coin: str, *, priority: Priority = Priority.QUERY) -> PositionReported:
        return (await self.positions_of((coin,), priority=priority))[coin]

    async def positions_of(
        self, coins: Sequence[str], *, priority: Priority = Priority.QUERY
    ) -> dict[str, PositionReported]:
        """Each coin's position (flat when the venue lists none), one query per perp dex."""
        positions: dict[str, PositionReported] = {}
        for members in by_dex(coins):
            state, at = await self._ask("clearinghouseState", members[0], priority)
            for coin in members:
                positions[coin] = parse_position(state, coin=coin, ts_local=at)
        return positions

    async def _ask(self, kind: str, coin: str, priority: Priority) -> tuple[object, int]:
        """``kind`` for ``coin``'s dex, and the local time the answer arrived."""
        answer = await self._rest.info(self._per_dex(kind, coin), priority=priority)
        return answer, self._now_ns()

    async def margin(self, coins: Sequence[str]) -> MarginReported:
        """The margin of the most used clearinghouse among ``coins``' perp dexes. Each dex
        margins its own positions, and one near its limit is not eased by another's room:
        reading only the first coin's dex never saw a builder dex's. One dex is read a
        call, in turn, beside the others' last readings: a request a poll, as with one
        dex (on a tight budget, reading every dex each poll kept placements waiting)."""
        groups = by_dex(coins)
        first_coin = groups[self._margin_turn % len(groups)][0]
        self._margin_turn += 1
        state, at = await self._ask("clearinghouseState", first_coin, Priority.QUERY)
        self._margin_by_dex[dex_of(first_coin)] = parse_margin(state, ts_local=at)
        return max(self._margin_by_dex.values(), key=lambda reading: reading.use)

    def _per_dex(self, kind: str, coin: str) -> dict[str, object]:
        body: dict[str, object] = {"type": kind, "user": self.user}
        dex = dex_of(coin)
        if dex:  # main-dex queries stay exactly as they were: no empty "dex" key
            body["dex"] = dex
        return body

    async def fills_since(self, start_ms: int) -> tuple[OrderFilled, ...]:
        """Every fill at or after ``start_ms``, following the 500-item pages."""
        fills: list[OrderFilled] = []
        cursor = start_ms
        while True:
            body = {"type": "userFillsByTime", "user": self.user, "startTime": cursor}
            answer = await self._rest.info(body)
            page = parse_fills(answer, ts_local=self._now_ns(), channel="userFillsByTime")
            fills.extend(page)
            if len(page) < _PAGE_LIMIT:
                return tuple(fills)
            newest_ms = max(fill.ts_exchange for fill in page) // _NS_PER_MS
            if newest_ms <= cursor:
                return tuple(fills)  # a page of one millisecond: nothing more to follow
            cursor = newest_ms

    async def funding_since(self, start_ms: int) -> tuple[FundingPaid, ...]:
        """Every funding payment at or after ``start_ms``, following the 500-item pages."""
        payments: list[FundingPaid] = []
        cursor = start_ms
        while True:
            body = {"type": "userFunding", "user": self.user, "startTime": cursor}
            answer = await self._rest.info(body)
            page = parse_user_funding(answer, ts_local=self._now_ns())
            payments.extend(page)
            newest_ms = max((p.ts_exchange for p in page), default=0) // _NS_PER_MS
            if len(page) < _PAGE_LIMIT or newest_ms <= cursor:
                return tuple(payments)
            cursor = newest_ms

    async def rate_limit(self) -> UserRateLimit:
        return parse_user_rate_limit(
            await self._rest.info({"type": "userRateLimit", "user": self.user})
        )
