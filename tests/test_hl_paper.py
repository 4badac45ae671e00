"""Paper mode: Hyperliquid-shaped public market data, paper matching, no key anywhere."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from config.model import HyperliquidConfig, MakerdConfig, Mode
from protocol.account import FundingPaid, OrderFilled
from protocol.clock import WallClock
from protocol.market import BookSnapshotReceived
from protocol.orders import OrderRequest, PlaceOrders, TimeInForce
from protocol.side import Side
from venues.hl_local.background import VenueThread
from venues.hl_local.server import VenueConfig
from venues.hyperliquid.paper import PaperHyperliquidVenue


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=3, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


class Collector:
    """A sink that remembers events and wakes waiters when a wanted one arrives."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.book = threading.Event()
        self.filled = threading.Event()
        self.funded = threading.Event()

    def __call__(self, event: object) -> None:
        self.events.append(event)
        if isinstance(event, BookSnapshotReceived):
            self.book.set()
        if isinstance(event, OrderFilled):
            self.filled.set()
        if isinstance(event, FundingPaid):
            self.funded.set()


def test_paper_mode_fills_an_order_from_public_data_without_any_key(
    venue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAKERD_PRIVATE_KEY", raising=False)
    config = dataclasses.replace(
        MakerdConfig(mode=Mode.PAPER, coin="BTC"),
        hyperliquid=HyperliquidConfig(api_url=venue_url),
    )
    sink = Collector()
    venue = PaperHyperliquidVenue(config, clock=WallClock())
    venue.start(sink)
    try:
        assert sink.book.wait(5), "public l2Book arrives over the WebSocket"
        book = next(e for e in sink.events if isinstance(e, BookSnapshotReceived))
        crossing_buy = OrderRequest(
            cloid="0x" + "d" * 32,
            coin="BTC",
            side=Side.BUY,
            price=book.asks[0].price + 50,
            size=Decimal("0.001"),
            tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        )

        venue.submit(PlaceOrders(orders=(crossing_buy,), ts_local=WallClock().now_ns()))

        assert sink.filled.wait(5), "the paper exchange fills the crossing order"
    finally:
        venue.stop()
    fill = next(e for e in sink.events if isinstance(e, OrderFilled))
    assert fill.cloid == crossing_buy.cloid
    assert fill.trade_id.startswith("paper-")
    assert venue.basket.exchanges["BTC"].position == fill.size


def test_paper_mode_charges_the_markets_funding_rate_on_the_paper_position(
    venue_url: str,
) -> None:
    config = dataclasses.replace(
        MakerdConfig(mode=Mode.PAPER, coin="BTC"),
        hyperliquid=HyperliquidConfig(api_url=venue_url),
    )
    sink = Collector()
    venue = PaperHyperliquidVenue(config, clock=WallClock(), funding_interval_s=1.0)
    venue.start(sink)
    try:
        assert sink.book.wait(5)
        book = next(e for e in sink.events if isinstance(e, BookSnapshotReceived))
        crossing_sell = OrderRequest(
            cloid="0x" + "e" * 32,
            coin="BTC",
            side=Side.SELL,
            price=book.bids[0].price - 50,
            size=Decimal("0.002"),
            tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
        venue.submit(PlaceOrders(orders=(crossing_sell,), ts_local=WallClock().now_ns()))
        assert sink.filled.wait(5)
        assert sink.funded.wait(5), "a funding time passes with the position open"
    finally:
        venue.stop()
    payment = next(e for e in sink.events if isinstance(e, FundingPaid))
    mid = (book.bids[0].price + book.asks[0].price) / 2
    assert payment.position == Decimal("-0.002")
    assert payment.rate == Decimal("0.0000125"), "the rate the venue's asset context states"
    # A short receives a positive rate: about 0.002 x 60000 x 0.0000125 = 0.0015 USD.
    assert payment.amount > 0
    assert abs(payment.amount - Decimal("0.002") * mid * payment.rate) < Decimal("0.0001")
