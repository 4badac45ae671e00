"""A modify whose answer and stream reports were all lost: the listing sets the order right.

The order manager moves its resting bid; the local venue runs the modify at once but
holds its answer past the adapter's patience (``hold_answer_next``) and loses every
``orderUpdates`` push meanwhile (``lose_order_updates_s``). Nothing but the venue's
listing, asked once the order manager holds the order in doubt, shows the new leg. The
order manager used to take the order back as resting at its old price and size, under the
new leg's oid: its next diff, its queue-age clock and the order changes it reports (the
own-orders journal, the observers) named a price the venue did not hold. The adapter
takes the listed leg too: a fill of it used to be held for the whole hold and handed on
without a cloid, and its cancel (one the venue made) told nobody, so the order manager
believed the order rested until its next audit.

Real parts throughout: the local venue on loopback, the live adapter
(:class:`HyperliquidVenue`, signing through the SDK), the order manager's own logic,
driven by the adapter's events and periodic timers as its actor would be.
"""

from __future__ import annotations

import functools
import queue
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from eth_account import Account

from makerd.actors.order_manager import OrderManagerLogic
from makerd.config.loader import parse_config
from makerd.config.model import OrderManagerConfig
from makerd.daemon.cloids import CloidFactory
from makerd.protocol.account import OrderFilled
from makerd.protocol.clock import WallClock
from makerd.protocol.control import TimerFired
from makerd.protocol.orders import (
    VENUE_COMMAND_TYPES,
    ArmDeadManSwitch,
    DeadManSwitchArmed,
    ModifyOrders,
    ModifyRejected,
    OrderCancelled,
    OrderModified,
    OrderStateChanged,
    OrderStatus,
    QuoteLevel,
    QuoteTarget,
    as_venue_command,
)
from makerd.venues.hyperliquid.post_channel import PostChannel
from makerd.venues.hyperliquid.rest import fetch_info_blocking
from makerd.venues.hyperliquid.venue import HyperliquidVenue
from tests.kit import BTC
from tests.local_venue_kit import still_venue
from tests.test_hl_live_e2e import fault

S = 1_000_000_000
WAIT_S = 30.0
ANSWER_LOST_AFTER_S = 1.0
TIMER_EVERY_S = 0.2
SIZE = Decimal("0.001")


class OrderManagerOnVenue:
    """The order manager's logic wired to the live adapter: every event the adapter emits
    is handled in turn, every venue command it answers with is submitted, and a timer
    fires as the actor's would. Runs on the test's thread, one message at a time."""

    def __init__(self, venue: HyperliquidVenue, logic: OrderManagerLogic, user: str) -> None:
        self.venue = venue
        self.user = user
        self.logic = logic
        self.heard: list[object] = []
        self.sent: list[object] = []
        self._inbox: queue.Queue[object] = queue.Queue()
        self._next_timer = 0.0

    def deliver(self, event: object) -> None:
        """The adapter's sink (called on its I/O thread)."""
        self._inbox.put(event)

    def handle(self, message: object) -> list[object]:
        """Hand ``message`` to the order manager; what it sent."""
        sent = self.logic.handle(message)
        for out in sent:
            if isinstance(out, VENUE_COMMAND_TYPES):
                self.venue.submit(as_venue_command(out))
        self.sent += sent
        return sent

    def run_until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not done():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {WAIT_S} s: {what}")
            if time.monotonic() >= self._next_timer:
                self._next_timer = time.monotonic() + TIMER_EVERY_S
                self.handle(TimerFired(ts_local=time.time_ns()))
            try:
                event = self._inbox.get(timeout=TIMER_EVERY_S)
            except queue.Empty:
                continue
            self.heard.append(event)
            self.handle(event)

    def quote_bid(self, price: Decimal) -> list[object]:
        now = time.time_ns()
        level = QuoteLevel(price=price, size=SIZE)
        return self.handle(
            QuoteTarget(coin="BTC", bids=(level,), asks=(), book_ts_local=now, ts_local=now)
        )

    def status_of(self, cloid: str) -> OrderStatus | None:
        order = self.logic.orders.get(cloid)
        return None if order is None else order.status


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    with still_venue(seed=37) as url:
        yield url


