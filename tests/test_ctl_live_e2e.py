"""``makerd ctl`` on makerd in live mode, as the local venue sees it (not as makerd says)."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.ctl_kit import ctl, operator_commands
from tests.test_hl_live_e2e import Trader, resting, wait_until

NEW_RISK = frozenset({"order", "modify", "batchModify"})
"""Venue action types that place or move orders (cancels and scheduleCancel do not)."""


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=5, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


def account(trader: Trader) -> dict[str, Any]:
    url = f"{trader.url}/_debug/account?user={trader.address}"
    with urllib.request.urlopen(url, timeout=5) as page:
        answer: dict[str, Any] = json.loads(page.read())
    return answer


def venue_open_orders(trader: Trader) -> int:
    count = account(trader)["open_orders"]
    assert isinstance(count, int)
    return count


def new_risk_since(trader: Trader, since_ms: int) -> list[dict[str, Any]]:
    return [
        action
        for action in account(trader)["actions"]
        if action["type"] in NEW_RISK and action["time_ms"] >= since_ms
    ]


def test_pause_empties_the_venue_until_resume_and_flatten_closes_the_venue_position(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Trader(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    resting(trader, makerd)

    paused = ctl(trader.state, "pause")
    emptied_s = wait_until(lambda: venue_open_orders(trader) == 0, timeout_s=2, process=makerd)
    empty_since_ms = time.time_ns() // 1_000_000
    for _ in range(4):  # two seconds of status lines, i.e. of quote targets, while paused
        makerd.wait_for(r"orders=0 .*state=paused")
    placed_while_paused = new_risk_since(trader, empty_since_ms)
    open_while_paused = venue_open_orders(trader)
    resumed = ctl(trader.state, "resume")
    resting(trader, makerd, timeout_s=10)
    wait_until(lambda: trader.venue_position() != 0, timeout_s=30, process=makerd)
    flattened = ctl(trader.state, "flatten")
    flat_s = wait_until(lambda: trader.venue_position() == 0, timeout_s=5, process=makerd)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert paused.code == EXIT_OK, paused.stderr
    print(f"\nlive pause: venue empty after {emptied_s:.2f} s; flat {flat_s:.2f} s after flatten")
    assert placed_while_paused == [], "no order action reached the venue while paused"
    assert open_while_paused == 0
    assert resumed.code == EXIT_OK, resumed.stderr
    assert flattened.code == EXIT_OK, flattened.stderr
    assert flattened.answer is not None
    assert flattened.answer["paused"] is True
    assert trader.open_orders() == []
    assert [(command, ok) for command, ok, _ in operator_commands(trader.state)] == [
        ("pause", 1),
        ("resume", 1),
        ("flatten", 1),
    ]
