"""Several coins in one paper process: the local venue's public data, paper matching per coin."""

from __future__ import annotations

import gzip
import json
import re
import signal
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.recording_rules import RULES_NAME, load_rules
from tests.ctl_kit import status
from tests.processes import MakerdProcess, write_config

COINS = ("BTC", "ETH", "xyz:TSLA")


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=23, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def fills_by_coin(state: Path) -> dict[str, int]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        rows = db.execute("SELECT coin, count(DISTINCT trade_id) FROM fills GROUP BY coin")
        return {str(coin): int(count) for coin, count in rows}


def recorded_coins(record_dir: Path) -> set[str]:
    coins: set[str] = set()
    for recording in record_dir.glob("*.gz"):
        with gzip.open(recording, "rt", encoding="utf-8") as file:
            for line in file:
                message = json.loads(line.split(" ", 1)[1])
                if message.get("channel") == "l2Book":
                    coins.add(message["data"]["coin"])
    return coins


def drop_market_streams(url: str) -> int:
    """Close the venue's market-data WebSockets; how many there were."""
    request = urllib.request.Request(
        url + "/_debug/faults",
        data=json.dumps({"drop_stream": "market"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        dropped: int = json.loads(response.read())["dropped"]
    return dropped


def test_every_coin_rests_paper_orders_books_its_own_fills_and_sigterm_leaves_none(
    tmp_path: Path, venue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAKERD_PRIVATE_KEY", raising=False)  # paper mode needs no key
    state, record_dir = tmp_path / "state", tmp_path / "recording"
    config = write_config(
        tmp_path / "paper.yaml",
        {
            "mode": "paper",
            "coins": [
                "BTC",
                {"coin": "ETH", "quoting": {"order_size": 0.01}},
                {"coin": "xyz:TSLA", "quoting": {"order_size": 0.1}},
            ],
            "status_interval_s": 0.5,
            "quoting": {"first_level_bps": 1, "levels": 2},
            "risk": {"max_position": 2},
            "feed": {"record_dir": str(record_dir)},
        },
    )
    args = ["run", "--config", str(config), "--api-url", venue_url]
    makerd = MakerdProcess([*args, "--state-dir", str(state), "--metrics-port", "0"], cwd=tmp_path)

    # Each coin's own status line (printed every few summaries): paper orders resting, and
    # fills from the venue's public trades and book moves.
    for coin in COINS:
        makerd.wait_for(rf"makerd paper {coin} \| .*orders=[1-9]\d* fills=[1-9]", timeout=90)
    running = status(state)
    market_connections = drop_market_streams(venue_url)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert re.search(r"event=paper_venue url=\S+ coins=BTC,ETH,xyz:TSLA", makerd.text)
    for coin in COINS:
        assert f"event=open_orders_at_stop coin={coin} venue_open_orders=0" in makerd.text
        assert running["coins"][coin]["open_orders"]["makerd"] > 0, coin
    assert "venue confirms 0 open orders" in makerd.text
    assert market_connections == 1, "one market WebSocket carries every coin"
    assert "position_mismatch" not in makerd.text
    assert "duplicate_fill" not in makerd.text, "each coin mints its own trade ids"
    booked = fills_by_coin(state)
    assert set(booked) == set(COINS), booked
    assert recorded_coins(record_dir) == set(COINS)
    rules = {coin: load_rules(record_dir / RULES_NAME, coin) for coin in COINS}
    assert rules["xyz:TSLA"].asset_id > rules["ETH"].asset_id, "the builder dex's offset ids"
