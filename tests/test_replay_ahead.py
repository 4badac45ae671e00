"""A recording read ahead by a second process gives the replay exactly what reading it here
would, ends with the same errors, and a reader that dies ends the replay with that."""

from __future__ import annotations

import gzip
import os
import signal
import threading
from pathlib import Path

import pytest

from makerd.config.model import Scenario
from makerd.venues.replay.ahead import SMALL_INPUT_BYTES, ReadAhead, Reader, choose_reader
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.stream import ReplayStream
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.replay_kit import (
    MS,
    REAL_RECORDING,
    T0,
    l2_book,
    recorder_lines,
    trades,
    write_archive_hour,
    write_recorder_file,
)
from tests.test_backtest import fill_rows, makerd


def direct(paths: list[Path]) -> list[str]:
    """Each event as read in this process, by its repr: every digit of every decimal."""
    return [repr(event) for event in ReplayStream(paths, coin="BTC")]


def ahead(paths: list[Path], **sizes: int) -> list[str]:
    return [repr(event) for event in ReadAhead(ReplayStream(paths, coin="BTC"), **sizes)]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ahead") / "btc.gz"
    write_recording(path, SyntheticRecording(seconds=90, scenario=Scenario.VOLATILE))
    return path


def test_a_synthetic_recording_read_ahead_is_event_for_event_the_one_read_here(
    synthetic: Path,
) -> None:
    expected = direct([synthetic])

    # Small batches and a small level table: many batch ends and table resets.
    assert ahead([synthetic], batch=7, level_limit=50) == expected
    assert ahead([synthetic]) == expected
    assert len(expected) > 1000


@pytest.mark.skipif(not REAL_RECORDING.is_file(), reason="the shared fixtures folder is absent")
def test_the_real_recording_read_ahead_is_event_for_event_the_one_read_here() -> None:
    assert ahead([REAL_RECORDING], batch=5) == direct([REAL_RECORDING])


def test_drops_gaps_and_levels_of_unusual_digits_cross_unchanged(tmp_path: Path) -> None:
    path = write_recorder_file(
        tmp_path / "r.gz",
        [
            (T0, l2_book(1, "100", "101", size="1.0")),
            (T0 + 1, "{not json"),
            (T0 + 2, {"channel": "bbo", "data": {}}),
            (T0 + 3, l2_book(2, "102", "101")),  # crossed
            # Equal to the first book's levels, but written "1.00": its own digits.
            (T0 + 4, l2_book(3, "100", "101", size="1.00")),
            (T0 + 5, {"channel": "makerdGap", "data": {"reason": "reconnect"}}),
            (T0 + 6, trades(4, "A", "100.50", "0.0000001")),
        ],
    )

    crossed = ahead([path], batch=2)

    assert crossed == direct([path])
    assert "Decimal('1.00')" in crossed[4]
    assert "Decimal('1.0')" in crossed[0]


def test_a_truncated_file_ends_with_the_same_error_after_the_same_events(
    tmp_path: Path,
) -> None:
    whole = gzip.compress(
        recorder_lines([(T0 + i * MS, l2_book(i, "100", "101")) for i in range(2000)]).encode()
    )
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])
    seen: list[str] = []
    stream = ReadAhead(ReplayStream([path], coin="BTC"), batch=64)

    with pytest.raises(RecordingError) as caught:
        seen.extend(repr(event) for event in stream)

    with pytest.raises(RecordingError) as here:
        list(ReplayStream([path], coin="BTC"))
    assert str(caught.value) == str(here.value)
    assert str(caught.value).startswith(f"{path}:")
    assert "truncated" in str(caught.value)
    assert len(seen) == here.value.line - 1


def test_an_unfinished_file_is_reported_cut_short_once_read(tmp_path: Path) -> None:
    whole = gzip.compress(
        recorder_lines([(T0 + i * MS, l2_book(i, "100", "101")) for i in range(2000)]).encode()
    )
    path = tmp_path / "BTC_20250126_14.gz.part"
    path.write_bytes(whole[: len(whole) // 2])
    stream = ReadAhead(ReplayStream([path], coin="BTC"))

    events = list(stream)

    assert 1 < len(events) < 2000
    assert stream.cut_short == [path]
    assert stream.progress == 1.0


def test_a_reader_killed_mid_file_ends_the_replay_with_that_error(synthetic: Path) -> None:
    stream = ReadAhead(ReplayStream([synthetic], coin="BTC"), batch=16)
    events = iter(stream)
    next(events)
    assert stream.pid is not None

    os.kill(stream.pid, signal.SIGKILL)

    with pytest.raises(RecordingError) as caught:
        for _ in events:
            pass
    assert str(caught.value).startswith(
        f"{synthetic}: the reading process ended before the end (killed by signal 9), "
        "while reading past its line "
    )


def test_a_replay_that_stops_early_stops_its_reader(synthetic: Path) -> None:
    stream = ReadAhead(ReplayStream([synthetic], coin="BTC"), batch=16)
    events = iter(stream)
    next(events)

    stream.close()

    assert stream.pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(stream.pid, 0)


def test_with_another_thread_running_the_reader_is_spawned_and_reads_the_same(
    tmp_path: Path,
) -> None:
    recorded = write_recorder_file(
        tmp_path / "r.gz",
        [(T0 + i * MS, l2_book(i, str(100 + i % 3), "110")) for i in range(50)],
    )
    archived = write_archive_hour(
        tmp_path, [(T0 + i * MS + 1, l2_book(i, "99", str(111 + i % 2))) for i in range(50)], None
    )
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        both = [recorded, archived]
        assert ahead(both, batch=8) == direct(both)
        unread = ReadAhead(ReplayStream(both, coin="BTC"))
        unread.close()
        assert unread.books_without_trades == (archived,)  # the run says so, as inline
    finally:
        stop.set()
        other.join()


def test_a_backtest_read_in_a_second_process_fills_exactly_as_one_read_inline(
    synthetic: Path, tmp_path: Path
) -> None:
    fills = {}
    for reader in ("process", "inline"):
        state = tmp_path / reader
        rules = ("--tick", "1", "--lot", "0.00001", "--state-dir", str(state))
        done = makerd("backtest", str(synthetic), *rules, "--reader", reader, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        fills[reader] = fill_rows(state)

    assert fills["process"] == fills["inline"]
    assert len(fills["inline"]) > 10


@pytest.mark.parametrize(
    ("reader", "idle", "expected"),
    [
        ("process", 0.0, True),
        ("inline", 8.0, False),
        ("auto", 1.8, True),  # a quiet machine: the second core is idle
        ("auto", 1.0, False),  # another job has it
        ("auto", 0.9, False),  # no second core
        ("auto", 3.0, True),
    ],
)
def test_auto_reads_ahead_only_with_an_idle_core(
    reader: Reader, idle: float, expected: bool
) -> None:
    choice = choose_reader(reader, input_bytes=SMALL_INPUT_BYTES, idle=lambda: idle)
    assert choice.ahead is expected
