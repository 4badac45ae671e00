"""``makerd report --session N --replay`` of a session that quoted several coins.

A live session quotes BTC and ETH against ``makerd venue`` (in process, on loopback) and
records its market; its replay takes every coin's lines of the session's span from the
recorder's ``all_`` files, takes each coin's own orders out of that coin's books only, and
prints the account's comparison and each coin's line on both sides.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account

from makerd.daemon.cloids import CoinCloids
from makerd.daemon.exit_codes import EXIT_OK
from makerd.protocol.market import BookLevel, BookSnapshotReceived
from makerd.protocol.side import Side
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.replay.own_orders import OwnOrderChange, OwnOrders
from tests.processes import MakerdProcess, write_config

RUN_S = 15.0
COINS = ("BTC", "ETH")


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


def test_an_order_is_taken_out_of_its_own_coins_books_only() -> None:
    """Both coins rest an order at 100: a BTC book at 100 loses only BTC's order."""
    cloids = CoinCloids(COINS, run_prefix=5)
    btc_order, eth_order = cloids.factories["BTC"](), cloids.factories["ETH"]()
    changes = [
        OwnOrderChange(
            ts_local=1, cloid=cloid, side=Side.BUY, price=Decimal(100), size=Decimal(size),
            resting=True,
        )
        for cloid, size in ((btc_order, "0.2"), (eth_order, "0.5"))
    ]  # fmt: skip
    own = OwnOrders(changes, (), coin_of_cloid=cloids.coin_of)
    level = BookLevel(price=Decimal(100), size=Decimal(1), orders=3)

    for coin, left in (("BTC", "0.8"), ("ETH", "0.5")):
        book = BookSnapshotReceived(coin=coin, bids=(level,), asks=(), ts_exchange=2, ts_local=2)
        assert own.book_without_us(book).bids[0].size == Decimal(left), coin


@pytest.mark.timeout(RUN_S + 240)  # the live run, then its replay; not the suite's default
def test_a_live_session_of_two_coins_is_replayed_coin_by_coin(
    tmp_path: Path, venue_url: str
) -> None:
    state = tmp_path / "state"
    config = write_config(
        tmp_path / "live.yaml",
        {
            "mode": "live",
            "coins": ["BTC", {"coin": "ETH", "quoting": {"order_size": 0.01}}],
            "status_interval_s": 5,
            "quoting": {"first_level_bps": 1, "levels": 2},
            "feed": {"record_dir": str(tmp_path / "recording")},
        },
    )
    args = ["run", "--config", str(config), "--api-url", venue_url]
    args += ["--state-dir", str(state), "--metrics-port", "0"]
    process = MakerdProcess(
        args, cwd=tmp_path, env={"MAKERD_PRIVATE_KEY": Account.create().key.hex()}
    )
    process.wait_for(r"event=started mode=live", timeout=30)
    threading.Event().wait(RUN_S)
    process.signal(signal.SIGTERM)
    assert process.finish() == EXIT_OK, process.text[-4000:]
    assert list((tmp_path / "recording").glob("all_*.gz*")), "one file for both coins"

    result = subprocess.run(
        [sys.executable, "-m", "makerd", "report", "--state-dir", str(state), "--session", "1",
         "--replay"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        check=False,
    )  # fmt: skip

    print(result.stdout)
    assert result.returncode == 0, result.stderr
    live_fills = re.search(r"^fills\s+(\d+)\s+(\d+)", result.stdout, re.MULTILINE)
    assert live_fills is not None, result.stdout
    assert int(live_fills.group(2)) > 0, "the replay trades on the recording"
    dropped = re.search(r"taken out of the recording: (\d+) of our (\d+) fills", result.stdout)
    assert dropped is not None, result.stdout
    assert dropped.group(1) == dropped.group(2) == live_fills.group(1), "every own fill, by id"
    live_part, _, replay_part = result.stdout.partition("each coin, replay:")
    for part in (live_part.partition("each coin, live:")[2], replay_part):
        coins = [line.split()[0] for line in part.splitlines() if "fills=" in line]
        assert coins == list(COINS), result.stdout
