"""Red team: recordings with bad local times end with ``FILE:LINE: problem``, never a
traceback, never a replay that ticks through years, and a clock that stepped back is
counted and said."""

from __future__ import annotations

import gzip
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import lz4.frame
import pytest

from makerd.config.model import PaperConfig
from makerd.daemon.replay import instrument_from_steps
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.recorder_file import RecorderFile
from makerd.venues.replay.stream import ReplayStream
from makerd.venues.replay.venue import ReplayVenue
from tests.replay_kit import (
    MS,
    T0,
    iso,
    l2_book,
    write_archive_hour,
    write_recorder_file,
)
from tests.test_backtest import BTC_RULES, makerd

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
HOUR = 3600 * 1000 * MS
BOOK = json.dumps(l2_book(T0 // MS, "100", "101"), separators=(",", ":"))


def recorder_text(path: Path, stamps: list[str]) -> Path:
    """A recorder file whose lines carry these stamps, as text (the same book each)."""
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(f"{stamp} {BOOK}\n" for stamp in stamps)
    return path


def backtest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return makerd("backtest", *args, *BTC_RULES, cwd=cwd)


def test_a_stamp_of_digits_python_reads_as_no_number_is_an_error_not_a_traceback(
    tmp_path: Path,
) -> None:
    # "²" is a digit to str.isdigit but not to int(): a flipped byte in a stamp.
    path = recorder_text(tmp_path / "r.gz", [str(T0), f"{str(T0)[:10]}²{str(T0)[11:]}"])

    run = backtest(str(path), "--state-dir", str(tmp_path / "state"), cwd=tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"{path}:2: expected '<local time ns> <JSON message>'" in run.stderr


@pytest.mark.parametrize(
    ("stamp", "problem"),
    [
        # The year 2310: one damaged digit. The replay would tick the actors' timers every 100 ms
        # of simulated time across two centuries.
        (str(T0 + 9 * 10**18), "from the file's first line"),
        (str(T0 - 3 * HOUR * 24 * 30), "from the file's first line"),
        ("5", "from the file's first line"),
    ],
)
def test_a_local_time_far_from_the_files_first_line_is_an_error_naming_the_line(
    tmp_path: Path, stamp: str, problem: str
) -> None:
    path = recorder_text(tmp_path / "r.gz", [str(T0), str(T0 + MS), stamp, str(T0 + 2 * MS)])

    with pytest.raises(RecordingError) as caught:
        list(RecorderFile(path, coin="BTC"))

    assert caught.value.line == 3
    assert problem in str(caught.value)


def test_a_first_line_outside_any_plausible_time_is_an_error(tmp_path: Path) -> None:
    path = recorder_text(tmp_path / "r.gz", ["1737900000", str(T0)])  # seconds, not ns

    with pytest.raises(RecordingError, match=r"r\.gz:1: local time 1737900000 is not"):
        list(RecorderFile(path, coin="BTC"))


def test_a_file_as_long_as_a_day_still_reads(tmp_path: Path) -> None:
    # hftbacktest's collector writes a file a day: a day (and some) is a file's reach.
    path = recorder_text(tmp_path / "r.gz", [str(T0), str(T0 + 24 * HOUR + 59 * 60 * 1000 * MS)])

    assert len(list(RecorderFile(path, coin="BTC"))) == 2


def test_an_archive_line_of_the_year_9999_is_an_error_naming_its_line(tmp_path: Path) -> None:
    book = l2_book(T0 // MS, "100", "101")
    path = write_archive_hour(tmp_path, [(T0, book), (T0 + MS, book)], None)
    text = path.read_bytes()
    lines = lz4.frame.decompress(text).decode().splitlines()
    lines[1] = lines[1].replace(iso(T0 + MS)[:4], "9999", 1)
    path.write_bytes(lz4.frame.compress(("\n".join(lines) + "\n").encode()))

    with pytest.raises(RecordingError) as caught:
        list(ReplayStream([path], coin="BTC"))

    assert (caught.value.path, caught.value.line) == (path, 2)


def test_lines_stamped_before_one_already_replayed_are_counted_and_said(tmp_path: Path) -> None:
    # The recorder's wall clock stepped back 2 s between two lines.
    path = write_recorder_file(
        tmp_path / "r.gz",
        [
            (T0, l2_book(T0 // MS, "100", "101")),
            (T0 + 3000 * MS, l2_book(T0 // MS + 100, "100", "101")),
            (T0 + 1000 * MS, l2_book(T0 // MS + 200, "100", "101")),
            (T0 + 1500 * MS, l2_book(T0 // MS + 300, "100", "101")),
            (T0 + 3100 * MS, l2_book(T0 // MS + 400, "100", "101")),
        ],
    )
    venue = ReplayVenue(iter(RecorderFile(path, coin="BTC")), BTC, PaperConfig())
    while not venue.exhausted:
        due = venue.next_event_ns()
        assert due is not None
        venue.advance(due)

    assert venue.replayed["books"] == 5
    assert venue.replayed["late"] == 2
    assert venue.last_ns == T0 + 3100 * MS

    run = backtest(str(path), "--state-dir", str(tmp_path / "state"), cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert "2 lines stamped before a line already replayed" in run.stdout


def test_an_archive_hour_without_its_trades_file_is_said_not_passed_over(tmp_path: Path) -> None:
    # Without node_trades no trade advances a queue: fills come only from books crossing
    # our prices. A user who downloaded the books alone must be told, not left guessing.
    book = l2_book(T0 // MS, "100", "101")
    path = write_archive_hour(tmp_path, [(T0, book), (T0 + MS, book)], None)

    run = backtest(str(path), "--state-dir", str(tmp_path / "state"), cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    expected = tmp_path / "node_trades" / "hourly" / "20250126" / "14"
    assert (
        f"{path}: no trades file for its hour ({expected}[.lz4]): "
        "its books were replayed without trades"
    ) in run.stdout
