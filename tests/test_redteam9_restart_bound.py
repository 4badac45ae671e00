"""Several coins live: one coin's order_manager crashing and restarted by its supervisor
again and again. Each coin's open orders stay within its ladder plus the transient margin,
the account's within the sum, and a stop leaves none."""

from __future__ import annotations

import json
import signal
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.actors.exposure import TRANSIENT_MARGIN
from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_coins_live import COINS, BasketTrader
from tests.test_hl_live_e2e import wait_until

LEVELS = 2
COIN_BOUND = 2 * LEVELS + TRANSIENT_MARGIN
RESTARTS = 4


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=37, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def test_open_orders_stay_bounded_per_coin_while_one_coins_order_manager_keeps_restarting(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BasketTrader(
        tmp_path,
        venue_url,
        faults={"crash_role": "order_manager:ETH", "crash_every_s": 1.5},
        hyperliquid={"api_url": venue_url},  # fault drills only against a loopback venue
        supervisor={"max_restarts": 50, "period_s": 60},
    )
    makerd = trader.start(tmp_path)
    most = dict.fromkeys(COINS, 0)

    def restarted_enough() -> bool:
        for coin, resting in trader.resting().items():
            most[coin] = max(most[coin], resting)
        return makerd.text.count("event=child_restarted") >= RESTARTS and most["ETH"] > 0

    wait_until(restarted_enough, timeout_s=40, step_s=0.02, process=makerd)
    with urllib.request.urlopen(f"{venue_url}/_debug/account?user={trader.address}") as answer:
        peak = int(json.loads(answer.read())["peak_open_orders"])  # exact, not sampled
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text[-3000:]
    assert all(n <= COIN_BOUND for n in most.values()), most  # sampled every 20 ms or so
    assert peak <= len(COINS) * COIN_BOUND, peak
    assert trader.resting() == dict.fromkeys(COINS, 0)
    with sqlite3.connect(trader.state / "journal.sqlite") as db:
        restarted = [str(role) for (role,) in db.execute("SELECT role FROM restarts")]
    assert set(restarted) == {"order_manager:ETH"}, restarted
    assert len(restarted) >= RESTARTS, restarted
    assert "event=coin_halted" not in makerd.text


def test_one_coins_hung_order_manager_is_replaced_without_doubling_its_ladder(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BasketTrader(
        tmp_path,
        venue_url,
        faults={"hang_role": "order_manager:ETH", "hang_after_s": 3.0},
        hyperliquid={"api_url": venue_url},  # fault drills only against a loopback venue
    )
    makerd = trader.start(tmp_path)
    most = dict.fromkeys(COINS, 0)

    def sample() -> dict[str, int]:
        resting = trader.resting()
        for coin, n in resting.items():
            most[coin] = max(most[coin], n)
        return resting

    wait_until(lambda: min(sample().values()) >= 2, timeout_s=40, process=makerd)
    wait_until(
        lambda: "event=child_restarted role=order_manager:ETH" in makerd.text and bool(sample()),
        timeout_s=30,
        step_s=0.02,
        process=makerd,
    )
    wait_until(lambda: sample()["ETH"] >= 2, timeout_s=20, step_s=0.02, process=makerd)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text[-3000:]
    assert "kind=hung" in makerd.text
    assert all(n <= COIN_BOUND for n in most.values()), most
    assert trader.resting() == dict.fromkeys(COINS, 0)
