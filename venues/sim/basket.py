"""Sim mode with several coins: one synthetic market and paper exchange per coin.

The coins' prices share a common factor (``sim.correlation``) plus each coin's own noise,
so account-wide limits see the correlated moves a real basket has. A command naming
several coins' orders (a batch) is split per coin; one naming orders only by client id
goes to the coin the id was minted for.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TypeVar

from config.model import PaperConfig, SimConfig
from protocol.instrument import Instrument
from protocol.orders import (
    ArmDeadManSwitch,
    CancelOrders,
    ModifyOrders,
    PlaceOrders,
    RequestMargin,
    VenueCommand,
)
from protocol.risk import MarginReported
from venues.sim.price import CommonFactor
from venues.sim.venue import SimVenue, delivery_time

T = TypeVar("T")


class SimBasket:
    """A :class:`venues.base.SteppedVenue` over several coins' :class:`SimVenue`."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        *,
        sim: SimConfig,
        paper: PaperConfig,
        start_ns: int,
        coin_of_cloid: Callable[[str], str | None],
    ) -> None:
        common = CommonFactor(seed=sim.seed, correlation=sim.correlation)
        self.venues = {
            instrument.coin: SimVenue(
                instrument, sim=sim, paper=paper, start_ns=start_ns, common=common
            )
            for instrument in instruments
        }
        self._first = instruments[0].coin
        self._paper = paper
        self._coin_of_cloid = coin_of_cloid

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        for coin, part in self._split(command):
            self.venues[coin].submit(part, now_ns)

    def advance(self, now_ns: int) -> list[object]:
        streams = [venue.advance(now_ns) for venue in self.venues.values()]
        merged: list[object] = list(heapq.merge(*streams, key=delivery_time))  # type: ignore[arg-type]
        margins = [event for event in merged if isinstance(event, MarginReported)]
        if not margins:
            return merged
        others = [event for event in merged if not isinstance(event, MarginReported)]
        return [*others, self._account_margin(margins)]

    def _account_margin(self, reports: list[MarginReported]) -> MarginReported:
        """One account over every coin: each coin's exchange counts the starting value once."""
        start = self._paper.account_value_usd
        return MarginReported(
            account_value=sum((r.account_value - start for r in reports), start),
            margin_used=sum((r.margin_used for r in reports), Decimal(0)),
            ts_exchange=max(r.ts_exchange for r in reports),
            ts_local=max(r.ts_local for r in reports),
        )

    def _split(self, command: VenueCommand) -> list[tuple[str, VenueCommand]]:
        if isinstance(command, ArmDeadManSwitch):
            return [(self._first, command)]  # sim orders die with the process anyway
        if isinstance(command, RequestMargin):
            return [(coin, command) for coin in self.venues]  # one answer made of all
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

    def _group(
        self, items: Iterable[T], coin_of: Callable[[T], str | None]
    ) -> list[tuple[str, tuple[T, ...]]]:
        groups: dict[str, list[T]] = {}
        for item in items:
            groups.setdefault(self._known(coin_of(item)), []).append(item)
        return [(coin, tuple(group)) for coin, group in groups.items()]

    def _known(self, coin: str | None) -> str:
        """An unknown coin or id goes to the first coin's exchange, which refuses it."""
        return coin if coin is not None and coin in self.venues else self._first
