"""Fidelity: makerd live against the local venue, then its own recording replayed.

makerd trades live against ``makerd venue``'s matching engine (in process, on loopback)
with ``feed.record_dir`` set; then ``makerd report --session 1 --replay`` backtests what
it recorded with the same config and prints both. The paper fill model passes if the
replay's fill count is within FILL_TOLERANCE of the live one and its net PnL within
PNL_TOLERANCE (or PNL_BAND_USD when the live PnL is near zero).

The run lasts MAKERD_FIDELITY_S seconds (default 90, what CI affords; the issue's
figure is 600: ``MAKERD_FIDELITY_S=600 pytest tests/test_replay_fidelity.py``). Over 600 s
the replay misses the target (−26% fills): the recording holds the session's own orders,
which the replay's quoter and queue take for the market's (docs/backtest.md). The
tolerance stays what the issue asks; the test fails when the replay is that far off.
"""

from __future__ import annotations

import os
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

from makerd.exit_codes import EXIT_OK
from tests.processes import MakerdProcess, write_config
from venues.hl_local.background import VenueThread
from venues.hl_local.server import VenueConfig

RUN_S = float(os.environ.get("MAKERD_FIDELITY_S", "90"))
FILL_TOLERANCE = Decimal("0.10")
PNL_TOLERANCE = Decimal("0.20")
PNL_BAND_USD = Decimal("0.50")
"""Below this live net PnL (USD) a ±20% band is narrower than one fill's fee: compare
absolutely instead."""


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


def live_run(tmp_path: Path, venue_url: str) -> Path:
    """A live session of RUN_S seconds that records its market; its state directory."""
    state = tmp_path / "state"
    config = write_config(
        tmp_path / "live.yaml",
        {
            "mode": "live",
            "coin": "BTC",
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
    return state


def figures(output: str, label: str) -> tuple[Decimal, Decimal]:
    """The live and replay columns of one row of the comparison table."""
    match = re.search(rf"^{re.escape(label)}\s+(-?[\d.]+)\s+(-?[\d.]+)", output, re.MULTILINE)
    assert match is not None, output
    return Decimal(match.group(1)), Decimal(match.group(2))


@pytest.mark.timeout(RUN_S + 240)  # the live run, then its replay; not the suite's default
def test_a_replay_of_a_live_session_fills_and_earns_within_tolerance(
    tmp_path: Path, venue_url: str
) -> None:
    state = live_run(tmp_path, venue_url)
    result = subprocess.run(
        [sys.executable, "-m", "makerd", "report", "--state-dir", str(state), "--session", "1",
         "--replay"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        check=False,
    )  # fmt: skip
    print(result.stdout)
    assert result.returncode == 0, result.stderr
    live_fills, replay_fills = figures(result.stdout, "fills")
    live_pnl, replay_pnl = figures(result.stdout, "net pnl (USD)")
    assert live_fills > 0, result.stdout
    assert abs(replay_fills - live_fills) <= FILL_TOLERANCE * live_fills, result.stdout
    if abs(live_pnl) < PNL_BAND_USD:
        assert abs(replay_pnl - live_pnl) <= PNL_BAND_USD, result.stdout
    else:
        assert abs(replay_pnl - live_pnl) <= PNL_TOLERANCE * abs(live_pnl), result.stdout
