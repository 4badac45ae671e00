"""Sim mode with several coins: one synthetic market and paper exchange per coin.

The coins' prices share a common factor (``sim.correlation``) plus each coin's own noise,
so account-wide limits see the correlated moves a real basket has. Commands are split per
coin and margin answers joined as in paper mode (:mod:`venues.paper.basket`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from makerd.config.model import PaperConfig, SimConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import VenueCommand
from makerd.venues.paper.basket import CoinSplit, join_margins
from makerd.venues.paper.margin import PaperAccount
from makerd.venues.sim.price import CommonFactor
from makerd.venues.sim.venue import SimVenue, delivery_time


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
        # One account's margin for every coin's orders, as at the venue.
        account = PaperAccount(paper.account_value_usd)
        for venue in self.venues.values():
            venue.exchange.join_account(account)
        self._paper = paper
        self._split = CoinSplit(tuple(self.venues), coin_of_cloid=coin_of_cloid)

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        for coin, part in self._split.split(command):
            self.venues[coin].submit(part, now_ns)

    def advance(self, now_ns: int) -> list[object]:
        streams = [venue.advance(now_ns) for venue in self.venues.values()]
        merged: list[object] = list(heapq.merge(*streams, key=delivery_time))  # type: ignore[arg-type]
        return list(join_margins(merged, start=self._paper.account_value_usd))
