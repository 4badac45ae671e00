"""``makerd report --session N --replay`` of a session that quoted several coins.

A live session quotes BTC and ETH against ``makerd venue`` (in process, on loopback) and
records its market; its replay takes every coin's lines of the session's span from the
recorder's ``all_`` files, takes each coin's own orders out of that coin's books only, and
prints the account's comparison and each coin's, with the same live, replay and
divergence columns, and writes the same rows to ``comparison.json``.
"""

from __future__ import annotations

import json
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
from makerd.daemon.report_compare import COIN_COMPARED
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
    written = re.search(r"^wrote (.+comparison\.json)$", result.stdout, re.MULTILINE)
    assert written is not None, result.stdout
    document = json.loads(Path(written.group(1)).read_text())
    assert list(document["coins"]) == list(COINS)
    rows = coin_rows(result.stdout)
    assert list(rows) == list(COINS), "each coin's rows under the account's, in its order"
    for side, account in ((0, live_fills.group(1)), (1, live_fills.group(2))):
        coin_fills = [int(rows[coin]["fills"][side]) for coin in COINS]
        assert sum(coin_fills) == int(account), "the coins' fills are the account's"
    for coin in COINS:
        figures = {row["figure"]: row for row in document["coins"][coin]}
        assert list(figures) == [label for _, label in COIN_COMPARED]
        for label, shown in rows[coin].items():
            kept = (figures[label]["live"], figures[label]["replay"], figures[label]["difference"])
            assert all(map(same_figure, kept, shown)), (coin, label, kept, shown)
        live, replay, divergence = rows[coin]["fills"]
        assert divergence.startswith(f"{int(replay) - int(live):+d}"), (coin, divergence)
        assert figures["fills"]["difference"] == str(int(replay) - int(live))


def same_figure(kept: str | None, shown: str) -> bool:
    """A figure of comparison.json (exact) is the one printed (to a millionth)."""
    if kept is None:
        return shown == "n/a"
    printed = Decimal(shown.split(maxsplit=1)[0])  # a divergence is followed by its share
    return abs(Decimal(kept) - printed) <= Decimal("0.0000005")


def coin_rows(printed: str) -> dict[str, dict[str, tuple[str, str, str]]]:
    """Each coin's rows of the printed table: figure -> (live, replay, divergence)."""
    rows: dict[str, dict[str, tuple[str, str, str]]] = {}
    coin = None
    for line in printed.splitlines():
        if line in COINS:
            coin = line
            rows[coin] = {}
        elif coin is not None and line.startswith("  "):
            label, live, replay, divergence = re.split(r"\s{2,}", line.strip(), maxsplit=3)
            rows[coin][label] = (live, replay, divergence)
        else:
            coin = None
    return rows
