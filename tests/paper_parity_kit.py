"""One scenario, two venues: the paper engine and the local venue, compared by what makerd hears.

The local venue (``makerd venue``) is our model of the exchange; the order gateway speaks to
it with real signing over HTTP (:class:`tests.test_hl_gateway.Harness`). The paper exchange
gets the venue's own book (taken before any order of ours rests on it: paper never sees
its own orders in the public book) and the same commands. Each side's answer is reduced to
what the order manager acts on: which orders were refused and why, and what rests after.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from makerd.config.model import PaperConfig
from makerd.protocol.account import PositionReported
from makerd.protocol.market import BookLevel, BookSnapshotReceived
from makerd.protocol.orders import (
    CancelRejected,
    ModifyRejected,
    OpenOrdersReported,
    OrderRejected,
    OrderRequest,
    RequestAccountSnapshot,
    TimeInForce,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.hl_local import LiquidityConfig, VenueConfig, VenueThread
from makerd.venues.hyperliquid.meta_fetch import fetch_listing
from makerd.venues.hyperliquid.rest import fetch_info_blocking
from makerd.venues.paper import PaperExchange
from tests.test_hl_gateway import Harness

STILL = LiquidityConfig(step_volatility_bps=0.0, taker_probability=0.0)
SETTLED_NS = 10**9
"""Long enough after a command for paper's entry and acknowledgement latencies."""


@contextmanager
def still_venue(seed: int, *, usdc: Decimal = Decimal(1_000_000)) -> Iterator[str]:
    """A local venue whose book holds still for the test (no drift, no takers, one tick a
    minute), every new signer funded with ``usdc``; yields its URL."""
    config = VenueConfig(
        port=0,
        auto_provision=True,
        seed=seed,
        tick_interval_s=60.0,
        liquidity=STILL,
        initial_usdc=usdc,
    )
    venue = VenueThread(config)
    try:
        yield venue.start()
    finally:
        venue.stop()


def now() -> int:
    return time.time_ns()


def venue_book(url: str, coin: str = "BTC") -> BookSnapshotReceived:
    """The venue's book now, as the paper engine's market data."""
    reply: Any = fetch_info_blocking(url, {"type": "l2Book", "coin": coin}, timeout_s=5)
    bids, asks = reply["levels"]
    now = time.time_ns()
    return BookSnapshotReceived(
        coin=coin,
        bids=tuple(BookLevel(price=Decimal(b["px"]), size=Decimal(b["sz"])) for b in bids),
        asks=tuple(BookLevel(price=Decimal(a["px"]), size=Decimal(a["sz"])) for a in asks),
        ts_exchange=now,
        ts_local=now,
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What makerd learns from a scenario: refusals (cloid, reason) and what rests after."""

    refused: tuple[tuple[str, RejectReason], ...]
    """(cloid, reason) of every refused order or modify, in cloid order."""
    cancel_refused: tuple[str, ...]
    resting: tuple[tuple[str, Decimal, Decimal], ...]
    """(cloid, price, size) of every order the venue lists after the scenario."""
    position: Decimal


def outcome(events: list[object]) -> Outcome:
    # Sorted: live makerd answers the refusals it makes itself before the venue's.
    refused = tuple(
        sorted(
            (event.cloid, event.reason)
            for event in events
            if isinstance(event, OrderRejected | ModifyRejected)
        )
    )
    reports = [event for event in events if isinstance(event, OpenOrdersReported)]
    positions = [event for event in events if isinstance(event, PositionReported)]
    listed = reports[-1].orders if reports else ()
    return Outcome(
        refused=refused,
        cancel_refused=tuple(e.cloid for e in events if isinstance(e, CancelRejected)),
        resting=tuple(sorted((o.cloid or "", o.price, o.size) for o in listed)),
        position=positions[-1].position if positions else Decimal(0),
    )


class Twins:
    """The local venue through the order gateway, and a paper exchange fed its book."""

    def __init__(self, url: str, *, paper: PaperConfig | None = None, coin: str = "BTC") -> None:
        self.url = url
        self.coin = coin
        others = () if coin == "BTC" else (coin,)
        self.harness = Harness(url, clock=time.time_ns, others=others)
        self.book = venue_book(url, coin)
        config = paper or PaperConfig()
        self.paper = PaperExchange(fetch_listing(url, coin).instrument, config, id_prefix="twin")
        self.paper.on_market(self.book)
        self._paper_now = self.book.ts_local

    def best(self, side: Side) -> Decimal:
        levels = self.book.bids if side is Side.BUY else self.book.asks
        return levels[0].price

    def run(self, *commands: object) -> tuple[Outcome, Outcome]:
        """Both venues' outcomes of ``commands`` (each venue asked what rests after)."""
        ask = RequestAccountSnapshot(coin=self.coin, ts_local=time.time_ns())
        self.harness.emitted.clear()
        live = outcome(list(self.harness.run(*commands, ask)))
        return live, outcome(self.run_paper(*commands, ask))

    def run_paper(self, *commands: object) -> list[object]:
        events: list[object] = []
        for command in commands:
            self.paper.submit(command, self._paper_now)  # type: ignore[arg-type]
            self._paper_now += SETTLED_NS
            events += self.paper.advance(self._paper_now)
        return events


def request(
    n: int,
    side: Side,
    price: Decimal,
    size: str,
    *,
    tif: TimeInForce = TimeInForce.POST_ONLY,
    reduce_only: bool = False,
    coin: str = "BTC",
) -> OrderRequest:
    return OrderRequest(
        cloid=f"0x{n:032x}",
        coin=coin,
        side=side,
        price=price,
        size=Decimal(size),
        tif=tif,
        reduce_only=reduce_only,
    )
