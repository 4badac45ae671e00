"""Red team: a backtest's sample length and Sharpe come from market data, not from a
calendar span with nothing in it.

Two files of two minutes each, two days apart (an hour from Monday, an hour from
Wednesday; or a recorder that was down). The replay used to step its clock through the
two empty days: the stale-feed kill switch tripped after a minute of silence, the bot sat
halted, and the report stated "2.04 days" of sample and a daily Sharpe "from 2 days"
out of four minutes of data. A live run stops at its kill switch; the backtest now does
too, and says so.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.config.model import MakerdConfig
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.replay import instrument_from_steps, run_replay
from makerd.daemon.report_stats import report_figures
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.test_backtest import BTC_RULES, makerd

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
NS_PER_S = 1_000_000_000
TWO_DAYS_S = 2 * 86_400


def shifted(source: Path, target: Path, seconds: int) -> Path:
    """``source`` as if recorded ``seconds`` later: both clocks, and new trade ids."""
    with gzip.open(source, "rt") as lines, gzip.open(target, "wt") as out:
        for line in lines:
            stamp, _, text = line.partition(" ")
            message = json.loads(text)
            data = message["data"]
            for item in data if isinstance(data, list) else [data]:
                item["time"] += seconds * 1000
                if "tid" in item:
                    item["tid"] += 10**9
            out.write(f"{int(stamp) + seconds * NS_PER_S} {json.dumps(message)}\n")
    return target


@pytest.fixture(scope="module")
def two_days_apart(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("recordings")
    monday = root / "BTC_monday.gz"
    write_recording(monday, SyntheticRecording(seconds=120, seed=3))
    return [monday, shifted(monday, root / "BTC_wednesday.gz", TWO_DAYS_S)]


def test_a_replay_ends_where_the_kill_switch_stops_a_live_run(
    two_days_apart: list[Path], tmp_path: Path
) -> None:
    result = run_replay(MakerdConfig(), two_days_apart, instrument=BTC, state_dir=tmp_path)

    summary = result.run.summary
    halt_s = MakerdConfig().risk.stale_feed_halt_s
    assert summary.fills > 0
    # Two minutes of data, then the minute of silence that trips the stale-feed halt.
    assert 120 + halt_s <= summary.duration_s < 120 + halt_s + 5
    assert result.stopped_by is not None
    assert "kill switch: stale_feed" in result.stopped_by


def test_the_report_states_the_replayed_sample_and_no_sharpe(
    two_days_apart: list[Path], tmp_path: Path
) -> None:
    result = run_replay(MakerdConfig(), two_days_apart, instrument=BTC, state_dir=tmp_path)

    journal = Journal(tmp_path / "journal.sqlite")
    try:
        figures = report_figures(journal, result.run.session_id)
        events = journal.order_events(result.run.session_id)
        stopped = [detail for _ts, _cloid, event, detail in events if event == "stopped"]
    finally:
        journal.close()
    assert figures.sample_s < 200
    assert figures.sharpe.value is None
    assert figures.sharpe.days == 0
    assert len(stopped) == 1
    assert stopped[0].endswith(f"reason={result.stopped_by}")


def test_the_command_says_where_and_why_it_stopped(
    two_days_apart: list[Path], tmp_path: Path
) -> None:
    files = map(str, two_days_apart)
    run = makerd("backtest", *files, *BTC_RULES, "--state-dir", str(tmp_path), cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    # 60.1 s: the silence counts from when the last book was heard, 0.1 s after the
    # exchange stamped it (the feed's health is judged on the local clock alone).
    assert (
        "stopped by the kill switch: stale_feed: no market data for 60.1s, as a live run "
        "stops: the rest of the recording was not replayed"
    ) in run.stdout


def test_a_backtests_kill_switch_and_risk_state_stay_in_the_backtest(
    two_days_apart: list[Path], tmp_path: Path
) -> None:
    # A backtest run with a live bot's --state-dir (to compare in one journal) used to
    # latch that bot's kill switch with its simulated trip ("since 2025-01-26..."), and
    # leave its simulated day's loss and peak equity for the next live start to load.
    result = run_replay(MakerdConfig(), two_days_apart, instrument=BTC, state_dir=tmp_path)
    assert result.stopped_by is not None

    assert KillSwitchLatch(tmp_path).read() is None
    journal = Journal(tmp_path / "journal.sqlite")
    try:
        assert journal.load_risk_state() is None
    finally:
        journal.close()
    status = makerd("kill-switch", "status", "--state-dir", str(tmp_path), cwd=tmp_path)
    assert "LATCHED" not in status.stdout + status.stderr
