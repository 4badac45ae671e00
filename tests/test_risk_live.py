"""Margin and unrealized-loss limits on makerd in live mode, against the local venue.

The venue's own figures drive the test: its ``clearinghouseState`` is what makerd asks
about margin, and the test moves margin use by setting the account's USDC balance (the
local venue's admin path), or moves the market with its ``jump_pct`` fault.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from makerd.daemon.exit_codes import EXIT_KILL_SWITCH, EXIT_OK
from makerd.daemon.latch import KillSwitchLatch
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess
from tests.test_ctl_live_e2e import new_risk_since
from tests.test_hl_live_e2e import Trader, fault, resting, wait_until

# Orders the local venue refuses for margin while the test starves the account must not
# trip the rejection storm first: the margin limit is what is under test.
PATIENT = {"rejection_storm_count": 1000}


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=23, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


def post(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["status"] == "ok"


def margin_state(trader: Trader) -> tuple[Decimal, Decimal, Decimal]:
    """Margin used, account value and unrealized PnL, as the venue reports them."""
    state: Any = trader.info({"type": "clearinghouseState"})
    summary = state["marginSummary"]
    unrealized = sum(
        (Decimal(item["position"]["unrealizedPnl"]) for item in state["assetPositions"]),
        Decimal(0),
    )
    return Decimal(summary["totalMarginUsed"]), Decimal(summary["accountValue"]), unrealized


def starve_to(trader: Trader, use: Decimal) -> Decimal:
    """Set the balance so that margin use is ``use`` at the venue's current marks."""
    used, _, unrealized = margin_state(trader)
    assert used > 0, "a position is open"
    post(
        f"{trader.url}/_debug/accounts",
        {"address": trader.address, "usdc": str(used / use - unrealized)},
    )
    used, value, _ = margin_state(trader)
    return used / value


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        text: str = page.read().decode()
    return text


TRIPPED = re.compile(
    r'^makerd_kill_switch_state\{[^}]*makerd_kill_switch_state="tripped"[^}]*\} 1\.0$', re.M
)


def scrape_until_exit(makerd: MakerdProcess, port: int) -> str:
    """Scrape as Prometheus would until makerd exits; the last page read.

    A run that tripped and has been scraped waits for one more scrape before it exits, so
    that its final state gets stored: up to 15 s when it has seen a single scrape and
    cannot know the interval. A test that scraped once and then stopped scraping paid
    those 15 s every time."""
    last = ""
    pause = threading.Event()  # never set: a timed wait, not a sleep
    while makerd.proc.poll() is None:
        try:
            last = scrape(port)
        except OSError:  # the endpoint has closed: makerd is on its way out
            break
        pause.wait(0.1)
    return last


def test_margin_use_from_the_venue_turns_quoting_reduce_only_then_trips_the_kill_switch(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Trader(tmp_path, venue_url, sections={"risk": {**PATIENT, "margin_poll_s": 0.5}})
    makerd = trader.start(tmp_path)
    port = makerd.metrics_port()
    resting(trader, makerd)
    wait_until(lambda: trader.venue_position() != 0, timeout_s=30, process=makerd)

    soft_use = starve_to(trader, Decimal("0.8"))
    soft = makerd.wait_for(
        r"event=risk_state from=normal to=reduce_only limits=\S*margin_ratio\S* "
        r"reason='[^']*margin use (\d\.\d+)"
    )
    metrics_at_soft = scrape(port)
    hard_use = starve_to(trader, Decimal("0.95"))
    tripped = r"event=kill_switch_tripped reason=margin_ratio detail='margin use (\S+)"
    hard = makerd.wait_for(tripped)
    last_page = scrape_until_exit(makerd, port)
    code = makerd.finish()

    print(f"\nlive margin: soft at use {soft_use:.3f}, kill switch at use {hard_use:.3f}")
    assert Decimal("0.7") <= soft_use < Decimal("0.9")
    assert Decimal("0.7") <= Decimal(soft.group(1)) < Decimal("0.9"), "the venue's figure acted"
    assert 'makerd_risk_soft_actions_total{limit="margin_ratio"' in metrics_at_soft
    assert "makerd_margin_use_ratio" in metrics_at_soft
    assert hard_use >= Decimal("0.9")
    assert Decimal(hard.group(1)) >= Decimal("0.9")
    assert TRIPPED.search(last_page), "the last scrape stores why makerd stopped"
    assert code == EXIT_KILL_SWITCH, makerd.text[-3000:]
    latched = KillSwitchLatch(trader.state).read()
    assert latched is not None
    assert latched.reason == "margin_ratio"
    assert trader.open_orders() == []


def test_an_unrealized_loss_past_its_limit_closes_the_venue_position_and_trips(
    tmp_path: Path, venue_url: str
) -> None:
    risk = {**PATIENT, "max_unrealized_loss_usd": 2, "flatten_on_kill": False}
    trader = Trader(tmp_path, venue_url, sections={"risk": risk})
    makerd = trader.start(tmp_path)
    resting(trader, makerd)
    wait_until(lambda: trader.venue_position() != 0, timeout_s=30, process=makerd)

    against = "-3" if trader.venue_position() > 0 else "3"  # percent, against the position
    fault(venue_url, {"jump_pct": against, "coin": "BTC"})
    tripped = makerd.wait_for(r"event=kill_switch_tripped reason=unrealized_loss detail='([^']*)'")
    flat_s = wait_until(lambda: trader.venue_position() == 0, timeout_s=5, process=makerd)
    code = makerd.finish()

    print(f"\nlive unrealized loss: {tripped.group(1)}; venue flat {flat_s:.2f} s after the trip")
    assert code == EXIT_KILL_SWITCH, makerd.text[-3000:]
    assert trader.venue_position() == 0, "closed with a reduce-only IOC"
    assert trader.journal_position() == 0, "and booked"
    latched = KillSwitchLatch(trader.state).read()
    assert latched is not None
    assert latched.reason == "unrealized_loss"
    assert trader.open_orders() == []


def test_a_jump_past_the_price_band_empties_the_venue_until_the_pause_ends(
    tmp_path: Path, venue_url: str
) -> None:
    band = {"price_band_pct": 1, "price_band_window_s": 5.0, "price_band_pause_s": 6.0}
    trader = Trader(tmp_path, venue_url, sections={"risk": band})
    makerd = trader.start(tmp_path)
    resting(trader, makerd)

    fault(venue_url, {"jump_pct": "2", "coin": "BTC"})
    paused = makerd.wait_for(r"event=price_band_paused detail='mid moved (\S+)%")
    emptied_s = wait_until(lambda: not trader.open_orders(), timeout_s=2, process=makerd)
    empty_since_ms = time.time_ns() // 1_000_000
    for _ in range(4):  # two seconds of status lines, i.e. of quote targets, while paused
        makerd.wait_for(r"orders=0 .*state=price_band_pause")
    placed_while_paused = new_risk_since(trader, empty_since_ms)
    makerd.wait_for(r"event=risk_state from=halted to=normal", timeout=10)
    resting(trader, makerd, timeout_s=10)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    print(f"\nlive price band: mid moved {paused.group(1)}%, venue empty {emptied_s:.2f} s later")
    assert Decimal(paused.group(1)) > 1
    assert placed_while_paused == [], "nothing placed or moved while paused"
    assert code == EXIT_OK, makerd.text[-3000:]
    assert KillSwitchLatch(trader.state).read() is None, "a pause, not a kill switch"
