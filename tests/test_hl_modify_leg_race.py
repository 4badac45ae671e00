"""A modify's new leg that the venue ended before the modify's answer came stays ended.

On Hyperliquid a modify cancels the order's resting leg and places a new one under a new
oid. The ``orderUpdates`` stream may report what became of that new leg (filled on
arrival, filled by a taker) before the modify's answer arrives. The live adapter took
that report for an earlier leg's and, when the answer came, opened the new leg: it told
the order_manager the order rested at the venue, which had filled it, and kept the order
for the rest of the run (about 7 a minute at ``bench/bench_memory_growth.py``'s pace).

The local venue holds each modify's answer (``hold_answer_next``) after the modify took
effect and the stream heard of it, so the stream's report comes first every time. An
answer that leaves a modify (or a placement) out is the local venue's
``cut_statuses_next``, with the stream's news held (``hold_stream_next``) so that the
answer comes first, as it mostly does from the exchange.
A lost modify must also outlive a forward step of the host's clock: the adapter's clock
here is :class:`HostClock`, which the test steps.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import TypeVar

import pytest
from eth_account import Account

from makerd.actors.order_state import OrderTable
from makerd.config.loader import parse_config
from makerd.protocol.account import OrderFilled
from makerd.protocol.clock import Clock, WallClock
from makerd.protocol.orders import (
    ModifyOrders,
    OpenOrdersReported,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderModified,
    OrderRequest,
    PlaceOrders,
    RequestAccountSnapshot,
    TimeInForce,
)
from makerd.venues.hyperliquid.post_channel import PostChannel
from makerd.venues.hyperliquid.rest import fetch_info_blocking
from makerd.venues.hyperliquid.venue import HyperliquidVenue
from tests import test_hl_gateway
from tests.test_hl_gateway import resting_bid
from tests.test_hl_live_e2e import fault, wait_until

WAIT_S = 20.0
NS_PER_S = 1_000_000_000
LOST_AFTER_S = 1.0
T = TypeVar("T")


venue_url = test_hl_gateway.venue_url
"""The gateway tests' venue (a fixture: one for this module's tests)."""


class Heard:
    """What the adapter emitted, from its I/O thread, in order; and whose account it is."""

    def __init__(self, user: str) -> None:
        self.user = user
        self._lock = threading.Lock()
        self._events: list[object] = []

    def __call__(self, event: object) -> None:
        with self._lock:
            self._events.append(event)

    def events(self) -> list[object]:
        with self._lock:
            return list(self._events)

    def of(self, cloid: str) -> list[object]:
        """The events about the order ``cloid`` (its fills included)."""
        return [e for e in self.events() if getattr(e, "cloid", None) == cloid]

    def count(self) -> int:
        with self._lock:
            return len(self._events)


@pytest.fixture
def adapter(venue_url: str) -> Iterator[tuple[HyperliquidVenue, Heard]]:
    """The live venue adapter against the local venue, on a fresh account."""
    yield from _adapter(venue_url)


class HostClock:
    """The host's wall clock, which NTP may step: ``step_ns`` ahead of the real time."""

    def __init__(self) -> None:
        self.step_ns = 0

    def now_ns(self) -> int:
        return time.time_ns() + self.step_ns


@pytest.fixture
def host_clock() -> HostClock:
    return HostClock()


@pytest.fixture
def impatient_adapter(
    venue_url: str, monkeypatch: pytest.MonkeyPatch, host_clock: HostClock
) -> Iterator[tuple[HyperliquidVenue, Heard]]:
    """The adapter, giving up on an action's answer after 1 s (not 5): an action the
    venue runs 2 s late (``delay_exchange_s``) then takes effect after its answer was
    lost, before it expires (the TTL is 4 s). Its clock is ``host_clock``."""
    quick = functools.partial(PostChannel, timeout_s=LOST_AFTER_S)
    monkeypatch.setattr("makerd.venues.hyperliquid.venue.PostChannel", quick)
    yield from _adapter(venue_url, host_clock)


def _adapter(
    venue_url: str, clock: Clock | None = None
) -> Iterator[tuple[HyperliquidVenue, Heard]]:
    config = parse_config(
        {"mode": "live", "coins": ["BTC"], "hyperliquid": {"api_url": venue_url}}, source="test"
    )
    account = Account.create()
    venue = HyperliquidVenue(
        config, clock=clock or WallClock(), env={"MAKERD_PRIVATE_KEY": account.key.hex()}
    )
    heard = Heard(account.address.lower())
    venue.start(heard)
    try:
        yield venue, heard
    finally:
        venue.stop()


