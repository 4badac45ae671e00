"""The order rules, on paper and at the venue: one scenario each, the same answer expected.

Tick and lot, the $10 minimum order value (reduce-only orders exempt, a builder dex's coin
held to the same $10), reduce-only without a position, the price band, partial fills of
crossing orders, immediate-or-cancel remainders and the cancel of an order already filled.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from makerd.protocol.orders import CancelOrders, CancelReason, PlaceOrders, TimeInForce
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from tests.paper_parity_kit import Twins, now, request, still_venue


@pytest.fixture
def venue_url() -> Iterator[str]:
    with still_venue(seed=105) as url:
        yield url


GTC = TimeInForce.GOOD_TILL_CANCEL
IOC = TimeInForce.IMMEDIATE_OR_CANCEL


def place(*orders: object) -> PlaceOrders:
    return PlaceOrders(orders=orders, ts_local=now())  # type: ignore[arg-type]


def test_tick_lot_and_minimum_value_refusals_agree(venue_url: str) -> None:
    twins = Twins(venue_url)
    low = twins.best(Side.BUY) - 100
    off_tick = request(1, Side.BUY, low + Decimal("0.5"), "0.001")
    off_lot = request(2, Side.BUY, low, "0.000015")
    too_small = request(3, Side.BUY, low, "0.00009")

    live, paper = twins.run(place(off_tick, off_lot, too_small))

    assert live.refused == (
        (off_tick.cloid, RejectReason.TICK),
        (off_lot.cloid, RejectReason.LOT),
        (too_small.cloid, RejectReason.MIN_NOTIONAL),
    )
    assert paper == live


def test_a_reduce_only_order_under_the_minimum_value_is_taken_on_both(venue_url: str) -> None:
    twins = Twins(venue_url)
    bought = request(4, Side.BUY, twins.best(Side.SELL), "0.00005", tif=IOC, reduce_only=False)
    tiny_close = request(5, Side.SELL, twins.best(Side.SELL) + 100, "0.00005", reduce_only=True)
    big = request(6, Side.BUY, twins.best(Side.SELL), "0.0002", tif=IOC)

    live, paper = twins.run(place(big), place(tiny_close), place(bought))

    assert live.refused == ((bought.cloid, RejectReason.MIN_NOTIONAL),)
    assert live.resting == ((tiny_close.cloid, tiny_close.price, tiny_close.size),)
    assert live.position == big.size
    assert paper == live


def test_a_builder_dex_coin_has_the_same_ten_dollar_minimum_on_both(venue_url: str) -> None:
    twins = Twins(venue_url, coin="xyz:TSLA")
    low = twins.best(Side.BUY) - 5
    under = request(7, Side.BUY, low, "0.039", coin="xyz:TSLA")
    over = request(8, Side.BUY, low, "0.041", coin="xyz:TSLA")
    assert under.price * under.size < 10 < over.price * over.size

    live, paper = twins.run(place(under, over))

    assert live.refused == ((under.cloid, RejectReason.MIN_NOTIONAL),)
    assert live.resting == ((over.cloid, over.price, over.size),)
    assert paper == live


def test_reduce_only_without_a_position_and_the_price_band_agree(venue_url: str) -> None:
    twins = Twins(venue_url)
    reduce = request(9, Side.SELL, twins.best(Side.SELL) + 100, "0.001", reduce_only=True)
    far = request(10, Side.BUY, twins.best(Side.BUY) / 10, "0.002")

    live, paper = twins.run(place(reduce, far))

    assert live.refused == (
        (reduce.cloid, RejectReason.REDUCE_ONLY),
        (far.cloid, RejectReason.OTHER),
    )
    assert paper == live


def test_crossing_orders_fill_partly_and_rest_or_cancel_the_rest_alike(venue_url: str) -> None:
    twins = Twins(venue_url)
    bid, ask = twins.book.bids[0], twins.book.asks[0]
    ioc = request(11, Side.SELL, bid.price, str(bid.size + 1), tif=IOC)
    gtc = request(12, Side.BUY, ask.price, str(ask.size + Decimal("0.01")), tif=GTC)

    live, paper = twins.run(place(ioc), place(gtc))

    assert live.resting == ((gtc.cloid, gtc.price, Decimal("0.01")),)
    assert live.position == ask.size - bid.size
    assert paper == live


def test_cancelling_an_order_that_already_filled_is_refused_on_both(venue_url: str) -> None:
    twins = Twins(venue_url)
    filled = request(13, Side.BUY, twins.best(Side.SELL), "0.001", tif=GTC)

    live, paper = twins.run(
        place(filled),
        CancelOrders(cloids=(filled.cloid,), reason=CancelReason.REQUOTE, ts_local=now()),
    )

    assert live.cancel_refused == (filled.cloid,)
    assert live.resting == ()
    assert live.position == filled.size
    assert paper == live
