"""A stop whose sweep the exchange refuses with HTTP 429 (its request budget spent for a
moment): the live venue object against the local venue, asked as a stop asks.

A sweep refused by a 429 used to be asked again only at the stop's next re-ask, 4 s
later: a quarter of the stop's deadline spent waiting for nothing, and two such refusals
could end a stop with orders resting.
"""

from __future__ import annotations

import itertools
import json
import logging
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from eth_account import Account

from makerd.actors.gate import TradingGate
from makerd.config.loader import parse_config
from makerd.daemon.exit_codes import EXIT_ORDERS_LEFT
from makerd.daemon.observer import Observer
from makerd.daemon.shutdown import confirm_every_coin
from makerd.protocol.clock import WallClock
from makerd.protocol.orders import (
    CancelReason,
    OpenOrdersReported,
    PlaceOrders,
    RequestMargin,
    SweepOrders,
    VenueCommand,
)
from makerd.protocol.risk import MarginReported
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.rest import fetch_info_blocking
from makerd.venues.hyperliquid.venue import HyperliquidVenue
from tests.test_hl_gateway import Harness, resting_bid
from tests.test_hl_live_e2e import Trader, fault, resting, wait_until
from tests.test_redteam8_settle import quiet
from tests.test_stop_confirmation import observer

STOP_DEADLINE_S = 12.0
"""The stop's share (0.6) of the default ``stop_timeout_s`` (20 s) for confirming no order
rests."""


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=29, tick_interval_s=0.2))
    yield venue.start()
    venue.stop()


class AskedVenue(HyperliquidVenue):
    """The live venue; it remembers each question a stop asked it."""

    def __init__(self, url: str, gate: TradingGate) -> None:
        config = parse_config({"mode": "live", "hyperliquid": {"api_url": url}}, source="test")
        self.key = Account.create().key.hex()
        super().__init__(config, clock=WallClock(), env={"MAKERD_PRIVATE_KEY": self.key}, gate=gate)
        self.questions: list[tuple[str, ...]] = []

    def submit(self, command: VenueCommand) -> None:
        if isinstance(command, SweepOrders):
            self.questions.append(command.coins)
        super().submit(command)


class ObserverSink:
    """Each venue event to its coin's observer, as the process routes them."""

    def __init__(self, observers: Mapping[str, Observer]) -> None:
        self._observers = observers

    def __call__(self, event: object) -> None:
        coin = getattr(event, "coin", None)
        if isinstance(coin, str) and coin in self._observers:
            self._observers[coin](event)


def resting_then_stopping(venue_url: str) -> tuple[AskedVenue, dict[str, Observer], TradingGate]:
    """A started live venue with one BTC bid resting, its trading gate closed (a stop)."""
    gate = TradingGate()
    venue = AskedVenue(venue_url, gate)
    observers = {"BTC": observer(WallClock(), "BTC")}
    venue.start(ObserverSink(observers))
    quiet(venue)
    venue.submit(PlaceOrders(orders=(resting_bid(venue_url, 0x429),), ts_local=time.time_ns()))
    wait_until(lambda: len(open_orders(venue_url, venue)) == 1, timeout_s=10)
    gate.close("shutdown")
    return venue, observers, gate


def open_orders(venue_url: str, venue: AskedVenue) -> list[object]:
    user = Account.from_key(venue.key).address
    listed = fetch_info_blocking(venue_url, {"type": "openOrders", "user": user}, timeout_s=5)
    assert isinstance(listed, list)
    return listed


def stop(venue: AskedVenue, observers: dict[str, Observer], deadline_s: float) -> int | None:
    return confirm_every_coin(
        venue=venue,
        observers=observers,
        clock=WallClock(),
        deadline_s=deadline_s,
        give_up=threading.Event(),
    )


