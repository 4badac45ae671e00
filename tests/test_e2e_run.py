"""makerd as a real process: fills, metrics, signals, journal, bad configs, the latch."""

from __future__ import annotations

import signal
import sqlite3
import urllib.request
from decimal import Decimal
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_KILL_SWITCH, EXIT_OK
from tests.processes import MakerdProcess, write_config

STATUS_S = 0.5
"""Tests that wait for a status line ask for one every half second, not the default 5 s:
the line they wait for then comes as soon as what it reports is true."""


def run_args(state_dir: Path, *extra: str) -> list[str]:
    return ["run", "--state-dir", str(state_dir), "--metrics-port", "0", *extra]


def journal_rows(state_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        return list(db.execute(sql))


def test_a_timed_run_fills_the_journal_serves_metrics_and_exits_cleanly(tmp_path: Path) -> None:
    state = tmp_path / "state"
    makerd = MakerdProcess(run_args(state, "--duration", "12"), cwd=tmp_path)
    port = makerd.metrics_port()
    makerd.wait_for(r"makerd sim BTC \| mid=")  # the first status line: quoting has begun

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        exposition = response.read().decode()
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert "makerd_quotes_sent_total" in exposition
    assert 'makerd_orders_placed_total{side="buy"' in exposition
    acks = [
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("makerd_order_ack_latency_seconds_count")
    ]
    assert acks, "ack latency is exported"
    assert acks[0] > 0, "and measured"
    fills = journal_rows(state, "SELECT COUNT(*) FROM fills")[0][0]
    assert isinstance(fills, int)
    assert fills > 0, makerd.text
    assert f"fills           {fills}" in makerd.text, "the summary agrees with the journal"
    report = MakerdProcess(["report", "--state-dir", str(state)], cwd=tmp_path)
    assert report.finish() == EXIT_OK
    assert f"fills           {fills}" in report.text, "the report reads the same journal"
    assert summary_line(report.text, "duration") == summary_line(makerd.text, "duration"), (
        "the run's summary and the report state one duration"
    )


def summary_line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(label))