def _place(venue: HyperliquidVenue, heard: Heard, order: OrderRequest) -> int:
    """Place ``order``, wait until it rests; its oid."""
    venue.submit(PlaceOrders(orders=(order,), ts_local=time.time_ns()))
    wait_until(lambda: _of_type(heard.of(order.cloid), OrderAccepted) != [], timeout_s=WAIT_S)
    return _of_type(heard.of(order.cloid), OrderAccepted)[0].venue_order_id


def _modify(venue: HyperliquidVenue, order: OrderRequest, price: Decimal) -> None:
    """Ask to move ``order`` to ``price``; return once the modify has left."""
    amendment = OrderAmendment(cloid=order.cloid, price=price, size=order.size)
    sent_before = _actions_sent(venue)
    venue.submit(ModifyOrders(amendments=(amendment,), ts_local=time.time_ns()))
    wait_until(lambda: _actions_sent(venue) > sent_before, timeout_s=WAIT_S)


def _actions_sent(venue: HyperliquidVenue) -> int:
    """Order actions (placements, modifies) sent so far."""
    return venue.gateway.unsettled.mark().next_token - 1


def _modified_twice(
    url: str,
    adapter: tuple[HyperliquidVenue, Heard],
    order: OrderRequest,
    second: dict[str, object],
) -> None:
    """Place ``order``, move it 1 lower, and once the stream said that leg rests (the
    answer is held for 1 s), arm the fault ``second`` and move it 1 lower again."""
    venue, heard = adapter
    _place(venue, heard, order)
    fault(url, {"hold_answer_next": 1, "hold_answer_s": 1.0})
    _modify(venue, order, order.price - 1)
    wait_until(lambda: len(_of_type(heard.of(order.cloid), OrderModified)) == 1, timeout_s=WAIT_S)
    fault(url, second)
    _modify(venue, order, order.price - 2)


def _best_ask(url: str) -> Decimal:
    book = fetch_info_blocking(url, {"type": "l2Book", "coin": "BTC"}, timeout_s=5)
    assert isinstance(book, dict)
    return Decimal(book["levels"][1][0]["px"])


def _held_by(venue: HyperliquidVenue, listing: OpenOrdersReported, cloid: str) -> list[str]:
    """Who holds the order ``cloid``: the venue (its ``listing``) and the adapter."""
    at_venue = any(o.cloid == cloid for o in listing.orders)
    in_adapter = cloid in venue.orders_held()
    return ["venue"] * at_venue + ["adapter"] * in_adapter


def _answers_pending(venue: HyperliquidVenue) -> int:
    """Orders in the actions whose answer has not come yet."""
    return venue.gateway.unsettled.orders_at("BTC", time.time_ns())


def _outcome(
    adapter: tuple[HyperliquidVenue, Heard], cloid: str
) -> tuple[OpenOrdersReported, list[object]]:
    """Once every answer is in: what rests at the venue, and what the adapter said of
    the order ``cloid``."""
    venue, heard = adapter
    listing = _what_rests(venue, heard)
    return listing, heard.of(cloid)


def _what_rests(venue: HyperliquidVenue, heard: Heard) -> OpenOrdersReported:
    """Once every answer is in: the venue's listing, asked after them."""
    wait_until(lambda: _answers_pending(venue) == 0, timeout_s=WAIT_S)
    before = len(_of_type(heard.events(), OpenOrdersReported))
    venue.submit(RequestAccountSnapshot(coin="BTC", ts_local=time.time_ns()))
    wait_until(lambda: len(_of_type(heard.events(), OpenOrdersReported)) > before, timeout_s=WAIT_S)
    return _of_type(heard.events(), OpenOrdersReported)[-1]


def _of_type(events: list[object], kind: type[T]) -> list[T]:
    return [e for e in events if isinstance(e, kind)]


def _claims_after_fill(events: list[object]) -> list[object]:
    """Acceptances or modifies reported after the order's first fill: claims it rests."""
    fills = [i for i, e in enumerate(events) if isinstance(e, OrderFilled)]
    assert fills, "the order filled"
    return [e for e in events[fills[0] :] if isinstance(e, OrderAccepted | OrderModified)]


