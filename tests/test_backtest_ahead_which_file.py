"""With several files, an error names the file (and the line, where known) the reader was
actually reading, read ahead as inline: a bad line or a cut stream in the second or third
file, and a reading process killed while it read the second. It used to name the first
file given whenever the reading process died or failed outside a file's own reader.

Real gzip files, real processes and pipes."""

from __future__ import annotations

import gzip
import os
import signal
from pathlib import Path

import pytest

from makerd.venues.replay.ahead import ReadAhead
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.stream import ReplayStream
from tests.replay_kit import MS, T0, l2_book, recorder_lines, write_recorder_file

HOUR_MS = 3_600_000
SECOND_LINES = 20_000
"""Far more than a pipe holds ahead of the replay: a reader blocked on the pipe is in it."""


def hour_of_books(path: Path, hour: int, lines: int) -> Path:
    """``lines`` books 10 ms apart, starting ``hour`` hours after T0."""
    start_ms = T0 // MS + hour * HOUR_MS
    books: list[tuple[int, object]] = [
        ((start_ms + i * 10) * MS, l2_book(start_ms + i * 10, "100", "101")) for i in range(lines)
    ]
    return write_recorder_file(path, books)


@pytest.fixture
def three_hours(tmp_path: Path) -> list[Path]:
    return [
        hour_of_books(tmp_path / "a.gz", 0, 300),
        hour_of_books(tmp_path / "b.gz", 1, SECOND_LINES),
        hour_of_books(tmp_path / "c.gz", 2, 300),
    ]


def read_all(paths: list[Path], reader: str) -> tuple[int, RecordingError]:
    """How many events were read before the error, and the error."""
    stream = ReplayStream(paths, coin="BTC")
    events = ReadAhead(stream, batch=16) if reader == "process" else stream
    read: list[object] = []
    with pytest.raises(RecordingError) as caught:
        read.extend(events)
    return len(read), caught.value


@pytest.mark.parametrize("reader", ["process", "inline"])
def test_a_bad_line_in_the_second_file_is_named_by_that_file_and_line(
    three_hours: list[Path], reader: str
) -> None:
    second = three_hours[1]
    ts_ms = T0 // MS + HOUR_MS
    good: list[tuple[int, object]] = [
        ((ts_ms + i) * MS, l2_book(ts_ms + i, "100", "101")) for i in range(50)
    ]
    second.write_bytes(gzip.compress((recorder_lines(good) + "damaged line\n").encode()))

    count, error = read_all(three_hours, reader)

    assert str(error) == f"{second}:51: expected '<local time ns> <JSON message>'"
    assert count == 300 + 50, "every event of the first file and of the second's good lines"


@pytest.mark.parametrize("reader", ["process", "inline"])
def test_a_truncated_third_file_is_named_with_the_line_its_stream_broke_at(
    three_hours: list[Path], reader: str
) -> None:
    third = three_hours[2]
    whole = third.read_bytes()
    third.write_bytes(whole[: len(whole) // 2])

    count, error = read_all(three_hours, reader)

    assert str(error).startswith(f"{third}:")
    assert "truncated" in error.problem
    assert count == 300 + SECOND_LINES + error.line - 1


def test_a_reading_process_killed_in_the_second_file_names_that_file(
    three_hours: list[Path],
) -> None:
    first, second, _ = three_hours
    stream = ReadAhead(ReplayStream(three_hours, coin="BTC"), batch=16)
    events = iter(stream)
    second_starts = (T0 // MS + HOUR_MS) * MS
    # Read until the second file's first event: the reader, held back by the full pipe,
    # is then reading the second file, far from its end.
    while next(events).ts_local < second_starts:
        pass
    assert stream.pid is not None

    os.kill(stream.pid, signal.SIGKILL)

    with pytest.raises(RecordingError) as caught:
        for _ in events:
            pass
    error = caught.value
    assert error.path == second, f"named {error.path}, not the file being read ({first} before)"
    assert str(error).startswith(
        f"{second}: the reading process ended before the end (killed by signal 9), "
        "while reading past its line "
    )
    past_line = int(error.problem.rsplit(" ", 1)[-1])
    assert 1 < past_line < SECOND_LINES
