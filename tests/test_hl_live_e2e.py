"""makerd in live mode, as a real process, against the project's own local venue.

One in-process local venue serves every test; each test trades with its own throwaway
key (the venue funds any signer), so accounts never mix. Faults are cleared after use.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess, write_config

STALE_AFTER_S = 2.0
DEAD_MAN_S = 6.0


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


class Trader:
    """A throwaway key, its account address and a makerd config that trades fast."""

    def __init__(
        self,
        tmp_path: Path,
        venue_url: str,
        *,
        dead_man_s: float = DEAD_MAN_S,
        sections: Mapping[str, object] | None = None,
    ) -> None:
        """``sections`` replace whole config sections (``{"risk": {...}}``)."""
        account = Account.create()
        self.key = account.key.hex()
        self.address = account.address.lower()
        self.url = venue_url
        self.state = tmp_path / "state"
        self.config = write_config(
            tmp_path / "live.yaml",
            {
                "mode": "live",
                "coin": "BTC",
                "status_interval_s": 0.5,
                "quoting": {"first_level_bps": 1, "levels": 2},
                "feed": {"stale_after_s": STALE_AFTER_S},
                "watchdog": {"dead_man_switch_s": dead_man_s},
                **(sections or {}),
            },
        )

    def start(self, cwd: Path) -> MakerdProcess:
        args = ["run", "--config", str(self.config), "--api-url", self.url]
        args += ["--state-dir", str(self.state), "--metrics-port", "0"]
        return MakerdProcess(args, cwd=cwd, env={"MAKERD_PRIVATE_KEY": self.key})

    def info(self, body: dict[str, object]) -> object:
        request = urllib.request.Request(
            self.url + "/info",
            data=json.dumps({**body, "user": self.address}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def open_orders(self) -> list[dict[str, object]]:
        orders = self.info({"type": "openOrders"})
        assert isinstance(orders, list)
        return orders

    def venue_position(self) -> Decimal:
        state = self.info({"type": "clearinghouseState"})
        assert isinstance(state, dict)
        for item in state["assetPositions"]:
            if item["position"]["coin"] == "BTC":
                return Decimal(item["position"]["szi"])
        return Decimal(0)

    def journal_position(self) -> Decimal:
        with sqlite3.connect(self.state / "journal.sqlite") as db:
            rows = list(db.execute("SELECT side, size FROM fills WHERE coin = 'BTC'"))
        return sum((Decimal(size) * (1 if side == "B" else -1) for side, size in rows), Decimal(0))


def fault(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url + "/_debug/faults",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["status"] == "ok"


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout_s: float,
    step_s: float = 0.05,
    process: MakerdProcess | None = None,
) -> float:
    """Poll ``condition``; return the seconds it took; fail after ``timeout_s``."""
    started = time.monotonic()
    pause = threading.Event()  # never set: a timed wait that is not time.sleep
    while not condition():
        if time.monotonic() - started > timeout_s:
            output = process.text[-4000:] if process is not None else ""
            raise AssertionError(f"condition not met within {timeout_s}s\n{output}")
        pause.wait(step_s)
    return time.monotonic() - started


def resting(trader: Trader, process: MakerdProcess, timeout_s: float = 20) -> None:
    """Wait until makerd's quotes rest at the venue (asked of the venue, not makerd)."""
    wait_until(lambda: len(trader.open_orders()) > 0, timeout_s=timeout_s, process=process)


def quote_until_filled_and_stop(trader: Trader, cwd: Path) -> MakerdProcess:
    """Run makerd until its quotes rest and one fills, then SIGTERM it: it must exit 0
    with nothing resting, its journal's position the venue's, no mismatch on the way."""
    makerd = trader.start(cwd)
    resting(trader, makerd)
    wait_until(lambda: trader.venue_position() != 0, timeout_s=30, process=makerd)

    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert "venue confirms 0 open orders" in makerd.text
    assert trader.open_orders() == []
    assert trader.journal_position() == trader.venue_position()
    assert "position_mismatch" not in makerd.text
    return makerd