def test_sigterm_mid_run_cancels_every_order_and_exits_zero(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = write_config(tmp_path / "status.yaml", {"status_interval_s": STATUS_S})
    makerd = MakerdProcess(run_args(state, "--config", str(config)), cwd=tmp_path)
    makerd.wait_for(r"orders=[1-9]")  # orders are resting

    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert "venue confirms 0 open orders" in makerd.text
    stopped = journal_rows(state, "SELECT detail FROM order_events WHERE event = 'stopped'")
    assert stopped
    assert "venue_open_orders=0" in str(stopped[-1][0])
    volume = journal_rows(state, "SELECT price, size FROM fills")
    total = sum((Decimal(str(p)) * Decimal(str(s)) for p, s in volume), Decimal(0))
    assert f"volume          {total:.2f} USD" in makerd.text


def test_a_bad_config_names_the_field_and_exits_before_trading(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bad.yaml", {"quoting": {"levles": 3}, "risk": {"max_position": "lots"}}
    )
    state = tmp_path / "state"

    makerd = MakerdProcess(
        ["run", "--config", str(config), "--state-dir", str(state)], cwd=tmp_path
    )
    code = makerd.finish()

    assert code == EXIT_CONFIG
    assert "quoting.levles" in makerd.text
    assert "levels" in makerd.text, "suggests the key that was meant"
    assert "risk.max_position" in makerd.text
    assert not (state / "journal.sqlite").exists(), "nothing started"


def test_check_config_accepts_the_shipped_configs_and_rejects_a_bad_one(tmp_path: Path) -> None:
    bad = write_config(tmp_path / "bad.yaml", {"supervisor": {"strategy": "one_for_some"}})

    good = MakerdProcess(["check-config", str(Path("config/sim.yaml").resolve())], cwd=Path.cwd())
    rejected = MakerdProcess(["check-config", str(bad)], cwd=tmp_path)

    assert good.finish() == EXIT_OK, good.text
    assert rejected.finish() == EXIT_CONFIG
    assert "supervisor.strategy" in rejected.text


def test_a_tripped_kill_switch_survives_a_restart_until_cleared(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Fees alone exceed a one-cent session loss: the first fill trips the switch.
    config = write_config(
        tmp_path / "tight.yaml",
        {"risk": {"session_loss_usd": 0.01}, "sim": {"scenario": "volatile"}},
    )

    first = MakerdProcess(run_args(state, "--config", str(config)), cwd=tmp_path)
    assert first.finish() == EXIT_KILL_SWITCH, first.text
    second = MakerdProcess(run_args(state, "--duration", "2"), cwd=tmp_path)
    assert second.finish() == EXIT_KILL_SWITCH
    assert "session_loss" in second.text
    cleared = MakerdProcess(["clear-kill-switch", "--state-dir", str(state)], cwd=tmp_path)
    assert cleared.finish() == EXIT_OK
    third = MakerdProcess(run_args(state, "--duration", "2"), cwd=tmp_path)

    assert third.finish() == EXIT_OK, third.text
    assert "venue confirms 0 open orders" in first.text, "tripping cancelled everything"
    trips = journal_rows(state, "SELECT reason FROM kill_switch_events WHERE action = 'trip'")
    assert trips == [("session_loss",)]


def test_sighup_applies_a_valid_config_and_keeps_the_old_one_when_invalid(
    tmp_path: Path,
) -> None:
    status = {"status_interval_s": STATUS_S}
    config = write_config(tmp_path / "live.yaml", {**status, "quoting": {"levels": 2}})
    makerd = MakerdProcess(run_args(tmp_path / "state", "--config", str(config)), cwd=tmp_path)
    makerd.wait_for(r"orders=4 ")  # two levels a side

    write_config(config, {**status, "quoting": {"levels": "many"}})
    makerd.signal(signal.SIGHUP)
    invalid = makerd.wait_for(r"event=config_reload result=invalid.*")
    write_config(config, {**status, "quoting": {"levels": 4}, "coin": "ETH"})
    makerd.signal(signal.SIGHUP)
    applied = makerd.wait_for(r"event=config_reload result=applied.*")
    makerd.wait_for(r"orders=8 ")  # four levels a side, without a restart
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert "quoting.levels" in invalid.group(0)
    assert "needs_restart=coin" in applied.group(0), "a coin change is reported, not applied"
    status_lines = [line for line in makerd.text.splitlines() if line.startswith("makerd sim ")]
    assert status_lines[-1].startswith("makerd sim BTC |"), "still quoting the same coin"


def test_an_unusable_state_directory_is_a_clear_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")

    makerd = MakerdProcess(run_args(blocker / "state"), cwd=tmp_path)

    assert makerd.finish() == EXIT_CONFIG
    assert f"state directory {blocker / 'state'}" in makerd.text


def test_an_order_size_below_one_lot_is_refused_before_trading(tmp_path: Path) -> None:
    config = write_config(tmp_path / "dust.yaml", {"quoting": {"order_size": 0.000004}})

    makerd = MakerdProcess(run_args(tmp_path / "state", "--config", str(config)), cwd=tmp_path)

    assert makerd.finish() == EXIT_CONFIG
    assert "quoting.order_size: 0.000004 rounds to zero lots of BTC" in makerd.text


def test_sighup_lowering_the_drawdown_limit_trips_the_running_kill_switch(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    status = {"status_interval_s": STATUS_S}
    config = write_config(tmp_path / "risk.yaml", {**status, "risk": {"max_drawdown_usd": 300}})
    makerd = MakerdProcess(run_args(state, "--config", str(config)), cwd=tmp_path)
    makerd.wait_for(r"orders=[1-9]")

    # A hundredth of a cent: any fee or mark move below the peak is a drawdown past it.
    write_config(config, {**status, "risk": {"max_drawdown_usd": 0.0001}})
    makerd.signal(signal.SIGHUP)
    makerd.wait_for(r"event=config_reload result=applied")
    code = makerd.finish()

    assert code == EXIT_KILL_SWITCH, makerd.text
    trips = journal_rows(state, "SELECT reason FROM kill_switch_events WHERE action = 'trip'")
    assert trips == [("max_drawdown",)]