def test_a_stop_whose_first_listing_is_refused_with_429_confirms_before_it_would_ask_again(
    venue_url: str,
) -> None:
    venue, observers, _ = resting_then_stopping(venue_url)
    fault(venue_url, {"http_error_next": 1, "http_error_status": 429, "paths": ["info"]})
    try:
        started = time.monotonic()
        remaining = stop(venue, observers, STOP_DEADLINE_S)
        took_s = time.monotonic() - started
        still_resting = open_orders(venue_url, venue)
    finally:
        venue.stop(orders_confirmed_gone=True)
        fault(venue_url, {"clear": True})

    assert remaining == 0, "the venue confirmed the bid cancelled"
    assert still_resting == []
    # The stop asks again after 4 s without an answer: one question means the refused
    # sweep was retried once the budget's backoff (under a second) allowed, not then.
    assert venue.questions == [("BTC",)], f"confirmed in {took_s:.1f}s, asked again first"


def test_a_stop_whose_listings_are_refused_with_429_until_its_deadline_says_so_and_backs_off(
    venue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    venue, observers, _ = resting_then_stopping(venue_url)
    fault(venue_url, {"rate_limit_for_s": 30, "rate_limit_kind": "ip"})
    try:
        with caplog.at_level(logging.WARNING, logger="makerd.venue"):
            remaining = stop(venue, observers, deadline_s=8.0)
    finally:
        venue.stop(orders_confirmed_gone=False)
        fault(venue_url, {"clear": True})

    assert remaining is None, "the venue never answered: the stop cannot say 0"
    # Each refused round of the sweep is logged once. The budget's backoff doubles from
    # 0.5-1 s and the sweep waits it out, at most 2 s: five to seven rounds in 8 s on a
    # quiet machine, more on a loaded one where refusals of other requests end a round's
    # wait sooner. A retry at once after each refusal would send one every few ms.
    # (Counted by the log, not by the budget's weight, which the stream's repairs share.)
    rounds = caplog.text.count("event=sweep_rate_limited")
    assert 3 <= rounds <= 12, rounds


def test_makerd_stopped_while_every_request_is_refused_with_429_exits_82_and_says_so(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Trader(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    resting(trader, makerd)

    # Every request refused, the sweep's listings and the order_manager's cancels alike.
    fault(venue_url, {"rate_limit_for_s": 60, "rate_limit_kind": "ip"})
    try:
        makerd.signal(signal.SIGTERM)
        code = makerd.finish(timeout=60)
    finally:
        fault(venue_url, {"clear": True})

    assert code == EXIT_ORDERS_LEFT, makerd.text[-3000:]
    assert "could not confirm that no order is left open" in makerd.text
    assert "venue confirms 0 open orders" not in makerd.text
    retries = makerd.text.count("event=sweep_rate_limited")
    # Paced by the budget's backoff (0.5-1 s, doubling) but at most 2 s apart, and once more
    # as a backoff ends: under one a second over the stop's 12 s. A retry at once after
    # each refusal would send one every few milliseconds.
    assert 2 <= retries <= 12, (retries, makerd.text[-3000:])


def test_a_sweep_whose_cancel_is_refused_for_the_rate_limit_cancels_once_the_backoff_ends(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, clock=time.time_ns)
    order = resting_bid(venue_url, 0x42A)
    harness.run(PlaceOrders(orders=(order,), ts_local=time.time_ns()))
    harness.gate.close("shutdown")
    fault(venue_url, {"rate_limit_next": 1})  # the sweep's cancel: the address's budget
    already = len(harness.emitted)

    events = harness.run(SweepOrders(coins=("BTC",), reason=CancelReason.SHUTDOWN, ts_local=0))

    reports = [e.orders for e in events[already:] if isinstance(e, OpenOrdersReported)]
    assert [[o.cloid for o in orders] for orders in reports] == [[order.cloid], []], (
        "listed with its cancel refused, then cancelled once the backoff allowed"
    )
    user = Account.from_key(harness.key).address
    assert fetch_info_blocking(venue_url, {"type": "openOrders", "user": user}, timeout_s=5) == []


def requests_since(venue_url: str, since_ns: int, kind: str) -> list[dict[str, int]]:
    """The requests of ``kind`` (an info or action type) that reached the venue since
    ``since_ns`` (the venue's monotonic clock, this process's), oldest first."""
    with urllib.request.urlopen(venue_url + "/_debug/stamps", timeout=5) as response:
        listed = json.loads(response.read())["requests"]
    return [
        {"arrived_ns": r["arrived_ns"], "status": r["status"]}
        for r in listed
        if r["type"] == kind and r["arrived_ns"] >= since_ns
    ]


def armed_since(venue_url: str, since_ns: int) -> bool:
    """Whether the venue accepted a dead-man arm (``scheduleCancel``) since ``since_ns``."""
    return any(a["status"] == 200 for a in requests_since(venue_url, since_ns, "scheduleCancel"))


def test_a_stop_in_a_429_window_lists_again_within_two_seconds_however_long_it_was_refused(
    venue_url: str,
) -> None:
    venue, observers, _ = resting_then_stopping(venue_url)
    window_s = 8.0
    opened_ns = time.monotonic_ns()
    fault(venue_url, {"rate_limit_for_s": window_s, "rate_limit_kind": "ip"})
    try:
        remaining = stop(venue, observers, STOP_DEADLINE_S)
        listings = requests_since(venue_url, opened_ns, "frontendOpenOrders")
    finally:
        venue.stop(orders_confirmed_gone=True)
        fault(venue_url, {"clear": True})

    assert remaining == 0, "the limit ended 4 s before the stop's deadline"
    assert listings[-1]["status"] == 200
    gaps_s = [(b["arrived_ns"] - a["arrived_ns"]) / 1e9 for a, b in itertools.pairwise(listings)]
    # The budget's backoff doubles while refusals go on (0.5-1 s, 1-2, 2-4, then 4-8 s after
    # about 3.5-7 s of them): the sweep paced by it alone found the limit's end up to 8 s
    # late. A stop's sweep tries at least every 2 s.
    assert max(gaps_s) < 4.0, gaps_s


def test_makerd_stopped_in_a_429_window_sends_no_dead_man_rearm_and_confirms_after_it(
    tmp_path: Path, venue_url: str
) -> None:
    # A 6 s switch is re-armed every 3 s or so, and a refused re-arm retried every second.
    trader = Trader(tmp_path, venue_url, dead_man_s=6.0)
    started_ns = time.monotonic_ns()
    makerd = trader.start(tmp_path)
    resting(trader, makerd)
    wait_until(lambda: armed_since(venue_url, started_ns), timeout_s=20, process=makerd)

    window_s = 6.0
    fault(venue_url, {"rate_limit_for_s": window_s, "rate_limit_kind": "ip"})
    stopped_ns = time.monotonic_ns()
    try:
        makerd.signal(signal.SIGTERM)
        code = makerd.finish(timeout=60)
    finally:
        fault(venue_url, {"clear": True})
    arms = requests_since(venue_url, stopped_ns, "scheduleCancel")

    assert code == 0, makerd.text[-3000:]
    assert "venue confirms 0 open orders" in makerd.text
    # A re-arm during a stop only moves the venue's cancel-all later and spends requests
    # into the limit; the one scheduleCancel left is the disarm once 0 orders is confirmed.
    assert [arm["status"] for arm in arms] == [200], arms


def test_a_margin_poll_during_a_stop_asks_the_venue_nothing(venue_url: str) -> None:
    # The risk guardian polls margin every 5 s whatever happens; during a stop in a 429
    # window each poll waited out the backoff, was refused, and began a longer one.
    harness = Harness(venue_url, clock=time.time_ns)
    harness.gate.close("shutdown")
    asked_ns = time.monotonic_ns()

    events = harness.run(RequestMargin(ts_local=time.time_ns()))

    assert not [e for e in events if isinstance(e, MarginReported)]
    assert requests_since(venue_url, asked_ns, "clearinghouseState") == []
