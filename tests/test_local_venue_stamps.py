"""The venue's reaction stamps: a jump's first book and every action, on its own clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import eth_account
import pytest
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.utils.signing import get_timestamp_ms
from websockets.sync.client import ClientConnection, connect

from makerd.venues.hl_local import LiquidityConfig, VenueConfig, VenueThread
from makerd.venues.hl_local.stamps import MAX_STAMPS, ReactionStamps
from tests.local_venue_kit import subscribe


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    still = LiquidityConfig(step_volatility_bps=0.0, taker_probability=0.0)
    running = VenueThread(
        VenueConfig(port=0, auto_provision=True, seed=3, tick_interval_s=0.05, liquidity=still)
    )
    running.start()
    yield running
    running.stop()


def stamps(venue: VenueThread) -> Any:
    reply = requests.get(f"{venue.url}/_debug/stamps", timeout=5)
    reply.raise_for_status()
    return reply.json()


def test_a_jump_is_stamped_once_by_its_first_book_and_a_noop_after_it_by_its_arrival(
    venue: VenueThread,
) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    before = stamps(venue)["now_ns"]

    requests.post(
        f"{venue.url}/_debug/faults", json={"jump_pct": 0.3, "coin": "BTC"}, timeout=5
    ).raise_for_status()
    answer = Exchange(wallet, venue.url).noop(get_timestamp_ms())
    after = stamps(venue)

    assert answer["status"] == "ok"
    jumps = [j for j in after["jumps"] if j["book_ns"] > before]
    assert [(j["coin"], j["pct"]) for j in jumps] == [("BTC", "0.3")]
    mine = [a for a in after["actions"] if a["user"] == wallet.address.lower()]
    assert [(a["type"], a["accepted"]) for a in mine] == [("noop", True)]
    assert jumps[0]["book_ns"] < mine[0]["arrived_ns"] < after["now_ns"]


def test_books_that_move_without_a_jump_are_not_stamped() -> None:
    moving = VenueThread(VenueConfig(port=0, seed=4, tick_interval_s=0.02))
    moving.start()
    try:
        with connect(moving.url.replace("http", "ws", 1) + "/ws") as connection:
            subscribe(connection, {"type": "l2Book", "coin": "BTC"})
            books = {json.dumps(book_levels(connection)) for _ in range(5)}
        report = stamps(moving)
    finally:
        moving.stop()

    assert len(books) == 5  # the market moved on every push
    assert report["jumps"] == []


def book_levels(connection: ClientConnection) -> Any:
    while (frame := json.loads(connection.recv(timeout=5)))["channel"] != "l2Book":
        pass
    return frame["data"]["levels"]


def test_the_stamps_keep_only_the_most_recent_of_each_kind() -> None:
    clock = iter(range(10**9))
    kept = ReactionStamps(monotonic_ns=lambda: next(clock))

    for n in range(MAX_STAMPS + 5):
        kept.action_arrived(user="0xabc", kind="order", arrived_ns=n, accepted=True)
        kept.jumped(["BTC"], pct=Decimal("0.3"))
        kept.book_queued("BTC")
    report = kept.json()

    assert len(report["actions"]) == MAX_STAMPS
    assert report["actions"][0]["arrived_ns"] == 5
    assert len(report["jumps"]) == MAX_STAMPS


def test_the_mid_timeline_shows_a_jump_on_the_clock_of_the_fills(venue: VenueThread) -> None:
    before = btc_mids(venue, lambda _: True)[-1]

    requests.post(
        f"{venue.url}/_debug/faults", json={"jump_pct": -0.3, "coin": "BTC"}, timeout=5
    ).raise_for_status()
    low = Decimal(before["mid"]) * Decimal("0.998")
    after = btc_mids(venue, lambda m: m["time"] >= before["time"] and Decimal(m["mid"]) < low)[0]

    assert Decimal(after["mid"]) / Decimal(before["mid"]) > Decimal("0.996")  # one 0.3 % jump
    assert abs(int(after["time"]) - get_timestamp_ms()) < 5_000  # wall ms, as a fill's time


def btc_mids(venue: VenueThread, wanted: Callable[[Any], bool]) -> Any:
    """The BTC mids of the timeline that are ``wanted``, once a book has shown one."""
    shown = threading.Event()
    for _ in range(200):
        moved = [m for m in stamps(venue)["mids"] if m["coin"] == "BTC" and wanted(m)]
        if moved:
            return moved
        shown.wait(0.02)  # the next book is at most one tick away
    raise AssertionError("no such BTC mid in the timeline")


def test_a_mid_is_kept_only_when_it_moved() -> None:
    kept = ReactionStamps()

    for time_ms, mid in enumerate(("100", "100", "100.5", "100.5", "100")):
        kept.mid_shown("BTC", Decimal(mid), time_ms)

    assert [(m["time"], m["mid"]) for m in kept.json()["mids"]] == [
        (0, "100"),
        (2, "100.5"),
        (4, "100"),
    ]


def test_every_request_is_stamped_with_its_type_and_answer_refused_ones_too(
    venue: VenueThread,
) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    exchange = Exchange(wallet, venue.url)  # it asks for the venue's meta as it is built
    before = stamps(venue)["now_ns"]

    requests.post(f"{venue.url}/info", json={"type": "meta"}, timeout=5).raise_for_status()
    requests.post(
        f"{venue.url}/_debug/faults",
        json={"http_error_next": 1, "http_error_status": 429},
        timeout=5,
    ).raise_for_status()
    refused = requests.post(f"{venue.url}/info", json={"type": "allMids"}, timeout=5)
    exchange.noop(get_timestamp_ms())
    after = [r for r in stamps(venue)["requests"] if r["arrived_ns"] > before]

    assert refused.status_code == 429
    # The refused query never reached an account: only this list can show it was asked.
    assert [(r["path"], r["type"], r["status"]) for r in after] == [
        ("info", "meta", 200),
        ("info", "allMids", 429),
        ("exchange", "noop", 200),
    ]
