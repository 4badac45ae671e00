"""A coin's own risk limits in one real makerd process of two coins (sim mode): that coin
alone turns reduce-only (or halts) at its own limit, from the start or after a SIGHUP,
while the other coin keeps quoting both sides under the top-level limit."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_OK
from makerd.daemon.latch import KillSwitchLatch
from tests.ctl_kit import status
from tests.processes import MakerdProcess, write_config
from tests.test_e2e_coins import metrics_page

# One level of 0.002 a side; the top-level limit (0.05) is 25 fills of one side away.
BASE: dict[str, object] = {
    "status_interval_s": 0.5,
    "quoting": {"levels": 1},
    "risk": {"max_position": 0.05},
}
# ETH's own limit is its ladder side (0.002), reduce-only from half of it: its first fill
# (any part of a level) turns it reduce-only; BTC at 0.002 is far inside 0.05.
ETH_TIGHT = {"coin": "ETH", "risk": {"max_position": 0.002, "reduce_only_at": 0.5}}
ETH_BOUND = r"makerd sim ETH \| .*state=(reduce_only|halted)"
BTC_BOTH_SIDES = r"makerd sim BTC \| .*orders=2 .*state=normal"


def start(tmp_path: Path, coins: list[object]) -> tuple[MakerdProcess, Path]:
    config = write_config(tmp_path / "coins.yaml", {**BASE, "coins": coins})
    args = ["run", "--config", str(config), "--state-dir", str(tmp_path / "state")]
    return MakerdProcess([*args, "--metrics-port", "0"], cwd=tmp_path), config


def test_the_second_coins_own_limit_binds_it_while_the_first_keeps_quoting(
    tmp_path: Path,
) -> None:
    makerd, _ = start(tmp_path, ["BTC", ETH_TIGHT])
    port = makerd.metrics_port()

    makerd.wait_for(ETH_BOUND, timeout=90)
    makerd.wait_for(BTC_BOTH_SIDES, timeout=30)
    running, page = status(tmp_path / "state"), metrics_page(port)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text[-3000:]
    assert KillSwitchLatch(tmp_path / "state").read() is None, "a coin's limit is not the account's"
    assert "state=BTC:" not in makerd.text, "BTC never left normal"
    for coin in ("BTC", "ETH"):
        assert f"event=open_orders_at_stop coin={coin} venue_open_orders=0" in makerd.text
    assert running["coins"]["ETH"]["risk_limits"] == {
        "max_position": "0.002",
        "max_position_usd": "0",
        "reduce_only_at": "0.5",
    }
    assert running["coins"]["BTC"]["risk_limits"]["max_position"] == "0.05"
    assert 'makerd_risk_max_position{symbol="ETH",venue="sim"} 0.002' in page
    assert 'makerd_risk_max_position{symbol="BTC",venue="sim"} 0.05' in page
    args = ["report", "--state-dir", str(tmp_path / "state"), "--report-dir", "out"]
    report = MakerdProcess(args, cwd=tmp_path)
    assert report.finish() == EXIT_OK, report.text
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["coin_limits"] == (
        "BTC max_position 0.05, max_position_usd 0, reduce_only_at 0.8; "
        "ETH max_position 0.002, max_position_usd 0, reduce_only_at 0.5"
    )


def test_a_reload_lowering_one_coins_own_limit_binds_that_coin_and_not_the_other(
    tmp_path: Path,
) -> None:
    eth_loose = {"coin": "ETH", "risk": {"max_position": 0.05}}
    makerd, config = start(tmp_path, ["BTC", eth_loose])
    makerd.wait_for(r"makerd sim ETH \| .*fills=[1-9]", timeout=90)
    before = makerd.text

    write_config(config, {**BASE, "coins": ["BTC", ETH_TIGHT]})
    makerd.signal(signal.SIGHUP)
    makerd.wait_for(r"event=config_reload result=applied .*needs_restart=-")
    makerd.wait_for(ETH_BOUND, timeout=90)
    makerd.wait_for(BTC_BOTH_SIDES, timeout=30)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text[-3000:]
    assert "state=ETH:" not in before, "ETH was quoting freely under its old limit"
    assert "state=BTC:" not in makerd.text, "BTC never left normal"
    assert KillSwitchLatch(tmp_path / "state").read() is None