def test_a_modify_filled_on_arrival_reported_before_its_answer_leaves_no_resting_order(
    venue_url: str, adapter: tuple[HyperliquidVenue, Heard]
) -> None:
    venue, heard = adapter
    order = replace(resting_bid(venue_url, 0x1201), tif=TimeInForce.GOOD_TILL_CANCEL)
    old_oid = _place(venue, heard, order)
    # A good-till-cancel bid moved above the best ask fills on arrival: the stream says
    # "filled" for its new oid while the modify's answer is held.
    fault(venue_url, {"hold_answer_next": 1, "hold_answer_s": 1.0})
    _modify(venue, order, _best_ask(venue_url) + 100)
    wait_until(lambda: _of_type(heard.of(order.cloid), OrderFilled) != [], timeout_s=WAIT_S)

    listing, events = _outcome(adapter, order.cloid)

    fills = _of_type(events, OrderFilled)
    assert [f.venue_order_id != old_oid for f in fills] == [True], "one fill, of the new leg"
    assert sum(f.size for f in fills) == order.size
    assert _claims_after_fill(events) == [], "nothing says the filled order rests"
    assert _of_type(events, OrderModified) == [], "the modify's new leg never rested"
    assert _held_by(venue, listing, order.cloid) == [], "neither the venue nor the adapter"


def test_a_modify_answered_after_the_next_modify_rested_and_filled_leaves_no_resting_order(
    venue_url: str, adapter: tuple[HyperliquidVenue, Heard]
) -> None:
    order = resting_bid(venue_url, 0x1202)
    # The first modify's answer comes after the stream said its leg rests, after the
    # order_manager (told so) modified again and the stream said that leg rests too.
    _modified_twice(venue_url, adapter, order, {"hold_answer_next": 1, "hold_answer_s": 4.0})
    venue, heard = adapter
    wait_until(lambda: len(_of_type(heard.of(order.cloid), OrderModified)) == 2, timeout_s=WAIT_S)
    newest_oid = _of_type(heard.of(order.cloid), OrderModified)[-1].venue_order_id
    wait_until(lambda: _answers_pending(venue) == 1, timeout_s=WAIT_S)  # the first's answer
    # Then a taker fills the newest leg, before the second modify's answer comes.
    fault(venue_url, {"sweep": {"user": heard.user, "side": "sell", "coin": "BTC"}})
    wait_until(lambda: _of_type(heard.of(order.cloid), OrderFilled) != [], timeout_s=WAIT_S)

    listing, events = _outcome(adapter, order.cloid)

    fills = _of_type(events, OrderFilled)
    assert [f.venue_order_id for f in fills] == [newest_oid], "one fill, of the newest leg"
    assert _claims_after_fill(events) == [], "nothing says the filled order rests"
    modified_to = [e.venue_order_id for e in _of_type(events, OrderModified)]
    assert modified_to[-1] == newest_oid, "no answer moved the order back to a leg it left"
    assert _held_by(venue, listing, order.cloid) == [], "neither the venue nor the adapter"


def test_a_modify_answered_while_the_next_modify_is_on_its_way_leaves_the_order_resting(
    venue_url: str, adapter: tuple[HyperliquidVenue, Heard]
) -> None:
    order = resting_bid(venue_url, 0x1203)
    # The second modify (sent on the stream's word) takes effect only after the first's
    # answer came: the stream's cancel of the first's leg is then the second's doing.
    _modified_twice(venue_url, adapter, order, {"delay_exchange_s": 2.0, "delay_for_s": 0.5})

    listing, events = _outcome(adapter, order.cloid)

    assert _of_type(events, OrderCancelled) == [], "the order was never cancelled"
    assert _held_by(adapter[0], listing, order.cloid) == ["venue", "adapter"]
    (resting,) = [o for o in listing.orders if o.cloid == order.cloid]
    assert _of_type(events, OrderModified)[-1].venue_order_id == resting.venue_order_id


