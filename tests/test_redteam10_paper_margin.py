"""Margin at placement, on paper and at the venue.

The venue refuses an order whose margin (its notional over the leverage), on top of what
the positions and resting orders already use, exceeds the account's value: "Insufficient
margin to place order." Paper used to accept any order and only report the margin the
position used, so a paper run could rest a ladder no real account of its size could hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from makerd.config.model import PaperConfig, SimConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookLevel, BookSnapshotReceived
from makerd.protocol.orders import (
    ModifyOrders,
    OrderAmendment,
    OrderRejected,
    PlaceOrders,
    TimeInForce,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.paper import PaperExchange
from makerd.venues.paper.basket import PaperBasket
from makerd.venues.sim.basket import SimBasket
from makerd.venues.sim.venue import sim_instrument
from tests.kit import T0, S
from tests.paper_parity_kit import Twins, now, request, still_venue

USDC = Decimal(1000)
"""Both accounts' value: at 20x, 20,000 USD of orders and positions (0.2 BTC at 100,000)."""
ACCOUNT = PaperConfig(account_value_usd=USDC, leverage=20)


@pytest.fixture
def venue_url() -> Iterator[str]:
    with still_venue(seed=102, usdc=USDC) as url:
        yield url


def test_an_order_past_the_accounts_margin_is_refused_on_paper_as_at_the_venue(
    venue_url: str,
) -> None:
    twins = Twins(venue_url, paper=ACCOUNT)
    price = twins.best(Side.BUY) - 500
    bids = [request(n, Side.BUY, price - n, "0.08") for n in (1, 2, 3)]

    live, paper = twins.run(PlaceOrders(orders=tuple(bids), ts_local=now()))

    assert live.refused == ((bids[2].cloid, RejectReason.INSUFFICIENT_MARGIN),)
    assert [cloid for cloid, _, _ in live.resting] == [bids[0].cloid, bids[1].cloid]
    assert paper == live


def test_a_modify_past_the_margin_is_refused_and_cancels_the_order_on_both(
    venue_url: str,
) -> None:
    twins = Twins(venue_url, paper=ACCOUNT)
    bid = request(4, Side.BUY, twins.best(Side.BUY) - 500, "0.05")
    too_big = OrderAmendment(cloid=bid.cloid, price=bid.price, size=Decimal("0.25"))

    live, paper = twins.run(
        PlaceOrders(orders=(bid,), ts_local=now()),
        ModifyOrders(amendments=(too_big,), ts_local=now()),
    )

    assert live.refused == ((bid.cloid, RejectReason.INSUFFICIENT_MARGIN),)
    assert live.resting == ()
    assert paper == live


def test_an_order_that_only_closes_the_position_needs_no_margin_on_either(venue_url: str) -> None:
    """Bought 0.1 with an IOC; bids then hold the rest of the margin. Selling the 0.1 back
    needs none; a further bid is refused."""
    twins = Twins(venue_url, paper=ACCOUNT)
    take = request(
        5, Side.BUY, twins.best(Side.SELL) + 100, "0.1", tif=TimeInForce.IMMEDIATE_OR_CANCEL
    )
    low = twins.best(Side.BUY) - 500
    holding = request(6, Side.BUY, low, "0.09")
    close = request(7, Side.SELL, twins.best(Side.SELL) + 500, "0.1")
    more = request(8, Side.BUY, low - 1, "0.02")

    live, paper = twins.run(
        PlaceOrders(orders=(take,), ts_local=now()),
        PlaceOrders(orders=(holding, close, more), ts_local=now()),
    )

    assert live.position == Decimal("0.1")
    assert live.refused == ((more.cloid, RejectReason.INSUFFICIENT_MARGIN),)
    assert {cloid for cloid, _, _ in live.resting} == {holding.cloid, close.cloid}
    assert paper == live


def test_every_coins_orders_draw_on_one_accounts_margin_on_paper() -> None:
    """The venue has one account for every coin: BTC's resting bids leave ETH too little."""
    instruments = {
        "BTC": Instrument(coin="BTC", asset_id=0, sz_decimals=5),
        "ETH": Instrument(coin="ETH", asset_id=1, sz_decimals=4),
    }
    basket = PaperBasket(
        {coin: PaperExchange(i, ACCOUNT, id_prefix=coin) for coin, i in instruments.items()},
        paper=ACCOUNT,
    )
    for coin, mid in (("BTC", 100_000), ("ETH", 3_000)):
        levels = (BookLevel(price=Decimal(mid - 1), size=Decimal(5)),)
        asks = (BookLevel(price=Decimal(mid + 1), size=Decimal(5)),)
        basket.on_market(
            BookSnapshotReceived(coin=coin, bids=levels, asks=asks, ts_exchange=T0, ts_local=T0)
        )
    btc = request(1, Side.BUY, Decimal(99_000), "0.15")
    eth = request(2, Side.BUY, Decimal(2_900), "2", coin="ETH")

    basket.submit(PlaceOrders(orders=(btc, eth), ts_local=T0), T0)
    events = basket.events_until(T0 + S)

    refused = [(e.cloid, e.reason) for e in events if isinstance(e, OrderRejected)]
    assert refused == [(eth.cloid, RejectReason.INSUFFICIENT_MARGIN)]


def test_sim_modes_coins_draw_on_one_accounts_margin_too() -> None:
    sim = SimConfig()
    instruments = [sim_instrument(sim, "BTC", 0), sim_instrument(sim, "ETH", 1)]
    basket = SimBasket(
        instruments, sim=sim, paper=ACCOUNT, start_ns=T0, coin_of_cloid=lambda _: None
    )
    basket.advance(T0 + S)
    low = sim.start_price / 2
    btc = request(1, Side.BUY, low, "0.6")
    eth = request(2, Side.BUY, low, "0.1", coin="ETH")

    basket.submit(PlaceOrders(orders=(btc, eth), ts_local=T0 + S), T0 + S)
    events = basket.advance(T0 + 2 * S)

    refused = [(e.cloid, e.reason) for e in events if isinstance(e, OrderRejected)]
    assert refused == [(eth.cloid, RejectReason.INSUFFICIENT_MARGIN)]
