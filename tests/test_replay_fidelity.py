"""Live against replay: makerd live against the local venue, then its own recording replayed.

makerd trades live against ``makerd venue``'s matching engine (in process, on loopback)
with ``feed.record_dir`` set; then ``makerd report --session 1 --replay`` backtests what
it recorded with the same config and prints both side by side.

This test holds the mechanics: the session's recording, its stored config and rules are
enough to replay it, and the replay trades on it. Whether the two agree within the
issue's tolerance (fills ±10 %, PnL ±20 %) is measured by ``bench/bench_fidelity.py``,
not asserted here (docs/backtest.md gives the figures). A short run that happened to
agree in total would be luck, not evidence. It also checks what the replay needs to take
the session's own orders out of its recording: the journal kept them, and each of its
fills is known by a trade id that the recording printed. And what the replay draws its
order latencies from: one measured latency per acknowledged placement, each plausible
for a round trip on loopback; the replay says it drew them, with which seed (``--seed``),
and gives both sides' queue wait.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account

from makerd.daemon.exit_codes import EXIT_OK
from makerd.daemon.journal_latency import AckLatency
from makerd.daemon.report_replay import cut_session_lines, own_orders_of
from makerd.daemon.sessions import session_journal
from makerd.protocol.market import TradePrinted
from makerd.protocol.order_actions import ActionKind
from makerd.protocol.orders import OrderStatus
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.replay.stream import ReplayStream
from tests.processes import MakerdProcess, write_config

NS_PER_S = 1_000_000_000
RUN_S = float(os.environ.get("MAKERD_FIDELITY_S", "20"))
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


def live_run(tmp_path: Path, venue_url: str, seconds: float = RUN_S) -> Path:
    """A live session of ``seconds`` that records its market; its state directory."""
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
    threading.Event().wait(seconds)
    process.signal(signal.SIGTERM)
    assert process.finish() == EXIT_OK, process.text[-4000:]
    return state


def figures(output: str, label: str) -> tuple[Decimal, Decimal]:
    """The live and replay columns of one row of the comparison table."""
    match = re.search(rf"^{re.escape(label)}\s+(-?[\d.]+)\s+(-?[\d.]+)", output, re.MULTILINE)
    assert match is not None, output
    return Decimal(match.group(1)), Decimal(match.group(2))


def replay_report(tmp_path: Path, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``makerd report --session 1 --replay`` on a live session's state directory."""
    return subprocess.run(
        [sys.executable, "-m", "makerd", "report", "--state-dir", str(state), "--session", "1",
         "--replay", *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        check=False,
    )  # fmt: skip


def within_tolerance(live: tuple[Decimal, Decimal], replay: tuple[Decimal, Decimal]) -> bool:
    """Fills within FILL_TOLERANCE and net PnL within PNL_TOLERANCE (or PNL_BAND_USD)."""
    (live_fills, live_pnl), (replay_fills, replay_pnl) = live, replay
    if abs(replay_fills - live_fills) > FILL_TOLERANCE * live_fills:
        return False
    if abs(live_pnl) < PNL_BAND_USD:
        return abs(replay_pnl - live_pnl) <= PNL_BAND_USD
    return abs(replay_pnl - live_pnl) <= PNL_TOLERANCE * abs(live_pnl)


@pytest.mark.timeout(RUN_S + 240)  # the live run, then its replay; not the suite's default
def test_a_live_session_is_replayed_from_its_own_recording_and_config(
    tmp_path: Path, venue_url: str
) -> None:
    state = live_run(tmp_path, venue_url)
    own_trades, recorded_trades, own_changes = own_traces(tmp_path, state)
    latencies, placements_acknowledged = measured(state)

    result = replay_report(tmp_path, state)
    reseeded = replay_report(tmp_path, state, "--seed", "3")

    print(result.stdout)
    assert result.returncode == 0, result.stderr
    live_fills, replay_fills = figures(result.stdout, "fills")
    figures(result.stdout, "net pnl (USD)")  # both columns are printed
    assert live_fills > 0, result.stdout
    assert replay_fills > 0, "the replay trades on the recording: " + result.stdout
    assert own_changes > 0, "the live session journaled its orders' changes"
    assert len(own_trades) == live_fills
    assert own_trades <= recorded_trades, "every own fill is a recorded trade, by id"
    places = [row.latency_ns for row in latencies if row.kind is ActionKind.PLACE]
    assert len(places) == placements_acknowledged > 0, "one latency per acknowledged placement"
    assert all(0 < ns < 5 * NS_PER_S for ns in (row.latency_ns for row in latencies))
    assert statistics.median(places) < NS_PER_S // 2, "a loopback round trip, not a timeout"
    assert f"replay order latency: measured ack latency, session 1, n={len(latencies)}, p50" in (
        result.stdout
    )
    assert "half each way; seed 0)" in result.stdout, "the default seed is stated"
    assert reseeded.returncode == 0, reseeded.stderr
    assert "half each way; seed 3)" in reseeded.stdout, "--seed draws with that seed"
    live_wait, replay_wait = figures(result.stdout, "average queue wait (s)")
    assert live_wait > 0
    assert replay_wait > 0


def measured(state: Path) -> tuple[list[AckLatency], int]:
    """The session's measured latencies, and how many placements its order manager saw
    acknowledged (pending_new, then open, in its journaled order changes)."""
    with session_journal(state, 1) as (journal, chosen):
        latencies = journal.ack_latencies.ack_latencies(chosen)
        statuses = journal.own_orders.statuses(chosen)
    last: dict[str, OrderStatus] = {}
    acknowledged = 0
    for _, cloid, status, _ in statuses:
        if status is OrderStatus.OPEN and last.get(cloid) is OrderStatus.PENDING_NEW:
            acknowledged += 1
        last[cloid] = status
    return latencies, acknowledged


def own_traces(tmp_path: Path, state: Path) -> tuple[set[str], set[str], int]:
    """The live session's fill ids, the recording's trade ids, its journaled order changes."""
    with session_journal(state, 1) as (journal, chosen):
        session = journal.session(chosen)
        own = own_orders_of(journal, chosen)
        changes = len(journal.own_orders.own_order_changes(chosen))
    cut = tmp_path / "cut.gz"
    cut_session_lines(tmp_path / "recording", session, cut)
    recorded = {e.trade_id for e in ReplayStream([cut], coin="BTC") if isinstance(e, TradePrinted)}
    return set(own.own_trade_ids), recorded, changes
