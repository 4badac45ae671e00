"""What the replay delivers is what the live state machines need to decide.

The deterministic driver spares the observer the messages it ignores and builds no queue
for a tick that causes nothing. These tests pin decisions that depend on every hop of a
delivery: a book reaches the fill tracker, its mark reaches the risk guardian as a
published state, the guardian's trip reaches the replay, which stops on that very book.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.config.model import MakerdConfig
from makerd.daemon.backtest import run_simulated
from makerd.daemon.replay import instrument_from_steps, run_replay
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
LOSS_LIMIT = Decimal("0.3")
NS_PER_S = 1_000_000_000


@pytest.fixture(scope="module")
def half_a_minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "BTC.gz"
    write_recording(path, SyntheticRecording(seconds=30, seed=3))
    return path


def _mid_before(recording: Path, ts_ns: int) -> Decimal:
    """The mid of the newest book recorded at or before ``ts_ns`` (local time)."""
    mid = Decimal(0)
    with gzip.open(recording, "rt") as lines:
        for line in lines:
            stamp, _, text = line.partition(" ")
            message = json.loads(text)
            if int(stamp) > ts_ns:
                break
            if message["channel"] == "l2Book":
                bids, asks = message["data"]["levels"]
                mid = (Decimal(bids[0]["px"]) + Decimal(asks[0]["px"])) / 2
    return mid


def _equity(state_dir: Path) -> list[tuple[int, Decimal, Decimal]]:
    """The journal's published states: (time, unrealized PnL, mark), in order."""
    with closing(sqlite3.connect(state_dir / "journal.sqlite")) as journal:
        rows = journal.execute("SELECT ts, unrealized, mark FROM equity ORDER BY rowid")
        return [(ts, Decimal(unrealized), Decimal(mark)) for ts, unrealized, mark in rows]


def test_the_kill_switch_trips_on_the_first_state_past_the_limit_at_the_newest_books_mark(
    half_a_minute: Path, tmp_path: Path
) -> None:
    config = MakerdConfig()
    risk = dataclasses.replace(config.risk, max_unrealized_loss_usd=LOSS_LIMIT)
    config = dataclasses.replace(config, risk=risk)

    result = run_replay(config, [half_a_minute], instrument=BTC, state_dir=tmp_path)

    assert result.stopped_by is not None
    assert result.stopped_by.startswith("kill switch: unrealized_loss")
    crossing = next(row for row in _equity(tmp_path) if row[1] < -LOSS_LIMIT)
    ts, unrealized, mark = crossing
    assert f"unrealized pnl {unrealized:.2f}" in result.stopped_by
    assert f"at mark {mark}" in result.stopped_by
    # The state that crossed valued the position at the newest book's mid (every book
    # reached the fill tracker), and the replay stopped there, within the answers' latency,
    # as a live run stops at its kill switch: not at the end of the 30 s recording.
    assert mark == _mid_before(half_a_minute, ts)
    assert ts <= result.last_ns < ts + NS_PER_S
    assert result.last_ns < result.first_ns + 20 * NS_PER_S


def test_the_counters_are_the_same_whether_the_observer_hears_everything_or_its_types(
    tmp_path: Path,
) -> None:
    heard: list[object] = []

    everything = run_simulated(
        MakerdConfig(), seconds=20, state_dir=tmp_path / "all", watch=heard.append
    )
    watched = run_simulated(MakerdConfig(), seconds=20, state_dir=tmp_path / "watched")

    assert everything.counters.fills > 0
    assert everything.counters == watched.counters
    assert everything.summary == watched.summary
    assert len(heard) > everything.counters.quote_cycles, "a watch with no types hears all"
