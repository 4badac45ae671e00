"""Paper mode: Hyperliquid-shaped public market data, paper matching, no key anywhere."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import TypeVar

import pytest

from makerd.config.model import CoinSpec, HyperliquidConfig, MakerdConfig, Mode
from makerd.protocol.account import FundingPaid, OrderFilled
from makerd.protocol.clock import WallClock
from makerd.protocol.market import BookSnapshotReceived, FeedMessageDropped, TradePrinted
from makerd.protocol.orders import OrderRequest, PlaceOrders, TimeInForce
from makerd.protocol.side import Side
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.paper import PaperHyperliquidVenue
from tests.test_hl_live_e2e import fault, wait_until


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=3, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


def _paper_btc(venue_url: str) -> MakerdConfig:
    """Paper mode on BTC, with the local venue's public data."""
    return dataclasses.replace(
        MakerdConfig(mode=Mode.PAPER, coin="BTC"), hyperliquid=HyperliquidConfig(api_url=venue_url)
    )


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
    config = _paper_btc(venue_url)
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
    config = _paper_btc(venue_url)
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


def test_paper_mode_with_several_coins_charges_each_coin_funding_on_its_own_position(
    venue_url: str,
) -> None:
    config = dataclasses.replace(
        MakerdConfig(mode=Mode.PAPER, coins=(CoinSpec(coin="BTC"), CoinSpec(coin="xyz:TSLA"))),
        hyperliquid=HyperliquidConfig(api_url=venue_url),
    )
    sizes = {"BTC": Decimal("0.002"), "xyz:TSLA": Decimal("0.5")}
    sink = Collector()
    venue = PaperHyperliquidVenue(config, clock=WallClock(), funding_interval_s=1.0)
    venue.start(sink)
    try:
        books = wait_for_each_coin(sink, BookSnapshotReceived, set(sizes))
        crossing_sells = tuple(
            OrderRequest(
                cloid=f"0x{i:032x}",
                coin=coin,
                side=Side.SELL,
                # 1% through the bid, in whole dollars (on tick for both): the book may move.
                price=(books[coin].bids[0].price * Decimal("0.99")).quantize(Decimal(1)),
                size=size,
                tif=TimeInForce.IMMEDIATE_OR_CANCEL,
            )
            for i, (coin, size) in enumerate(sizes.items(), start=1)
        )
        venue.submit(PlaceOrders(orders=crossing_sells, ts_local=WallClock().now_ns()))
        payments = wait_for_each_coin(sink, FundingPaid, set(sizes))
    finally:
        venue.stop()
    assert {coin: p.position for coin, p in payments.items()} == {c: -s for c, s in sizes.items()}
    assert all(p.rate == Decimal("0.0000125") for p in payments.values()), payments


E = TypeVar("E", BookSnapshotReceived, FundingPaid)


def wait_for_each_coin(sink: Collector, kind: type[E], coins: set[str]) -> dict[str, E]:
    """The latest ``kind`` event of each of ``coins``, once every coin has one."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = {e.coin: e for e in list(sink.events) if isinstance(e, kind)}
        if coins <= set(seen):
            return seen
        time.sleep(0.05)
    others = [e for e in sink.events if not isinstance(e, BookSnapshotReceived | TradePrinted)]
    raise AssertionError(f"{kind.__name__} only for {sorted(seen)} of {sorted(coins)}: {others}")


def test_paper_mode_counts_a_coin_the_venue_does_not_list_as_unknown_not_wrong(
    venue_url: str,
) -> None:
    config = _paper_btc(venue_url)
    sink = Collector()
    venue = PaperHyperliquidVenue(config, clock=WallClock())

    def dropped() -> list[str]:
        return [e.reason for e in list(sink.events) if isinstance(e, FeedMessageDropped)]

    venue.start(sink)
    try:
        assert sink.book.wait(10), "no book from the venue"
        # A book for ETH (listed, not traded here) and one for a coin the venue never listed.
        frames = {"count": 2, "kinds": ["wrong_coin", "unknown_coin"], "stream": "market"}
        fault(venue_url, {"malformed_frames": frames})
        wait_until(lambda: len(dropped()) >= 2, timeout_s=10)
    finally:
        venue.stop()

    assert sorted(dropped()) == ["unknown_coin", "wrong_coin"]
