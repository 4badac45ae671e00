"""Several coins' paper exchanges as one account: commands split per coin, answers joined.

Each coin has its own :class:`PaperExchange` (its own book, queue and position). A command
naming several coins' orders (a batch) is split per coin; one naming orders only by client
id goes to the coin the id was minted for. A margin question goes to every coin and the
answers become one account's (each coin's exchange counts the starting value once). Sim
mode (:mod:`venues.sim.basket`) and paper mode share the split and the margin sum.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TypeVar

from makerd.config.model import PaperConfig
from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.protocol.orders import (
    ArmDeadManSwitch,
    CancelOrders,
    DeadManSwitchArmed,
    ModifyOrders,
    PlaceOrders,
    RequestMargin,
    SweepOrders,
    VenueCommand,
)
from makerd.protocol.risk import MarginReported
from makerd.venues.paper.exchange import PaperExchange
from makerd.venues.paper.margin import PaperAccount
from makerd.venues.paper.replies import PaperEvent

T = TypeVar("T")
E = TypeVar("E")


class CoinSplit:
    """Which coin's exchange each part of a command belongs to."""

    def __init__(self, coins: Sequence[str], *, coin_of_cloid: Callable[[str], str | None]) -> None:
        self._coins = tuple(coins)
        self._first = coins[0]
        self._coin_of_cloid = coin_of_cloid

    def split(self, command: VenueCommand) -> list[tuple[str, VenueCommand]]:
        if isinstance(command, ArmDeadManSwitch):
            # One switch for the account: every coin's orders go when it fires.
            return [(coin, command) for coin in self._coins]
        if isinstance(command, RequestMargin | SweepOrders):
            return self._each_coin(command)
        if isinstance(command, PlaceOrders):
            orders = self._group(command.orders, lambda order: order.coin)
            return [(coin, replace(command, orders=part)) for coin, part in orders]
        if isinstance(command, CancelOrders):
            cloids = self._group(command.cloids, self._coin_of_cloid)
            return [(coin, replace(command, cloids=part)) for coin, part in cloids]
        if isinstance(command, ModifyOrders):
            changes = self._group(
                command.amendments, lambda change: self._coin_of_cloid(change.cloid)
            )
            return [(coin, replace(command, amendments=part)) for coin, part in changes]
        return [(self._known(command.coin), command)]

    def _each_coin(self, command: RequestMargin | SweepOrders) -> list[tuple[str, VenueCommand]]:
        """A question each coin's exchange answers for itself: the margin (one answer made
        of all) or a sweep (of the coins it names)."""
        if isinstance(command, RequestMargin):
            return [(coin, command) for coin in self._coins]
        named = [coin for coin in self._coins if coin in command.coins]
        return [(coin, replace(command, coins=(coin,))) for coin in named]

    def _group(
        self, items: Iterable[T], coin_of: Callable[[T], str | None]
    ) -> list[tuple[str, tuple[T, ...]]]:
        groups: dict[str, list[T]] = {}
        for item in items:
            groups.setdefault(self._known(coin_of(item)), []).append(item)
        return [(coin, tuple(group)) for coin, group in groups.items()]

    def _known(self, coin: str | None) -> str:
        """An unknown coin or id goes to the first coin's exchange, which refuses it."""
        return coin if coin is not None and coin in self._coins else self._first


def join_margins(events: list[E], *, start: Decimal) -> list[E | MarginReported]:
    """``events`` with every coin's :class:`MarginReported` made one account's, last, and
    every coin's answer to one dead-man switch arm made one."""
    events = _one_arm_answer(events)
    reports: list[MarginReported] = [e for e in events if isinstance(e, MarginReported)]
    if not reports:
        return list(events)
    others: list[E | MarginReported] = [e for e in events if not isinstance(e, MarginReported)]
    return [*others, account_margin(reports, start=start)]


def _one_arm_answer(events: list[E]) -> list[E]:
    """Each coin's exchange answers the account's one switch: keep the first answer."""
    seen: set[int] = set()
    kept: list[E] = []
    for event in events:
        if isinstance(event, DeadManSwitchArmed):
            if event.cancel_at_ns in seen:
                continue
            seen.add(event.cancel_at_ns)
        kept.append(event)
    return kept


def account_margin(reports: list[MarginReported], *, start: Decimal) -> MarginReported:
    """One account over every coin: each coin's exchange counts the starting value once."""
    return MarginReported(
        account_value=sum((r.account_value - start for r in reports), start),
        margin_used=sum((r.margin_used for r in reports), Decimal(0)),
        ts_exchange=max(r.ts_exchange for r in reports),
        ts_local=max(r.ts_local for r in reports),
    )


def _no_coin(_: str) -> str | None:
    return None


class PaperBasket:
    """One :class:`PaperExchange` per coin behind one account (paper mode's matching)."""

    def __init__(
        self,
        exchanges: Mapping[str, PaperExchange],
        *,
        paper: PaperConfig,
        coin_of_cloid: Callable[[str], str | None] | None = None,
    ) -> None:
        """``coin_of_cloid`` routes a cancel or modify by client id (None: one coin)."""
        self.exchanges = dict(exchanges)
        self._start = paper.account_value_usd
        # Every coin's orders are checked against one account's margin, as at the venue.
        account = PaperAccount(paper.account_value_usd)
        for exchange in self.exchanges.values():
            exchange.join_account(account)
        self._split = CoinSplit(tuple(exchanges), coin_of_cloid=coin_of_cloid or _no_coin)

    def journal_as(self, session_id: int) -> None:
        """Every coin's trade ids minted for journal session ``session_id``."""
        for exchange in self.exchanges.values():
            exchange.journal_as(session_id)

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        for coin, part in self._split.split(command):
            self.exchanges[coin].submit(part, now_ns)

    def cap_open_interest(self, capped: frozenset[str]) -> None:
        """The coins the exchange lists at their open-interest cap now (the others not)."""
        for coin, exchange in self.exchanges.items():
            exchange.cap_open_interest(coin in capped)

    def on_market(self, event: BookSnapshotReceived | TradePrinted) -> None:
        """A coin's book or trade, to that coin's exchange (another coin's is ignored)."""
        exchange = self.exchanges.get(event.coin)
        if exchange is not None:
            exchange.on_market(event)

    def on_book_held(self, book: BookSnapshotReceived) -> None:
        """A coin's book as its exchange held it, ahead of its receipt (see the exchange's)."""
        exchange = self.exchanges.get(book.coin)
        if exchange is not None:
            exchange.on_book_held(book)

    @property
    def open_order_count(self) -> int:
        """How many of our orders every coin's exchange holds."""
        return sum(exchange.open_order_count for exchange in self.exchanges.values())

    @property
    def longest_latency_ns(self) -> int:
        """The longest any coin's command may take from its submission to its answer."""
        return max(exchange.longest_latency_ns for exchange in self.exchanges.values())

    def next_due_ns(self) -> int | None:
        """When any coin's next command takes effect or reply is delivered (None: nothing)."""
        due = [exchange.next_due_ns() for exchange in self.exchanges.values()]
        return min((at for at in due if at is not None), default=None)

    def events_until(self, now_ns: int) -> list[PaperEvent]:
        """Every coin's events due by ``now_ns`` in delivery order, margins joined."""
        streams = [exchange.events_until(now_ns) for exchange in self.exchanges.values()]
        merged = list(heapq.merge(*streams, key=lambda event: event.ts_local))
        return join_margins(merged, start=self._start)
