"""makerd backtest: the same recording gives the same fills; a real process writes a journal
that ``makerd report`` reads; bad input ends with a clear line, never a traceback."""

from __future__ import annotations

import csv
import json
import os
import pty
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from makerd.config.model import MakerdConfig, PaperConfig, QueueModel
from makerd.daemon.journal import Journal
from makerd.daemon.replay import instrument_from_steps, run_replay
from makerd.protocol import OrderFilled, TradePrinted
from makerd.venues.replay.recorder_file import RecorderFile
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from makerd.venues.replay.venue import ReplayVenue
from tests.processes import makerd_command
from tests.replay_kit import (
    MS,
    REAL_RECORDING,
    T0,
    l2_book,
    post_only_bid,
    trades,
    write_recorder_file,
)

BTC_RULES = ("--tick", "1", "--lot", "0.00001")
BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
needs_real_recording = pytest.mark.skipif(
    not REAL_RECORDING.is_file(), reason="the shared fixtures folder is absent"
)


@pytest.fixture(scope="module")
def two_minutes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "btc.gz"
    write_recording(path, SyntheticRecording(seconds=120, seed=11))
    return path


def makerd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        makerd_command(["--log-format", "text", *args], cwd=cwd),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def fill_rows(state_dir: Path) -> list[tuple[str, str, str, str, int, str]]:
    journal = Journal(state_dir / "journal.sqlite")
    try:
        return [
            (f.trade_id, f.side.value, str(f.price), str(f.size), f.ts_local, f.liquidity.value)
            for f in (booked.fill for booked in journal.fills())
        ]
    finally:
        journal.close()


@pytest.mark.parametrize("model", list(QueueModel))
def test_the_same_recording_and_config_give_identical_fills(
    two_minutes: Path, tmp_path: Path, model: QueueModel
) -> None:
    config = MakerdConfig(paper=PaperConfig(queue_model=model))

    first = run_replay(config, [two_minutes], instrument=BTC, state_dir=tmp_path / "a")
    second = run_replay(config, [two_minutes], instrument=BTC, state_dir=tmp_path / "b")

    assert first.run.summary.fills > 0
    assert fill_rows(tmp_path / "a") == fill_rows(tmp_path / "b")
    assert first.run.summary == second.run.summary


def test_a_second_backtest_journaled_in_the_same_file_books_every_fill_again(
    two_minutes: Path, tmp_path: Path
) -> None:
    # The journal keeps one fill per trade id across its sessions: ids minted from the
    # recording alone made the second run's fills look already booked.
    config = MakerdConfig()

    first = run_replay(config, [two_minutes], instrument=BTC, state_dir=tmp_path)
    second = run_replay(config, [two_minutes], instrument=BTC, state_dir=tmp_path)

    assert first.run.summary.fills > 0
    assert second.run.summary.fills == first.run.summary.fills
    assert second.run.summary == first.run.summary
    assert len(fill_rows(tmp_path)) == 2 * first.run.summary.fills


