"""SIGHUP tells the truth about what still needs a restart, however many reloads follow."""

from __future__ import annotations

import signal
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_OK
from tests.processes import MakerdProcess, write_config

APPLIED = r"event=config_reload result=applied .*needs_restart=([^\s\"]+)"


def test_a_second_reload_still_says_a_restart_only_change_is_waiting_for_a_restart(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "run.yaml", {"quoting": {"levels": 2}})
    run_args = ["run", "--state-dir", "state", "--metrics-port", "0", "--config", str(config)]
    makerd = MakerdProcess(run_args, cwd=tmp_path)
    makerd.wait_for(r"orders=4 ")

    write_config(config, {"quoting": {"levels": 2}, "coin": "ETH"})
    makerd.signal(signal.SIGHUP)
    first = makerd.wait_for(APPLIED).group(1)
    makerd.signal(signal.SIGHUP)  # the same file again: the coin still differs from the run's
    second = makerd.wait_for(APPLIED).group(1)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert first == "coin"
    assert second == "coin", "the run still quotes BTC: the ETH in the file waits for a restart"


def test_a_reload_that_removes_a_coin_leaves_that_coins_quoting_as_it_runs(
    tmp_path: Path,
) -> None:
    # ETH quotes one level of its own. The file then drops ETH: the reload says the coin
    # list waits for a restart, and until then ETH must quote as it did. Before, it was
    # handed the file's top-level quoting at once, so its own overrides (levels here; an
    # order size just as well: 0.001 BTC under a top level sized for a cheap coin) were
    # replaced by a section never meant for it.
    eth = {"coin": "ETH", "quoting": {"levels": 1}}
    before = {"coins": ["BTC", eth, "SOL"], "status_interval_s": 0.5}
    config = write_config(tmp_path / "coins.yaml", before)
    run_args = ["run", "--state-dir", "state", "--metrics-port", "0", "--config", str(config)]
    makerd = MakerdProcess(run_args, cwd=tmp_path)
    makerd.wait_for(r"makerd sim ETH \| .*orders=2 ", timeout=60)

    write_config(config, {**before, "coins": ["BTC", "SOL"]})
    makerd.signal(signal.SIGHUP)
    applied = makerd.wait_for(APPLIED).group(1)
    eth_orders = [makerd.wait_for(r"makerd sim ETH \| .*orders=(\d+) ").group(1) for _ in range(2)]
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert applied == "coins"
    assert eth_orders == ["2", "2"], "ETH took the top-level quoting (3 levels: 6 orders)"
