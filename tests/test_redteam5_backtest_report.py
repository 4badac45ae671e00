"""Red team: a backtest's report files say what its journal says, and state one sample
length wherever it is printed or stored."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.journal import Journal, SessionRecord
from makerd.protocol import OrderFilled
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.test_backtest import BTC_RULES, makerd


@pytest.fixture(scope="module")
def backtested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A two-minute synthetic recording backtested with a report: (directory, stdout)."""
    root = tmp_path_factory.mktemp("backtest")
    recording = root / "btc.gz"
    write_recording(recording, SyntheticRecording(seconds=120, seed=11))
    places = ["--state-dir", str(root / "state"), "--report-dir", str(root / "r")]
    run = makerd("backtest", str(recording), *BTC_RULES, *places, cwd=root)
    assert run.returncode == 0, run.stderr
    return root, run.stdout


def journaled(root: Path) -> tuple[SessionRecord, list[OrderFilled]]:
    """The backtest's session row and its fills, as the journal keeps them."""
    journal = Journal(root / "state" / "journal.sqlite")
    try:
        return journal.session(1), [booked.fill for booked in journal.fills(1)]
    finally:
        journal.close()


def printed(stdout: str, label: str) -> str:
    line = next(line for line in stdout.splitlines() if line.startswith(label))
    return line[len(label) :].strip()


def test_the_sample_length_is_one_figure_printed_stored_and_in_summary_json(
    backtested: tuple[Path, str],
) -> None:
    root, stdout = backtested
    document = json.loads((root / "r" / "summary.json").read_text())
    record, _fills = journaled(root)
    stored = json.loads(record.summary_json or "{}")

    # The run's own figure: from its first recorded event to its end.
    assert record.ended_ns is not None
    run_s = (record.ended_ns - record.started_ns) / 1e9
    assert document["sample_length_s"] == round(run_s, 3)
    assert stored["duration_s"] == pytest.approx(run_s)
    assert printed(stdout, "duration") == f"{run_s:.1f} s"


def test_summary_json_money_and_counts_are_the_journals_rows(
    backtested: tuple[Path, str],
) -> None:
    root, stdout = backtested
    document = json.loads((root / "r" / "summary.json").read_text())
    record, fills = journaled(root)
    stored = json.loads(record.summary_json or "{}")

    assert document["fills"] == len(fills) > 0
    assert document["volume_usd"] == str(sum((f.price * f.size for f in fills), Decimal(0)))
    assert Decimal(document["fees_usd"]) == sum((f.fee for f in fills), Decimal(0))
    assert Decimal(document["net_pnl_usd"]) == Decimal(stored["total_pnl_usd"])
    assert printed(stdout, "total pnl") == f"{Decimal(stored['total_pnl_usd']):,.2f} USD"


def test_a_backtest_states_funding_as_not_simulated_never_as_zero(
    backtested: tuple[Path, str],
) -> None:
    # No funding is simulated in a replay (the recording has no funding rates): a
    # position held across funding times paid or received something unknown. "0" and
    # "net PnL includes funding" claimed to know it.
    root, stdout = backtested
    document = json.loads((root / "r" / "summary.json").read_text())
    html = (root / "r" / "report.html").read_text()

    assert document["funding_usd"] == "unknown"
    assert document["net_pnl_includes_funding"] is False
    assert "funding: not simulated" in html
    fill_model_line = next(line for line in stdout.splitlines() if line.startswith("fill model"))
    assert fill_model_line.endswith("; funding not simulated (left out of the PnL)")
    assert printed(stdout, "funding") == "not simulated"
