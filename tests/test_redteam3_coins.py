"""Red team, several coins live: a halted coin's orders and the stop's sweep, under venue faults."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_coins_live import COINS, BasketTrader
from tests.test_hl_live_e2e import fault, wait_until


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=23, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def venue_positions(url: str, user: str) -> dict[str, Decimal]:
    """Each coin's position as the venue's own record of the account has it."""
    with urllib.request.urlopen(f"{url}/_debug/account?user={user}", timeout=5) as answer:
        positions = json.loads(answer.read())["position"]
    return {coin: Decimal(positions.get(coin, "0")) for coin in COINS}


def restarts(trader: BasketTrader, role: str) -> int:
    """``role``'s restarts in the journal (0 while the journal is still being created)."""
    try:
        with sqlite3.connect(f"file:{trader.state / 'journal.sqlite'}?mode=ro", uri=True) as db:
            query = "SELECT COUNT(*) FROM restarts WHERE role = ?"
            (count,) = db.execute(query, (role,)).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(count)


def test_a_halted_coins_orders_are_cancelled_when_the_first_listing_of_its_cancel_all_is_lost(
    tmp_path: Path, venue_url: str
) -> None:
    # ETH's order_manager crashes every 2 s; the third crash makes its supervisor give up.
    # Its orders must then be cancelled at the venue: nothing manages them any more, and
    # the market takes them as it moves. Before, a cancel-all whose listing was lost (a
    # reset connection) was logged (event=command_failed command=CancelAll) and never
    # asked again: ETH's quotes rested, unmanaged, until the stop.
    trader = BasketTrader(
        tmp_path,
        venue_url,
        faults={"crash_role": "order_manager:ETH", "crash_every_s": 2.0},
        hyperliquid={"api_url": venue_url},  # fault drills only against a loopback venue
        supervisor={"max_restarts": 2, "period_s": 60},
        watchdog={"dead_man_switch_s": 60.0},  # the venue's switch must not do it for us
    )
    makerd = trader.start(tmp_path)
    wait_until(lambda: restarts(trader, "order_manager:ETH") >= 2, timeout_s=40, process=makerd)
    wait_until(lambda: trader.resting()["ETH"] >= 2, timeout_s=5, process=makerd)
    fault(venue_url, {"reset_next": 100, "paths": ["info"]})  # every listing for a while
    try:
        makerd.wait_for(r"event=coin_halted coin=ETH", timeout=10)
        time.sleep(0.3)  # the cancel-all's first listing is reset
    finally:
        fault(venue_url, {"clear": True})

    wait_until(lambda: trader.resting()["ETH"] == 0, timeout_s=8, process=makerd)
    assert "event=cancel_all_retry coin=ETH" in makerd.text, "the fault missed the listing"
    others = ("BTC", "xyz:TSLA")  # the other coins quote on
    wait_until(lambda: min(trader.resting()[c] for c in others) >= 2, timeout_s=10, process=makerd)
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text
    assert trader.resting() == dict.fromkeys(COINS, 0)


def test_a_stop_that_flattens_three_coins_after_a_refused_closing_action_says_the_venues_truth(
    tmp_path: Path, venue_url: str
) -> None:
    # Short on every coin; SIGTERM with risk.flatten_on_stop while the venue refuses the
    # next order action: the coins' first closing orders leave in one action and are
    # refused, and each coin closes again about 1.4 s later, well inside the flatten's
    # 3.5 s. A closing IOC fills on arrival, and the user stream's "filled" can overtake
    # the action's answer: the answer's oid was then never tied to its order, so its fill
    # (the exchange's carries no cloid) was held 2 s as nobody's, and the wait ended
    # first. The stop printed "the flatten left BTC position -0.004 open: close it on the
    # exchange" for a position the venue had closed.
    trader = BasketTrader(
        tmp_path,
        venue_url,
        hyperliquid={"api_url": venue_url},
        risk={"max_position": 2, "flatten_on_stop": True},
        stop_timeout_s=14,
    )
    makerd = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting().values()) >= 2, timeout_s=40, process=makerd)
    for coin in COINS:
        fault(venue_url, {"sweep": {"user": trader.address, "side": "buy", "coin": coin}})
    wait_until(
        lambda: all(trader.journal_fills(coin) for coin in COINS), timeout_s=20, process=makerd
    )
    fault(venue_url, {"reject_next": 1, "reject_action_type": "order"})
    try:
        makerd.signal(signal.SIGTERM)
        code = makerd.finish()
    finally:
        fault(venue_url, {"clear": True})

    assert code == EXIT_OK, makerd.text
    assert "position left open" not in makerd.text
    assert "event=position_left_open" not in makerd.text
    assert venue_positions(venue_url, trader.address) == dict.fromkeys(COINS, Decimal(0))
    for coin in COINS:
        assert trader.journal_fills(coin) == trader.venue_fills(coin), coin


def open_orders_gauge(metrics_port: int, coin: str) -> float:
    """``makerd_open_orders`` of ``coin``, both sides."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as page:
        text = page.read().decode()
    label = f'symbol="{coin}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("makerd_open_orders{") and label in line
    )


def test_a_halted_coin_shows_no_open_orders_once_the_venue_has_cancelled_them(
    tmp_path: Path, venue_url: str
) -> None:
    # The status line and makerd_open_orders count what the coin's order_manager says
    # rests. A dead order_manager says nothing more: a halted coin went on showing its
    # last ladder, and each crashed incarnation's orders on top (orders=12 for a ladder
    # of 4), while the venue held none. MakerdNotQuoting (no open orders) never fired.
    trader = BasketTrader(
        tmp_path,
        venue_url,
        faults={"crash_role": "order_manager:ETH", "crash_every_s": 2.0},
        hyperliquid={"api_url": venue_url},
        supervisor={"max_restarts": 2, "period_s": 60},
    )
    makerd = trader.start(tmp_path)
    port = makerd.metrics_port()
    makerd.wait_for(r"event=coin_halted coin=ETH", timeout=60)
    wait_until(lambda: trader.resting()["ETH"] == 0, timeout_s=20, process=makerd)

    wait_until(lambda: open_orders_gauge(port, "ETH") == 0, timeout_s=3, process=makerd)
    assert open_orders_gauge(port, "BTC") >= 2, "the other coins' orders still count"
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text
