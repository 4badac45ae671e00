"""Paper behaves as live: one order stream, the paper engine and the local venue, same answers.

Each order goes to the paper matching engine (fed the venue's own book) and, through the
unmodified Hyperliquid SDK over loopback, to the local venue; the venue's answer is read
by the live adapter's own error classifier. Whatever one accepts the other must accept,
at the same price and size; whatever one refuses the other must refuse for the same
reason, in the same words (the venue adds `` asset=<id>``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from makerd.config.model import PaperConfig
from makerd.protocol.account import OrderFilled
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookLevel, BookSnapshotReceived
from makerd.protocol.orders import OrderAccepted, OrderRejected, OrderRequest, TimeInForce
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.errors import classify_error
from makerd.venues.hyperliquid.meta import parse_meta
from makerd.venues.paper.matching import MatchingEngine
from tests.local_venue_kit import still_venue

DEXES = ["", "xyz"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What a venue made of one order: accepted (the size filled at its average price, or
    resting at its limit) or refused (the reason and the text)."""

    reason: str
    text: str = ""
    size: Decimal = Decimal(0)
    price: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    coin: str
    side: Side
    price: str
    """A decimal, or ``bid`` / ``ask``: the touch at the moment of sending."""
    size: str
    tif: TimeInForce = TimeInForce.POST_ONLY
    reduce_only: bool = False


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    """A frozen book (no tick in the test's time): what the snapshot shows is what the
    order meets, down to the last level's size."""
    with still_venue(seed=3, tick_interval_s=3600) as url:
        yield url


@pytest.fixture(scope="module")
def instruments(venue_url: str) -> dict[str, Instrument]:
    """Each coin as the live adapter reads the venue's meta (builder dex included)."""
    info = Info(venue_url, skip_ws=True, perp_dexs=DEXES)
    return {**parse_meta(info.meta()), **parse_meta(info.meta(dex="xyz"), dex_index=1)}


class Pair:
    """One account at the local venue and one paper engine, sent the same orders."""

    def __init__(self, url: str, instrument: Instrument) -> None:
        self._info = Info(url, skip_ws=True, perp_dexs=DEXES)
        self._exchange = Exchange(eth_account.Account.create(), url, perp_dexs=DEXES)
        self._paper = MatchingEngine(instrument, PaperConfig(), id_prefix="parity")
        self._coin = instrument.coin
        self._sent = 0

    def send(self, case: Case) -> tuple[Answer, Answer]:
        bids, asks = self._info.l2_snapshot(self._coin)["levels"]
        self._paper.on_book(_snapshot(self._coin, bids, asks))
        touch = {"bid": bids[0]["px"], "ask": asks[0]["px"]}
        price = Decimal(touch.get(case.price, case.price))
        self._sent += 1
        return self._to_paper(case, price), self._to_venue(case, price)

    def _to_paper(self, case: Case, price: Decimal) -> Answer:
        request = OrderRequest(
            cloid=f"0x{self._sent:032x}",
            coin=self._coin,
            side=case.side,
            price=price,
            size=Decimal(case.size),
            tif=case.tif,
            reduce_only=case.reduce_only,
        )
        events = self._paper.place(request, at_ns=self._sent)
        first = events[0]
        if isinstance(first, OrderRejected):
            return Answer(reason=first.reason.value, text=first.message)
        assert isinstance(first, OrderAccepted)
        fills = [event for event in events if isinstance(event, OrderFilled)]
        if not fills:
            return Answer(reason="accepted", size=first.size, price=first.price)
        filled = sum((fill.size for fill in fills), Decimal(0))
        notional = sum((fill.price * fill.size for fill in fills), Decimal(0))
        return Answer(reason="accepted", size=filled, price=notional / filled)

    def _to_venue(self, case: Case, price: Decimal) -> Answer:
        order_type: Any = {"limit": {"tif": case.tif.value}}
        is_buy = case.side is Side.BUY
        response = self._exchange.order(
            self._coin,
            is_buy,
            float(case.size),
            float(price),
            order_type,
            reduce_only=case.reduce_only,
        )
        if response["status"] != "ok":
            error = classify_error(str(response["response"]))
            return Answer(reason=error.reason.value, text=_without_asset(error.message))
        status = response["response"]["data"]["statuses"][0]
        if "error" in status:
            error = classify_error(status["error"])
            return Answer(reason=error.reason.value, text=_without_asset(error.message))
        if "filled" in status:
            filled = status["filled"]
            return Answer(
                reason="accepted", size=Decimal(filled["totalSz"]), price=Decimal(filled["avgPx"])
            )
        return Answer(reason="accepted", size=Decimal(case.size), price=price)


