"""The archive reader's typed book path gives exactly what the generic JSON path gives.

An archive line wraps the exchange's ``l2Book`` push (``{"time", "ver_num", "raw"}``);
the reader decodes the wrapper and the book in one typed pass. Every line, good, odd or
refused, must come out as ``json.loads`` and the generic parser (no cache) make it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import cast

import lz4.frame
import pytest

from makerd.config.model import Scenario
from makerd.venues.replay.archive import ArchiveBooks, iso_ns
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.messages import ReplayEvent, events_of
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.replay_kit import T0, iso, l2_book, write_archive_hour
from tests.test_replay_typed_books import ODD_BOOKS


def straightforward(path: Path, coin: str = "BTC") -> list[ReplayEvent]:
    """Each line through ``json.loads`` and the generic parser (no typed decoder, no cache)."""
    events: list[ReplayEvent] = []
    text = lz4.frame.decompress(path.read_bytes()).decode()
    for number, line in enumerate(text.splitlines(), start=1):
        record = json.loads(line)
        ts_local = iso_ns(record["time"], path, number)
        events.extend(events_of(record["raw"], ts_local=ts_local, coin=coin))
    return events


def test_odd_and_refused_archive_books_read_as_the_generic_path_reads_them(
    tmp_path: Path,
) -> None:
    book_file = write_archive_hour(
        tmp_path,
        [(T0 + i, cast("dict[str, object]", book)) for i, book in enumerate(ODD_BOOKS)],
        None,
    )

    typed = list(ArchiveBooks(book_file, coin="BTC"))

    assert typed == straightforward(book_file)
    kinds = [type(event).__name__ for event in typed]
    assert kinds.count("BookSnapshotReceived") == 3
    assert kinds.count("FeedMessageDropped") == 12


def test_a_wrapper_of_another_shape_takes_the_generic_path(tmp_path: Path) -> None:
    book = l2_book(1, "100", "101")
    lines = [
        {"time": iso(T0), "ver_num": 1, "raw": book, "node": "a"},  # a field more
        {"time": iso(T0 + 1), "raw": book},  # no ver_num
        {"time": iso(T0 + 2), "ver_num": "1", "raw": book},  # ver_num as text
    ]
    book_file = tmp_path / "BTC.lz4"
    book_file.write_bytes(lz4.frame.compress("".join(json.dumps(x) + "\n" for x in lines).encode()))

    typed = list(ArchiveBooks(book_file, coin="BTC"))

    assert typed == straightforward(book_file)
    assert [event.ts_local for event in typed] == [T0, T0 + 1, T0 + 2]


def test_a_typed_book_with_a_bad_time_names_the_file_and_line(tmp_path: Path) -> None:
    line = {"time": "yesterday", "ver_num": 1, "raw": l2_book(1, "100", "101")}
    book_file = tmp_path / "BTC.lz4"
    book_file.write_bytes(lz4.frame.compress((json.dumps(line) + "\n").encode()))

    with pytest.raises(RecordingError, match=r"BTC\.lz4:1: .*not an ISO time"):
        list(ArchiveBooks(book_file, coin="BTC"))


def test_a_synthetic_hour_in_the_archive_format_reads_as_the_generic_path_reads_it(
    tmp_path: Path,
) -> None:
    # Long enough that the level cache fills and is trimmed several times over.
    recording = tmp_path / "synthetic.gz"
    write_recording(recording, SyntheticRecording(seconds=120, seed=3, scenario=Scenario.CALM))
    with gzip.open(recording, "rt", encoding="utf-8") as lines:
        messages = [(int(stamp), json.loads(text)) for stamp, _, text in map(_split, lines)]
    books = [(ts, message) for ts, message in messages if message.get("channel") == "l2Book"]
    book_file = write_archive_hour(tmp_path / "archive", books, None)

    typed = list(ArchiveBooks(book_file, coin="BTC"))

    assert typed == straightforward(book_file)
    assert sum(type(event).__name__ == "BookSnapshotReceived" for event in typed) > 1000


def _split(line: str) -> tuple[str, str, str]:
    return line.rstrip("\n").partition(" ")
