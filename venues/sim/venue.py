"""Sim mode's venue: the synthetic market feeding the paper exchange, on one clock."""

from __future__ import annotations

import heapq
from decimal import Decimal

from makerd.config.model import PaperConfig, SimConfig
from makerd.protocol.account import FundingPaid
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import VenueCommand
from makerd.venues.paper.exchange import PaperExchange
from makerd.venues.paper.funding import FundingSchedule, funding_payment
from makerd.venues.paper.replies import PaperEvent
from makerd.venues.sim.market import MarketEvent, SyntheticMarket
from makerd.venues.sim.price import CommonFactor

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


def sim_instrument(sim: SimConfig, coin: str = "BTC", asset_id: int = 0) -> Instrument:
    """The instrument the synthetic market trades (Hyperliquid's rules)."""
    return Instrument(coin=coin, asset_id=asset_id, sz_decimals=sim.sz_decimals)


class SimVenue:
    """A :class:`venues.base.SteppedVenue`: market data and our order events, in time order.

    The paper exchange sees only the market's public events, exactly as it would see
    Hyperliquid's feed in paper mode; trade ids are prefixed with the start time so a
    later run never repeats an earlier run's ids. At each funding time the open position
    pays (or receives) ``sim.funding_rate`` on the synthetic mid.
    """

    def __init__(
        self,
        instrument: Instrument,
        *,
        sim: SimConfig,
        paper: PaperConfig,
        start_ns: int,
        common: CommonFactor | None = None,
    ) -> None:
        """With several coins, each has its own venue: seeded by its asset id, sharing
        ``common``, trade ids prefixed with its coin so no two coins' ids collide."""
        self._market = SyntheticMarket(
            instrument,
            scenario=sim.scenario,
            seed=sim.seed + instrument.asset_id,
            start_price=sim.start_price,
            step_ns=sim.step_ms * NS_PER_MS,
            start_ns=start_ns,
            common=common,
        )
        prefix = f"sim{start_ns}" if common is None else f"sim{start_ns}{instrument.coin}"
        self._exchange = PaperExchange(instrument, paper, id_prefix=prefix)
        self._coin = instrument.coin
        self._funding_rate = sim.funding_rate
        self._funding = FundingSchedule(
            interval_ns=round(sim.funding_interval_s * NS_PER_S), start_ns=start_ns
        )

    @property
    def mid(self) -> Decimal:
        """The synthetic market's true mid (for status lines; quoting must use the book)."""
        return self._market.mid

    @property
    def exchange(self) -> PaperExchange:
        """The paper exchange behind this venue (position and open orders, for tests)."""
        return self._exchange

    @property
    def open_order_count(self) -> int:
        """How many of our orders the paper exchange holds."""
        return self._exchange.open_order_count

    def journal_as(self, session_id: int) -> None:
        """Fills minted for journal session ``session_id`` (see ``PaperExchange``)."""
        self._exchange.journal_as(session_id)

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        """Queue a command; its effects appear in later ``advance`` results."""
        self._exchange.submit(command, now_ns)

    def advance(self, now_ns: int) -> list[object]:
        """Run the market to ``now_ns`` and return its events merged with the exchange's."""
        market_events = self._market.step_until(now_ns)
        for event in market_events:
            self._exchange.on_market(event)
        venue_events = self._exchange.events_until(now_ns)
        funding = self._funding_until(now_ns)
        merged = heapq.merge(market_events, venue_events, funding, key=delivery_time)
        return list(merged)

    def _funding_until(self, now_ns: int) -> list[FundingPaid]:
        payments = (
            funding_payment(
                coin=self._coin,
                position=self._exchange.position,
                mark=self._market.mid,
                rate=self._funding_rate,
                time_ns=time_ns,
                ts_local=time_ns,
            )
            for time_ns in self._funding.due(now_ns)
        )
        paid = [payment for payment in payments if payment is not None]
        for payment in paid:
            self._exchange.book_funding(payment.amount)
        return paid


def delivery_time(event: MarketEvent | PaperEvent | FundingPaid) -> int:
    return event.ts_local