@pytest.fixture
def wired(venue_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[OrderManagerOnVenue]:
    """A fresh account's adapter, giving up on an answer after 1 s, and an order manager."""
    quick = functools.partial(PostChannel, timeout_s=ANSWER_LOST_AFTER_S)
    monkeypatch.setattr("makerd.venues.hyperliquid.venue.PostChannel", quick)
    config = parse_config(
        {"mode": "live", "coins": ["BTC"], "hyperliquid": {"api_url": venue_url}}, source="test"
    )
    account = Account.create()
    venue = HyperliquidVenue(
        config, clock=WallClock(), env={"MAKERD_PRIVATE_KEY": account.key.hex()}
    )
    logic = OrderManagerLogic(
        instrument=BTC, config=OrderManagerConfig(), new_cloid=CloidFactory(run_prefix=0x37)
    )
    wired = OrderManagerOnVenue(venue, logic, account.address.lower())
    venue.start(wired.deliver)
    try:
        yield wired
    finally:
        venue.stop()


def best_bid(url: str) -> Decimal:
    book = fetch_info_blocking(url, {"type": "l2Book", "coin": "BTC"}, timeout_s=5)
    assert isinstance(book, dict)
    return Decimal(book["levels"][0][0]["px"])


def listed_at_venue(url: str, user: str) -> dict[str, tuple[int, Decimal, Decimal]]:
    """cloid → (oid, price, size) of every order the venue lists for ``user``."""
    orders = fetch_info_blocking(url, {"type": "frontendOpenOrders", "user": user}, timeout_s=5)
    assert isinstance(orders, list)
    return {o["cloid"]: (o["oid"], Decimal(o["limitPx"]), Decimal(o["sz"])) for o in orders}


def a_bid_moved_by_a_lost_modify(
    venue_url: str, wired: OrderManagerOnVenue
) -> tuple[str, int, Decimal]:
    """A bid the order manager moved with a modify the venue ran, seen only in the listing
    that settled it: its cloid, its first leg and the price it was moved to."""
    om = wired.logic
    wired.handle(om.start(time.time_ns())[0])
    wired.run_until(lambda: om.truth.clean, "the start-up listing")
    first_price = best_bid(venue_url) - 200
    wired.quote_bid(first_price)
    (order,) = om.orders.all()
    wired.run_until(lambda: wired.status_of(order.cloid) is OrderStatus.OPEN, "the bid rests")
    first_leg = order.venue_order_id
    assert first_leg is not None

    # The modify runs at once; its answer comes after the adapter gave up, and the
    # stream's reports of the old leg's end and the new leg's rest are lost.
    fault(venue_url, {"hold_answer_next": 1, "hold_answer_s": 3.0, "lose_order_updates_s": 3.0})
    moved_price = first_price - 300
    commands = [type(c) for c in wired.quote_bid(moved_price) if isinstance(c, VENUE_COMMAND_TYPES)]
    assert commands == [ModifyOrders], "the order manager moved its bid with a modify"
    wired.run_until(
        lambda: wired.status_of(order.cloid) is OrderStatus.OPEN and om.truth.clean,
        "a listing settles the order whose modify's answer was lost",
    )
    return order.cloid, first_leg, moved_price


def test_a_modify_seen_only_in_a_listing_leaves_the_order_manager_with_the_venues_price(
    venue_url: str, wired: OrderManagerOnVenue
) -> None:
    om = wired.logic
    cloid, first_leg, moved_price = a_bid_moved_by_a_lost_modify(venue_url, wired)
    order = om.orders.get(cloid)
    assert order is not None

    venue_leg, venue_price, venue_size = listed_at_venue(venue_url, wired.user)[order.cloid]
    assert venue_leg != first_leg, "the venue ran the modify: a new leg"
    assert venue_price == moved_price
    assert not [e for e in wired.heard if isinstance(e, OrderModified)], "nothing but the listing"
    held = om.orders.get(order.cloid)
    assert held is not None
    assert (held.status, held.venue_order_id, held.price, held.remaining) == (
        OrderStatus.OPEN,
        venue_leg,
        venue_price,
        venue_size,
    ), "the order manager's order is not the one the venue holds"
    told = [c for c in wired.sent if isinstance(c, OrderStateChanged) and c.cloid == order.cloid]
    assert (told[-1].status, told[-1].price, told[-1].size) == (
        OrderStatus.OPEN,
        venue_price,
        venue_size,
    ), "the order manager reported a price the venue does not hold"
    again = wired.quote_bid(moved_price)
    assert [c for c in again if isinstance(c, VENUE_COMMAND_TYPES)] == [], (
        "the order manager moved an order already resting where the target wants it"
    )


def test_a_fill_of_the_leg_a_listing_showed_reaches_the_order_manager_with_its_cloid(
    venue_url: str, wired: OrderManagerOnVenue
) -> None:
    cloid, _, _ = a_bid_moved_by_a_lost_modify(venue_url, wired)
    venue_leg, _, _ = listed_at_venue(venue_url, wired.user)[cloid]

    fault(venue_url, {"sweep": {"user": wired.user, "side": "sell", "coin": "BTC"}})
    wired.run_until(
        lambda: any(isinstance(e, OrderFilled) for e in wired.heard), "the new leg's fill"
    )

    (fill,) = [e for e in wired.heard if isinstance(e, OrderFilled)]
    assert fill.venue_order_id == venue_leg
    # Handed on after the hold it would carry no cloid: the adapter waited for an order.
    assert fill.cloid == cloid, "the fill waited out the hold as nobody's"
    wired.run_until(lambda: wired.status_of(cloid) is None, "the filled order is done")


def test_the_venues_cancel_of_the_leg_a_listing_showed_ends_the_order_without_a_listing(
    venue_url: str, wired: OrderManagerOnVenue
) -> None:
    now = time.time_ns()
    wired.venue.submit(ArmDeadManSwitch(cancel_at_ns=now + 60 * S, ts_local=now))
    wired.run_until(
        lambda: any(isinstance(e, DeadManSwitchArmed) for e in wired.heard), "the switch holds"
    )
    cloid, _, _ = a_bid_moved_by_a_lost_modify(venue_url, wired)

    fault(venue_url, {"clear": True})  # the stream reports orders again
    fault(venue_url, {"fire_scheduled_cancel": True, "user": wired.user})
    wired.run_until(lambda: wired.status_of(cloid) is None, "the order manager hears the cancel")

    assert listed_at_venue(venue_url, wired.user) == {}, "the venue cancelled the order"
    (cancelled,) = [e for e in wired.heard if isinstance(e, OrderCancelled) and e.cloid == cloid]
    told = [c for c in wired.sent if isinstance(c, OrderStateChanged) and c.cloid == cloid]
    assert (told[-1].status, told[-1].ts_local) == (OrderStatus.CANCELLED, cancelled.ts_local), (
        "the order ended by a listing, not by the adapter's cancel"
    )
    assert wired.venue.orders_held() == (), "the adapter still believes the order rests"


def test_a_placement_seen_only_in_a_listing_can_be_moved(
    venue_url: str, wired: OrderManagerOnVenue
) -> None:
    om = wired.logic
    wired.handle(om.start(time.time_ns())[0])
    wired.run_until(lambda: om.truth.clean, "the start-up listing")
    # The venue places the bid at once; its answer comes after the adapter gave up, and
    # the stream's report that it rests is lost: only a listing shows it.
    fault(venue_url, {"hold_answer_next": 1, "hold_answer_s": 3.0, "lose_order_updates_s": 3.0})
    first_price = best_bid(venue_url) - 200
    wired.quote_bid(first_price)
    (order,) = om.orders.all()
    wired.run_until(
        lambda: wired.status_of(order.cloid) is OrderStatus.OPEN and om.truth.clean,
        "a listing settles the placement whose answer was lost",
    )
    fault(venue_url, {"clear": True})

    moved_price = first_price - 300
    wired.quote_bid(moved_price)
    wired.run_until(
        lambda: any(isinstance(e, OrderModified | ModifyRejected) for e in wired.heard),
        "the modify's answer",
    )

    refused = [e for e in wired.heard if isinstance(e, ModifyRejected)]
    assert refused == [], "the adapter refused to move an order the venue holds"
    _, venue_price, _ = listed_at_venue(venue_url, wired.user)[order.cloid]
    assert venue_price == moved_price
    assert wired.status_of(order.cloid) is OrderStatus.OPEN