@pytest.mark.parametrize("host_clock_step_s", [0, 60], ids=["steady", "stepped_60s_ahead"])
def test_a_modify_whose_answer_was_lost_while_the_venue_ran_it_leaves_the_order_resting(
    venue_url: str,
    impatient_adapter: tuple[HyperliquidVenue, Heard],
    host_clock: HostClock,
    host_clock_step_s: int,
) -> None:
    venue, heard = impatient_adapter
    order = resting_bid(venue_url, 0x1204)
    _place(venue, heard, order)
    # The venue runs the modify 2 s after it arrived; the adapter gave up at 1 s. The
    # stream's "canceled" for the old leg and "open" for the new one come after that,
    # read on the adapter's clock, which NTP may have stepped forward meanwhile.
    fault(venue_url, {"delay_exchange_s": 2 * LOST_AFTER_S, "delay_for_s": 0.5})
    _modify(venue, order, order.price - 1)
    host_clock.step_ns = host_clock_step_s * NS_PER_S

    listing, events = _outcome(impatient_adapter, order.cloid)

    _assert_moved_1_lower(venue, order, listing, events)


def _assert_moved_1_lower(
    venue: HyperliquidVenue, order: OrderRequest, listing: OpenOrdersReported, events: list[object]
) -> None:
    """``order`` rests, moved 1 lower under its new oid, and was never ended: the order
    manager, told ``events``, finds no orphan in ``listing``."""
    assert _order_manager_told(order, events).strangers(listing) == [], "no orphan"
    assert _of_type(events, OrderCancelled) == [], "the order was never cancelled"
    assert _held_by(venue, listing, order.cloid) == ["venue", "adapter"]
    (resting,) = [o for o in listing.orders if o.cloid == order.cloid]
    modified = _of_type(events, OrderModified)
    assert [(m.venue_order_id, m.price) for m in modified] == [
        (resting.venue_order_id, order.price - 1)
    ], "the order rests under its new oid at its new price"


def _order_manager_told(order: OrderRequest, events: list[object]) -> OrderTable:
    """The order manager's table of ``order`` after it asked to move it 1 lower and
    heard ``events``: its orphan rule cancels the coin's ladder for any stranger."""
    now_ns = time.time_ns()
    table = OrderTable(coin="BTC")
    table.add_pending([order], now_ns)
    move = OrderAmendment(cloid=order.cloid, price=order.price - 1, size=order.size)
    for event in events:
        if isinstance(event, OrderAccepted | OrderModified | OrderCancelled):
            table.on_venue_event(event)
        if isinstance(event, OrderAccepted):
            table.mark_pending_modify([move], now_ns)
    return table


def test_a_modify_its_answer_left_out_while_the_venue_ran_it_leaves_the_order_resting(
    venue_url: str, adapter: tuple[HyperliquidVenue, Heard]
) -> None:
    venue, heard = adapter
    order = resting_bid(venue_url, 0x1205)
    _place(venue, heard, order)
    # The venue runs the modify and answers with no status for it; then the stream says
    # the old leg was cancelled and the new one rests.
    fault(venue_url, {"cut_statuses_next": 1, "hold_stream_next": 1, "hold_stream_s": 1.0})
    _modify(venue, order, order.price - 1)
    wait_until(lambda: _moved_or_ended(heard.of(order.cloid)), timeout_s=WAIT_S)

    listing, events = _outcome(adapter, order.cloid)

    _assert_moved_1_lower(venue, order, listing, events)


def test_a_placement_its_answer_left_out_rests_as_the_adapters_own(
    venue_url: str, adapter: tuple[HyperliquidVenue, Heard]
) -> None:
    venue, heard = adapter
    orders = (resting_bid(venue_url, 0x1206), resting_bid(venue_url, 0x1207, below=201))
    # Both bids rest; the answer names the first alone, and the stream speaks after it.
    cut = {"cut_statuses_next": 1, "cut_statuses_keep": 1}
    fault(venue_url, {**cut, "hold_stream_next": 1, "hold_stream_s": 1.0})
    venue.submit(PlaceOrders(orders=orders, ts_local=time.time_ns()))
    left_out = orders[1].cloid
    wait_until(lambda: _of_type(heard.of(left_out), OrderAccepted) != [], timeout_s=WAIT_S)

    listing = _what_rests(venue, heard)

    table = OrderTable(coin="BTC")
    table.add_pending(orders, time.time_ns())
    for event in _of_type(heard.events(), OrderAccepted):
        table.on_venue_event(event)
    assert table.strangers(listing) == [], "no orphan"
    assert [_held_by(venue, listing, o.cloid) for o in orders] == [["venue", "adapter"]] * 2


def _moved_or_ended(events: list[object]) -> bool:
    """Whether ``events`` say the order moved to a new leg, or ended."""
    return any(isinstance(e, OrderModified | OrderCancelled) for e in events)
