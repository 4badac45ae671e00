"""The read-ahead reader's other ends: a failure in the reading process that is not a file's
error ends the replay with a clear error after every event read before it (no hang, no
traceback), a recorder's hour renamed while it is replayed is no failure at all, and a
backtest of two coins read ahead books the inline one's fills, fill for fill.

Real processes, pipes and gzip files; the one stand-in is the failing reader below, since a
fault in makerd's own reading code has, by its nature, no real file that causes it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest

from makerd.venues.hyperliquid.recording_rules import save_rules
from makerd.venues.replay.ahead import ReadAhead
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.lines import CompressedLines
from makerd.venues.replay.messages import ReplayEvent
from makerd.venues.replay.stream import Recording, ReplayStream
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.test_backtest import makerd
from tests.test_backtest_coins import BTC, ETH, fill_rows


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five seconds and ten minutes of BTC, and two minutes of BTC and ETH, with rules."""
    folder = tmp_path_factory.mktemp("recorded")
    save_rules(folder, [BTC, ETH])
    write_recording(folder / "short.gz", SyntheticRecording(seconds=5, seed=3))
    write_recording(folder / "long.gz", SyntheticRecording(seconds=600, seed=5))
    write_recording(folder / "btc.gz", SyntheticRecording(seconds=120, seed=11))
    eth = SyntheticRecording(
        seconds=120, seed=12, coin="ETH", start_price=Decimal(3000), sz_decimals=4
    )
    write_recording(folder / "eth.gz", eth)
    # ETH's orders sized for ETH, as tests/test_backtest_coins.py trades it.
    (folder / "two.yaml").write_text(
        "coins:\n  - BTC\n  - coin: ETH\n    quoting: {order_size: 0.01}\n"
    )
    return folder


class FailingReader:
    """A real file's reader that fails after ``events`` events as a bug in it would."""

    def __init__(self, real: Recording, events: int) -> None:
        self.lines: CompressedLines = real.lines
        self._real = real
        self._events = events

    def __iter__(self) -> Iterator[ReplayEvent]:
        yield from islice(self._real, self._events)
        raise KeyError("levels")


def test_a_reader_failing_on_no_file_error_ends_after_every_event_read_before(
    folder: Path,
) -> None:
    stream = ReplayStream([folder / "btc.gz"], coin="BTC")
    expected = [repr(event) for event in islice(ReplayStream([folder / "btc.gz"], coin="BTC"), 300)]
    stream.recordings[0] = FailingReader(stream.recordings[0], 300)
    ahead = ReadAhead(stream, batch=64)
    seen: list[str] = []

    with pytest.raises(RecordingError) as caught:
        seen.extend(repr(event) for event in ahead)

    assert seen == expected, "every event read before the failure, and no other"
    assert str(caught.value) == f"{folder / 'btc.gz'}: the reader failed: KeyError: 'levels'"
    assert ahead.pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(ahead.pid, os.WNOHANG)  # reaped: nothing left running or waited on


def test_a_reader_failing_inline_ends_the_stream_naming_its_file_as_read_ahead_does(
    folder: Path,
) -> None:
    # Inline, the same failure left the replay with a traceback and its session open.
    stream = ReplayStream([folder / "btc.gz"], coin="BTC")
    stream.recordings[0] = FailingReader(stream.recordings[0], 300)
    seen: list[ReplayEvent] = []

    with pytest.raises(RecordingError) as caught:
        seen.extend(stream)

    assert len(seen) == 300
    assert str(caught.value) == f"{folder / 'btc.gz'}: the reader failed: KeyError: 'levels'"


def test_a_recording_renamed_once_read_does_not_end_the_replay(
    folder: Path, tmp_path: Path
) -> None:
    """A recorder renames its hour's ``.gz.part`` to ``.gz`` when the hour closes."""
    short, long = tmp_path / "BTC_20250126_13.gz.part", tmp_path / "BTC_20250126_14.gz"
    short.write_bytes((folder / "short.gz").read_bytes())
    long.write_bytes((folder / "long.gz").read_bytes())
    expected = [repr(event) for event in ReplayStream([short, long], coin="BTC")]
    stream = ReadAhead(ReplayStream([short, long], coin="BTC"))
    events = iter(stream)
    seen = [repr(next(events))]  # the child has opened both files and read ahead

    short.rename(short.with_suffix(""))
    seen.extend(repr(event) for event in events)

    assert seen == expected
    assert stream.progress == 1.0


def test_progress_holds_once_a_file_read_is_renamed(folder: Path, tmp_path: Path) -> None:
    part = tmp_path / "BTC_20250126_13.gz.part"
    part.write_bytes((folder / "short.gz").read_bytes())
    stream = ReplayStream([part], coin="BTC")
    assert sum(1 for _ in stream) > 0

    part.rename(part.with_suffix(""))

    assert stream.progress == 1.0


def test_two_coins_read_ahead_book_the_inline_fills_fill_for_fill(
    folder: Path, tmp_path: Path
) -> None:
    files = [str(folder / "btc.gz"), str(folder / "eth.gz")]
    fills = {}
    for reader in ("process", "inline"):
        state = tmp_path / reader
        done = makerd(
            "backtest", *files, "--config", str(folder / "two.yaml"), "--state-dir", str(state),
            "--reader", reader, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        fills[reader] = {coin: fill_rows(state, coin) for coin in ("BTC", "ETH")}

    assert fills["process"] == fills["inline"]
    assert min(len(rows) for rows in fills["inline"].values()) > 20, "both coins trade"