def _snapshot(coin: str, bids: list[Any], asks: list[Any]) -> BookSnapshotReceived:
    def levels(side: list[Any]) -> tuple[BookLevel, ...]:
        return tuple(
            BookLevel(price=Decimal(lv["px"]), size=Decimal(lv["sz"]), orders=lv["n"])
            for lv in side
        )

    return BookSnapshotReceived(
        coin=coin, bids=levels(bids), asks=levels(asks), ts_exchange=0, ts_local=0
    )


def _without_asset(text: str) -> str:
    core, _, _ = text.rpartition(" asset=")
    return core or text


BUY, SELL = Side.BUY, Side.SELL
IOC = TimeInForce.IMMEDIATE_OR_CANCEL
# Touches (seed 3, still market): BTC 99997/100003 (szDecimals 5), ETH 2999.9/3000.1 (4),
# DOGE 0.19999/0.20001 (0), xyz:TSLA 249.99/250.01 (3).
ONE_ORDER_CASES = {
    "a resting bid": Case(coin="BTC", side=BUY, price="99000", size="0.001"),
    "an integer price of six figures": Case(coin="BTC", side=SELL, price="100011", size="0.001"),
    "a price of six significant figures": Case(coin="BTC", side=BUY, price="99000.5", size="0.001"),
    "a size off the lot": Case(coin="BTC", side=BUY, price="99000", size="0.000015"),
    "a size of zero": Case(coin="BTC", side=BUY, price="99000", size="0"),
    "a notional under $10": Case(coin="BTC", side=BUY, price="99000", size="0.0001"),
    "a post-only bid at the ask": Case(coin="BTC", side=BUY, price="ask", size="0.001"),
    "an IOC that cannot match": Case(coin="BTC", side=BUY, price="99000", size="0.001", tif=IOC),
    "a reduce-only order when flat": Case(
        coin="BTC", side=SELL, price="bid", size="0.001", tif=IOC, reduce_only=True
    ),
    "a bid 85% below the mark": Case(coin="BTC", side=BUY, price="15000", size="0.001"),
    "an ask 85% above the mark": Case(coin="ETH", side=SELL, price="5550", size="0.01"),
    "a DOGE price of five decimals": Case(coin="DOGE", side=BUY, price="0.19001", size="100"),
    "a DOGE price of six decimals": Case(coin="DOGE", side=BUY, price="0.190015", size="100"),
    "a DOGE fraction of a coin": Case(coin="DOGE", side=BUY, price="0.19", size="100.5"),
    "a DOGE order of $9.88": Case(coin="DOGE", side=BUY, price="0.19", size="52"),
    "a builder-dex price off its tick": Case(
        coin="xyz:TSLA", side=BUY, price="240.005", size="0.1"
    ),
    "a builder-dex size off its lot": Case(coin="xyz:TSLA", side=BUY, price="240", size="0.0415"),
}


@pytest.mark.parametrize("case", ONE_ORDER_CASES.values(), ids=ONE_ORDER_CASES.keys())
def test_paper_and_the_venue_answer_one_order_alike(
    venue_url: str, instruments: dict[str, Instrument], case: Case
) -> None:
    paper, venue = Pair(venue_url, instruments[case.coin]).send(case)

    assert paper == venue


def test_a_reduce_only_close_larger_than_the_position_is_cut_to_it_by_both(
    venue_url: str, instruments: dict[str, Instrument]
) -> None:
    pair = Pair(venue_url, instruments["DOGE"])
    opened = pair.send(Case(coin="DOGE", side=BUY, price="ask", size="60", tif=IOC))

    closed = pair.send(
        Case(coin="DOGE", side=SELL, price="bid", size="500", tif=IOC, reduce_only=True)
    )

    assert opened == (Answer(reason="accepted", size=Decimal(60), price=Decimal("0.20001")),) * 2
    assert closed == (Answer(reason="accepted", size=Decimal(60), price=Decimal("0.19999")),) * 2


def test_an_order_taking_two_levels_fills_alike_at_the_same_average_price(
    venue_url: str, instruments: dict[str, Instrument]
) -> None:
    # Each synthetic level is worth $2000 to $20000 (10000 to 100000 DOGE at 0.2): 150000
    # takes two levels at least, and twenty levels always hold it.
    taker = Case(coin="DOGE", side=BUY, price="0.2002", size="150000", tif=IOC)

    paper, venue = Pair(venue_url, instruments["DOGE"]).send(taker)

    assert paper == venue
    assert paper.size == 150000
    assert Decimal("0.20001") < paper.price < Decimal("0.2002")