def test_trades_from_before_the_first_book_are_not_matched(tmp_path: Path) -> None:
    path = write_recorder_file(
        tmp_path / "r.gz",
        [
            (T0, l2_book(T0 // MS, "100", "101", size="0.01")),
            # The subscription's snapshot: a sell through our bid, 50 s before the book.
            (T0 + 300 * MS, trades(T0 // MS - 50_000, "A", "99", "5", tid=1)),
            (T0 + 400 * MS, trades(T0 // MS + 390, "A", "99", "5", tid=2)),
        ],
    )
    venue = ReplayVenue(iter(RecorderFile(path, coin="BTC")), BTC, PaperConfig())
    venue.advance(T0)
    venue.submit(post_only_bid("100", "0.2", at=T0), T0)

    delivered: list[object] = []
    for ms in (350, 600):
        delivered += venue.advance(T0 + ms * MS)

    fills = [e for e in delivered if isinstance(e, OrderFilled)]
    assert [(f.ts_exchange, f.size) for f in fills] == [((T0 // MS + 390) * MS, Decimal("0.2"))]
    assert venue.replayed["trades_before_first_book"] == 1
    # Both trades still reach makerd, as the live feed would deliver them.
    assert sum(isinstance(e, TradePrinted) for e in delivered) == 2


@needs_real_recording
def test_the_real_recording_backtests_as_a_process_and_report_reads_its_session(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"

    backtest = makerd(
        "backtest", str(REAL_RECORDING), *BTC_RULES, "--state-dir", str(state), cwd=tmp_path
    )

    assert backtest.returncode == 0, backtest.stderr
    assert "session 1 (backtest, BTC)" in backtest.stdout
    assert "replayed 25.4 s: 46 books, 34 trades (+30 from before the first book" in backtest.stdout
    report = makerd("report", "--state-dir", str(state), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "session 1  backtest BTC  started 2025-01-26" in report.stdout


def test_a_backtest_process_journals_fills_that_report_counts(
    two_minutes: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"

    backtest = makerd(
        "backtest", str(two_minutes), *BTC_RULES, "--state-dir", str(state), cwd=tmp_path
    )

    assert backtest.returncode == 0, backtest.stderr
    printed = _line_value(backtest.stdout, "fills")
    rows = fill_rows(state)
    assert int(printed) == len(rows) > 0
    journal = Journal(state / "journal.sqlite")
    try:
        stopped = journal.order_events(1)[-1]
        ended = journal.session(1).ended_ns
    finally:
        journal.close()
    assert stopped[1:3] == ("*", "stopped")
    assert stopped[3].endswith(" reason=end of recording")
    assert ended is not None
    report = makerd(
        "report", "--state-dir", str(state), "--report-dir", str(tmp_path / "r"), cwd=tmp_path
    )
    assert report.returncode == 0, report.stderr
    assert _line_value(report.stdout, "fills") == printed
    assert _line_value(report.stdout, "total pnl") == _line_value(backtest.stdout, "total pnl")
    with (tmp_path / "r" / "fills.csv").open(newline="") as table:
        csv_ids = [row["trade_id"] for row in csv.DictReader(table)]
    assert csv_ids == [row[0] for row in rows]


def test_missing_instrument_rules_exit_78_before_reading(two_minutes: Path, tmp_path: Path) -> None:
    result = makerd("backtest", str(two_minutes), "--state-dir", str(tmp_path / "s"), cwd=tmp_path)

    assert result.returncode == 78
    assert "give --meta FILE (a saved meta response) or both --tick and --lot" in result.stderr
    assert not (tmp_path / "s").exists()


def backtest_with_meta(recording: Path, tmp_path: Path, coin: str) -> tuple[Path, Any]:
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"universe": [{"name": coin, "szDecimals": 5, "maxLeverage": 40}]}))
    state = ("--state-dir", str(tmp_path / "s"))
    return meta, makerd("backtest", str(recording), "--meta", str(meta), *state, cwd=tmp_path)


def test_a_meta_file_without_the_coin_exits_78_naming_it(two_minutes: Path, tmp_path: Path) -> None:
    meta, result = backtest_with_meta(two_minutes, tmp_path, "ETH")

    assert result.returncode == 78
    assert f"--meta {meta}: coin 'BTC' is not in the venue's universe" in result.stderr


def test_a_meta_file_gives_the_rules(two_minutes: Path, tmp_path: Path) -> None:
    _, result = backtest_with_meta(two_minutes, tmp_path, "BTC")

    assert result.returncode == 0, result.stderr
    assert int(_line_value(result.stdout, "fills")) > 0


def test_a_truncated_recording_exits_1_with_file_and_line_and_no_traceback(
    two_minutes: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.gz"
    data = two_minutes.read_bytes()
    cut.write_bytes(data[: len(data) // 2])

    result = makerd(
        "backtest", str(cut), *BTC_RULES, "--state-dir", str(tmp_path / "s"), cwd=tmp_path
    )

    assert result.returncode == 1
    assert f"makerd: backtest: {cut}:" in result.stderr
    assert "truncated" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_recording_without_the_coin_is_refused_as_a_config_error(
    two_minutes: Path, tmp_path: Path
) -> None:
    result = makerd(
        "backtest",
        str(two_minutes),
        *BTC_RULES,
        "--coin",
        "ETH",
        "--state-dir",
        str(tmp_path / "s"),
        cwd=tmp_path,
    )

    assert result.returncode == 78
    assert f"makerd: backtest: no book of ETH in {two_minutes}" in result.stderr
    assert not (tmp_path / "s").exists(), "refused before anything was written"


def _line_value(text: str, label: str) -> str:
    for line in text.splitlines():
        if line.startswith(f"{label} "):
            return line[len(label) :].strip()
    raise AssertionError(f"no {label!r} line in:\n{text}")


def test_on_a_terminal_the_backtest_shows_its_progress(two_minutes: Path, tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "makerd",
                "backtest",
                str(two_minutes),
                *BTC_RULES,
                "--state-dir",
                str(tmp_path / "s"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        shown = _read_all(leader)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)

    assert done.returncode == 0
    assert "\rbacktest: 100%" in shown
    assert "backtest:" not in done.stdout


def test_off_a_terminal_no_progress_is_written(two_minutes: Path, tmp_path: Path) -> None:
    result = makerd(
        "backtest", str(two_minutes), *BTC_RULES, "--state-dir", str(tmp_path / "s"), cwd=tmp_path
    )

    assert result.returncode == 0
    assert "backtest:" not in result.stderr


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("name", ["absent.gz", "notes.txt"])
def test_a_missing_or_unknown_file_exits_78_before_anything_is_written(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    state = tmp_path / "state"

    result = makerd("backtest", name, *BTC_RULES, "--state-dir", str(state), cwd=tmp_path)

    assert result.returncode == 78
    assert result.stderr.startswith(f"makerd: backtest: {name}: ")
    assert not state.exists()


def test_an_unfinished_part_file_is_replayed_up_to_where_it_was_cut(
    two_minutes: Path, tmp_path: Path
) -> None:
    part = tmp_path / "BTC_20250126_14.gz.part"
    data = two_minutes.read_bytes()
    part.write_bytes(data[: len(data) // 2])
    state = ("--state-dir", str(tmp_path / "s"))

    result = makerd("backtest", str(part), *BTC_RULES, *state, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"{part}: unfinished recording, replayed up to where its stream was cut" in result.stdout
    replayed = _line_value(result.stdout, "replayed")
    seconds = float(replayed.split(" s:")[0])
    assert 30 < seconds < 90
