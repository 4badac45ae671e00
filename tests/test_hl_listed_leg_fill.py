"""A fill the venue made before it listed a leg, heard after the listing, is counted once.

A trader moves makerd's resting bid by hand under its cloid while the venue loses every
``orderUpdates`` push (``lose_order_updates_s``): only a listing shows the new leg, and
no modify of makerd's explains it, so its size is the listed one. A taker fills part of
that leg; the venue holds the fill's stream push (``hold_stream_next``) until after a
listing asked later, which lists the rest. The order manager used to take the fill off
the listed rest again and forget as filled an order the venue still rested: the next
listing showed it as an orphan, and the orphan rule cancelled it.

Real parts throughout: the local venue on loopback, the live adapter
(:class:`HyperliquidVenue`, signing through the SDK), the order manager's own logic, driven
as its actor would be (:class:`OrderManagerOnVenue`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.utils.types import Cloid

from makerd.actors.order_manager import OrderManagerLogic
from makerd.config.loader import parse_config
from makerd.config.model import OrderManagerConfig
from makerd.daemon.cloids import CloidFactory
from makerd.protocol.account import OrderFilled
from makerd.protocol.clock import WallClock
from makerd.protocol.orders import (
    CancelAll,
    CancelOrders,
    OpenOrdersReported,
    OrderStatus,
    QuoteLevel,
    QuoteTarget,
    RequestAccountSnapshot,
)
from makerd.venues.hyperliquid.venue import HyperliquidVenue
from tests.kit import BTC
from tests.local_venue_kit import ALO, still_venue
from tests.test_hl_live_e2e import fault
from tests.test_hl_modify_lost_listing import OrderManagerOnVenue, best_bid, listed_at_venue

BID_SIZE = Decimal("0.002")
TAKEN = Decimal("0.001")
IOC: Any = {"limit": {"tif": "Ioc"}}


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    with still_venue(seed=43) as url:
        yield url


@pytest.fixture
def account_key() -> str:
    key: str = Account.create().key.hex()
    return key


@pytest.fixture
def wired(venue_url: str, account_key: str) -> Iterator[OrderManagerOnVenue]:
    """A fresh account's adapter and an order manager, started clean."""
    config = parse_config(
        {"mode": "live", "coins": ["BTC"], "hyperliquid": {"api_url": venue_url}}, source="test"
    )
    venue = HyperliquidVenue(config, clock=WallClock(), env={"MAKERD_PRIVATE_KEY": account_key})
    logic = OrderManagerLogic(
        instrument=BTC, config=OrderManagerConfig(), new_cloid=CloidFactory(run_prefix=0x43)
    )
    address = Account.from_key(account_key).address.lower()
    wired = OrderManagerOnVenue(venue, logic, address)
    venue.start(wired.deliver)
    try:
        wired.handle(logic.start(time.time_ns())[0])
        wired.run_until(lambda: logic.truth.clean, "the start-up listing")
        yield wired
    finally:
        venue.stop()


def a_resting_bid(wired: OrderManagerOnVenue, price: Decimal) -> str:
    now = time.time_ns()
    level = QuoteLevel(price=price, size=BID_SIZE)
    wired.handle(QuoteTarget(coin="BTC", bids=(level,), asks=(), book_ts_local=now, ts_local=now))
    (order,) = wired.logic.orders.all()
    wired.run_until(lambda: wired.status_of(order.cloid) is OrderStatus.OPEN, "the bid rests")
    return order.cloid


def moved_by_hand(venue_url: str, account_key: str, cloid: str, price: Decimal) -> int:
    """The account's owner modifies the order ``cloid`` by hand, keeping the cloid; the
    new leg's oid."""
    owner = Exchange(Account.from_key(account_key), venue_url)
    kept = Cloid(cloid)
    answer = owner.modify_order(kept, "BTC", True, float(BID_SIZE), float(price), ALO, cloid=kept)
    oid: int = answer["response"]["data"]["statuses"][0]["resting"]["oid"]
    return oid


def sold_into(venue_url: str, price: Decimal, size: Decimal) -> None:
    """Another account sells ``size`` at ``price`` or better, at once or not at all."""
    taker = Exchange(Account.create(), venue_url)
    answer = taker.order("BTC", False, float(size), float(price), IOC)
    filled = answer["response"]["data"]["statuses"][0]["filled"]["totalSz"]
    assert Decimal(filled) == size, answer


def listed_to_the_order_manager(wired: OrderManagerOnVenue) -> OpenOrdersReported:
    """A listing asked now (as another coin's audit on the same dex would), handed on."""
    asked = len(wired.heard)
    wired.venue.submit(RequestAccountSnapshot(coin="BTC", ts_local=time.time_ns()))
    wired.run_until(
        lambda: any(isinstance(e, OpenOrdersReported) for e in wired.heard[asked:]),
        "the listing",
    )
    (listing,) = [e for e in wired.heard[asked:] if isinstance(e, OpenOrdersReported)]
    return listing


def test_a_fill_made_before_a_listing_and_heard_after_it_leaves_the_listed_order_resting(
    venue_url: str, account_key: str, wired: OrderManagerOnVenue
) -> None:
    cloid = a_resting_bid(wired, best_bid(venue_url) - 200)
    fault(venue_url, {"lose_order_updates_s": 30.0})
    inside_the_spread = best_bid(venue_url) + 2
    new_leg = moved_by_hand(venue_url, account_key, cloid, inside_the_spread)

    # The taker's fill reaches the account's streams 6 s late, after the listing below.
    fault(venue_url, {"hold_stream_next": 1, "hold_stream_s": 6.0})
    sold_into(venue_url, inside_the_spread, TAKEN)
    listing = listed_to_the_order_manager(wired)
    assert [(o.venue_order_id, o.size) for o in listing.orders] == [(new_leg, BID_SIZE - TAKEN)]
    assert not any(isinstance(e, OrderFilled) for e in wired.heard), "the fill came first"
    wired.run_until(
        lambda: any(isinstance(e, OrderFilled) for e in wired.heard), "the held fill's report"
    )

    assert listed_at_venue(venue_url, wired.user) == {
        cloid: (new_leg, inside_the_spread, BID_SIZE - TAKEN)
    }
    held = wired.logic.orders.get(cloid)
    assert held is not None, "the order manager forgot as filled an order the venue rests"
    assert (held.status, held.venue_order_id, held.remaining) == (
        OrderStatus.OPEN,
        new_leg,
        BID_SIZE - TAKEN,
    )
    listed_to_the_order_manager(wired)
    cancels = [c for c in wired.sent if isinstance(c, CancelAll | CancelOrders)]
    assert cancels == [], "the next listing took the order for an orphan and cancelled it"
    assert wired.logic.truth.clean
    assert cloid in listed_at_venue(venue_url, wired.user)
