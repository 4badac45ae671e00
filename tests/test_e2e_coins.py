"""Several coins in one real makerd process (sim mode): quoting, one risk budget, supervision."""

from __future__ import annotations

import re
import signal
import sqlite3
import urllib.request
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_GAVE_UP, EXIT_KILL_SWITCH, EXIT_OK
from makerd.daemon.latch import KillSwitchLatch
from tests.ctl_kit import status
from tests.processes import MakerdProcess, write_config

COINS = ("BTC", "ETH", "SOL")


def start(tmp_path: Path, overrides: dict[str, object], *extra: str) -> MakerdProcess:
    config = write_config(
        tmp_path / "coins.yaml", {"coins": list(COINS), "status_interval_s": 0.5, **overrides}
    )
    args = ["run", "--config", str(config), "--state-dir", str(tmp_path / "state")]
    return MakerdProcess([*args, "--metrics-port", "0", *extra], cwd=tmp_path)


def fills_by_coin(state: Path) -> dict[str, int]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        rows = db.execute("SELECT coin, count(DISTINCT trade_id) FROM fills GROUP BY coin")
        return {str(coin): int(count) for coin, count in rows}


def metrics_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        return str(page.read().decode())


def wait_until_each_coin(makerd: MakerdProcess, pattern: str) -> None:
    """Each coin's own status line (printed every few summaries) matches ``pattern``."""
    for coin in COINS:
        makerd.wait_for(rf"makerd sim {coin} \| .*{pattern}", timeout=60)


def test_every_coin_rests_orders_books_its_own_fills_and_sigterm_leaves_none(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    makerd = start(tmp_path, {})
    port = makerd.metrics_port()

    wait_until_each_coin(makerd, r"orders=[1-9]\d* fills=[1-9]")
    page = metrics_page(port)
    running = status(state)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert makerd.wait_for(r"makerd sim BTC,ETH,SOL \| coins=3 orders=\d+ fills=\d+")
    for coin in COINS:
        assert f"event=open_orders_at_stop coin={coin} venue_open_orders=0" in makerd.text
        assert f'makerd_open_orders{{side="buy",symbol="{coin}",venue="sim"}}' in page
        assert running["coins"][coin]["open_orders"]["makerd"] > 0
    assert "venue confirms 0 open orders" in makerd.text
    assert page.count("# TYPE makerd_open_orders gauge") == 1, "one family, a series per coin"
    booked = fills_by_coin(state)
    assert set(booked) == set(COINS), booked
    assert all(count > 0 for count in booked.values())
    assert running["coin"] == "BTC,ETH,SOL"
    with sqlite3.connect(state / "journal.sqlite") as db:
        [(session_coin,)] = db.execute("SELECT coin FROM sessions")
        equity_positions = {str(p) for (p,) in db.execute("SELECT position FROM equity")}
    assert session_coin == "BTC,ETH,SOL"
    assert equity_positions == {"0"}, "the equity rows are the account's, not one coin's"
    report = MakerdProcess(["report", "--state-dir", str(state)], cwd=tmp_path)
    assert report.finish() == EXIT_OK, report.text
    for coin in COINS:
        assert re.search(rf"^{coin}\s+fills={booked[coin]} volume=", makerd.text, re.M), coin
        assert re.search(rf"^{coin}\s+fills={booked[coin]} volume=", report.text, re.M), coin


def test_the_account_gross_exposure_trips_the_kill_switch_on_the_sum_of_the_coins(
    tmp_path: Path,
) -> None:
    # One level of 0.002 at about 60000 is 120 USD a coin; no coin's own limit is near.
    state = tmp_path / "state"
    makerd = start(
        tmp_path,
        {
            "quoting": {"levels": 1},
            "risk": {"max_position": 1, "max_position_usd": 50000, "max_gross_usd": 200},
        },
    )

    code = makerd.finish(timeout=120)

    assert code == EXIT_KILL_SWITCH, makerd.text
    latched = KillSwitchLatch(state).read()
    assert latched is not None
    assert latched.reason == "max_gross_exposure"
    assert "USD over 200 USD" in latched.detail
    assert "event=coin_halted" not in makerd.text
    for coin in COINS:
        assert f"event=open_orders_at_stop coin={coin} venue_open_orders=0" in makerd.text
    assert len(fills_by_coin(state)) >= 2, "the sum of more than one coin tripped it"


def test_a_coin_whose_actors_crash_repeatedly_stops_alone_and_the_others_keep_quoting(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    makerd = start(
        tmp_path,
        {
            "faults": {"crash_role": "quoter:ETH", "crash_every_s": 0.5},
            "supervisor": {"max_restarts": 3, "period_s": 60},
        },
    )

    makerd.wait_for(r"event=coin_halted coin=ETH", timeout=60)
    makerd.wait_for(r"coins=3 orders=\d+ .*state=ETH:gave_up")
    for coin in ("BTC", "SOL"):
        makerd.wait_for(rf"makerd sim {coin} \| .*orders=[1-9]", timeout=60)
    makerd.signal(signal.SIGTERM)  # not a fixed duration: stop once the others are seen quoting
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    with sqlite3.connect(state / "journal.sqlite") as db:
        restarted = {str(role) for (role,) in db.execute("SELECT role FROM restarts")}
    assert restarted == {"quoter:ETH"}, "only the crashing coin's actor was restarted"
    assert KillSwitchLatch(state).read() is None, "one coin giving up is not the account's"
    for coin in COINS:
        assert f"event=open_orders_at_stop coin={coin} venue_open_orders=0" in makerd.text


def test_a_reload_applies_each_coins_own_quoting_overrides(tmp_path: Path) -> None:
    eth = {"coin": "ETH", "quoting": {"levels": 1}}
    before = {"coins": ["BTC", eth, "SOL"], "status_interval_s": 0.5}
    config = write_config(tmp_path / "coins.yaml", before)
    args = ["run", "--config", str(config), "--state-dir", str(tmp_path / "state")]
    makerd = MakerdProcess([*args, "--metrics-port", "0"], cwd=tmp_path)
    makerd.wait_for(r"makerd sim ETH \| .*orders=2 ", timeout=60)

    write_config(
        config, {**before, "coins": ["BTC", {"coin": "ETH", "quoting": {"levels": 2}}, "SOL"]}
    )
    makerd.signal(signal.SIGHUP)
    applied = makerd.wait_for(r'event=config_reload result=applied .*needs_restart=([^\s"]+)')
    makerd.wait_for(r"makerd sim ETH \| .*orders=4 ", timeout=60)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert applied.group(1) == "-", "a coin's quoting is hot; only the coin list is not"


def test_a_shared_actor_crash_looping_gives_up_for_every_coin_with_exit_81(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    makerd = start(
        tmp_path,
        {
            "faults": {"crash_role": "fill_tracker", "crash_every_s": 0.5},
            "supervisor": {"max_restarts": 2, "period_s": 60},
        },
    )

    code = makerd.finish(timeout=60)

    assert code == EXIT_GAVE_UP, makerd.text
    latched = KillSwitchLatch(state).read()
    assert latched is not None
    assert latched.reason == "restart_intensity"
    for coin in COINS:
        assert f"event=open_orders_at_stop coin={coin} venue_open_orders=0" in makerd.text