def test_live_quotes_rest_get_filled_match_the_venue_position_and_sigterm_leaves_none(
    tmp_path: Path, venue_url: str
) -> None:
    quote_until_filled_and_stop(Trader(tmp_path, venue_url), tmp_path)


def order_ids(trader: Trader) -> set[int]:
    return {int(str(order["oid"])) for order in trader.open_orders()}


def test_a_dropped_websocket_reconnects_resubscribes_repairs_and_quoting_resumes(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Trader(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    resting(trader, makerd)
    before = order_ids(trader)

    fault(venue_url, {"drop_connections": True})
    market_back = r"ws_reconnected stream=market .*down_for_s=([0-9.]+)"
    # The two streams reconnect independently: wait for both, in either order.
    wait_until(
        lambda: (
            "gap_repaired reason='connection 2'" in makerd.text
            and re.search(market_back, makerd.text) is not None
        ),
        timeout_s=15,
        process=makerd,
    )
    reconnected = re.search(market_back, makerd.text)
    assert reconnected is not None, makerd.text
    wait_until(lambda: bool(order_ids(trader) - before), timeout_s=15, process=makerd)

    port = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/", makerd.text)
    assert port is not None, makerd.text
    with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/metrics", timeout=5) as page:
        exposition = page.read().decode()
    drops = [
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("makerd_feed_reconnects_total{") and 'stream="market"' in line
    ]
    assert sum(drops) >= 1, "the drop is counted"
    assert 'makerd_feed_connected{stream="market",symbol="BTC",venue="live"} 1.0' in exposition

    print(f"\nmarket feed reconnected after {reconnected.group(1)} s")
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text
    assert float(reconnected.group(1)) < 2.0
    assert trader.open_orders() == []


def test_a_frozen_feed_pulls_every_quote_within_the_staleness_limit(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Trader(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    resting(trader, makerd)

    fault(venue_url, {"freeze_feed_s": STALE_AFTER_S + 3})
    pulled_after_s = wait_until(lambda: trader.open_orders() == [], timeout_s=STALE_AFTER_S + 3)
    back_after_s = wait_until(lambda: len(trader.open_orders()) > 0, timeout_s=15)

    print(
        f"\nfrozen feed: quotes pulled after {pulled_after_s:.2f} s, "
        f"back after {back_after_s:.2f} s"
    )
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text
    assert pulled_after_s <= STALE_AFTER_S + 1.0
    assert trader.open_orders() == []


def test_kill_9_leaves_the_dead_man_switch_to_cancel_every_order_at_the_venue(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Trader(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    makerd.wait_for(r"dead_man_switch_armed")
    resting(trader, makerd)

    makerd.signal(signal.SIGKILL)
    makerd.finish()
    cancelled_after_s = wait_until(lambda: trader.open_orders() == [], timeout_s=DEAD_MAN_S + 2)

    print(f"\ndead-man switch: orders cancelled {cancelled_after_s:.2f} s after kill -9")
    assert cancelled_after_s <= DEAD_MAN_S + 1.0


def test_a_restart_after_kill_9_cancels_the_orphans_and_quotes_afresh(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Trader(tmp_path, venue_url, dead_man_s=0)  # nothing cancels the orphans for us
    first = trader.start(tmp_path)
    resting(trader, first)
    first.signal(signal.SIGKILL)
    first.finish()
    orphans = order_ids(trader)
    assert orphans, "the killed run left orders resting"

    second = trader.start(tmp_path)
    wait_until(lambda: not (order_ids(trader) & orphans), timeout_s=10, process=second)
    resting(trader, second)

    second.signal(signal.SIGTERM)
    assert second.finish() == EXIT_OK, second.text
    assert trader.open_orders() == []
    assert trader.journal_position() == trader.venue_position() or "position_mismatch" in (
        second.text
    )
