"""What the live venue object leaves behind when it stops, against the local venue.

Every socket it opened is given back: its HTTP session (aiohttp) and pooled connections,
the market feed's and the user stream's WebSockets, its I/O loop. makerd builds one venue
object a process; one that kept any of these would cost a descriptor or more each time a
venue stopped. Stopped the usual way, and stopped while its last request hangs at the
venue: the stop gives up waiting, and the session is closed as the I/O loop winds down.
And nothing it started fails on the way out.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import warnings
from collections.abc import Iterator

import pytest
from eth_account import Account

from makerd.config.loader import parse_config
from makerd.protocol.clock import WallClock
from makerd.protocol.orders import (
    ArmDeadManSwitch,
    CancelReason,
    DeadManSwitchArmed,
    OpenOrdersReported,
    SweepOrders,
)
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.venue import HyperliquidVenue
from tests.processes import open_fds, opened_since
from tests.test_hl_live_e2e import fault, wait_until

_S = 1_000_000_000


@pytest.fixture
def venue_url() -> Iterator[str]:
    """A venue of its own for each test: the faults one arms never reach another."""
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.2))
    yield venue.start()
    venue.stop()


class Heard:
    """The kinds of event the venue object emitted (from its I/O thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: set[type] = set()

    def __call__(self, event: object) -> None:
        with self._lock:
            self._kinds.add(type(event))

    def has(self, *kinds: type) -> bool:
        with self._lock:
            return self._kinds.issuperset(kinds)


def started_and_used(venue_url: str) -> HyperliquidVenue:
    """A live venue that has asked over HTTP what rests and armed its dead-man switch."""
    # Signed actions over HTTP: the delay fault holds HTTP requests, not WebSocket posts.
    hyperliquid = {"api_url": venue_url, "order_transport": "http"}
    config = parse_config({"mode": "live", "coin": "BTC", "hyperliquid": hyperliquid}, source="t")
    venue = HyperliquidVenue(
        config, clock=WallClock(), env={"MAKERD_PRIVATE_KEY": Account.create().key.hex()}
    )
    heard = Heard()
    venue.start(heard)
    now = time.time_ns()
    venue.submit(ArmDeadManSwitch(cancel_at_ns=now + 60 * _S, ts_local=now))
    wait_until(
        lambda: heard.has(OpenOrdersReported) and heard.has(DeadManSwitchArmed), timeout_s=20
    )
    return venue


def test_a_stopped_live_venue_leaves_no_socket_open_even_when_its_stop_is_cut_short(
    venue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Each stopped venue is kept, as makerd keeps its own until it exits: a socket only the
    # garbage collector would close counts as left open.
    stopped = [started_and_used(venue_url)]
    stopped[0].stop()  # what a process opens once, for its first venue, stays open
    before = open_fds()

    stopped.append(started_and_used(venue_url))
    stopped[-1].stop()
    after_stop = opened_since(before)
    stopped.append(started_and_used(venue_url))
    fault(venue_url, {"delay_exchange_s": 8, "delay_for_s": 10})  # its disarm hangs
    with caplog.at_level(logging.WARNING, logger="makerd.venue"):
        stopped[-1].stop()
    after_cut_short_stop = opened_since(before)

    assert "event=venue_stop_slow" in caplog.text, "the stop did not give up on the disarm"
    assert after_stop == set()
    assert after_cut_short_stop == set()
    assert unclosed_sessions_collected(stopped) == []


def unclosed_sessions_collected(stopped: list[HyperliquidVenue]) -> list[str]:
    """aiohttp's complaints as ``stopped`` is collected: the session its stop did not close.

    The I/O loop's end closes the session's sockets either way; aiohttp says
    "Unclosed client session" at the exit of a process that forgot to close it.
    """
    gc.collect()  # what earlier tests left is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        stopped.clear()
        gc.collect()
    return [str(warning.message) for warning in caught if "Unclosed" in str(warning.message)]


def test_a_stop_whose_disarm_answer_is_lost_ends_without_a_failed_task(
    venue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    venue = started_and_used(venue_url)
    fault(venue_url, {"reset_next": 1, "paths": ["exchange"]})  # the disarm's answer is lost

    with caplog.at_level(logging.WARNING, logger="makerd.venue"):
        venue.stop()

    assert "event=answer_lost detail='scheduleCancel" in caplog.text
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed == []


def test_a_command_an_actor_sends_after_the_stop_is_refused_quietly(
    venue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    venue = started_and_used(venue_url)
    venue.stop()
    now = time.time_ns()

    with caplog.at_level(logging.INFO, logger="makerd.venue"):
        venue.submit(SweepOrders(coins=("BTC",), reason=CancelReason.SHUTDOWN, ts_local=now))

    assert "event=venue_work_refused work=SweepOrders reason=venue_stopped" in caplog.text
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed == []
