"""The recorder reader's typed book path gives exactly what the generic JSON path gives.

Books in a recorder file are decoded the way the live stream decodes them (one typed
pass); every line, good or bad, must come out as the straightforward reading would make
it: ``json.loads`` and the generic parser, with no cache.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from makerd.config.model import Scenario
from makerd.venues.replay.messages import ReplayEvent, events_of
from makerd.venues.replay.recorder_file import RecorderFile
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.replay_kit import REAL_RECORDING, T0, l2_book, trades, write_recorder_file


def straightforward(path: Path, coin: str = "BTC") -> list[ReplayEvent]:
    """Each line through ``json.loads`` and the generic parser (no typed decoder, no cache)."""
    events: list[ReplayEvent] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            stamp, _, text = line.rstrip("\n").partition(" ")
            events.extend(events_of(json.loads(text), ts_local=int(stamp), coin=coin))
    return events


def book_with(levels: object, *, time: int = 1, extra: dict[str, object] | None = None) -> object:
    return {
        "channel": "l2Book",
        "data": {"coin": "BTC", "time": time, "levels": levels, **(extra or {})},
    }


def level(px: object, sz: object = "1", n: object = 1) -> dict[str, object]:
    return {"px": px, "sz": sz, "n": n}


ODD_BOOKS: list[object] = [
    l2_book(1, "100", "101"),
    l2_book(2, "102", "101"),  # crossed
    l2_book(3, "100", "101", coin="ETH"),  # another coin
    book_with([[level("100")], [level("-101")]]),  # signed price
    book_with([[level("100", "0")], [level("101")]]),  # zero size
    book_with([[level("1e2")], [level("101")]]),  # exponent
    book_with([[level("100", n=1.0)], [level("101")]]),  # float count
    book_with([[level("100", n=True)], [level("101")]]),  # boolean count
    book_with([[level(100)], [level("101")]]),  # number for a price
    book_with([[level("100")], [level("101")], []]),  # three sides
    book_with([[level("100")], [level("101")]], extra={"spread": "1"}),  # unknown field
    book_with([[level("100")], [level("101")]], time=-5),  # negative time
    book_with([[level("100")] * 200, [level("101")]]),  # too many levels
    book_with([[level("9" * 40)], [level("101")]]),  # too long
    {"channel": "l2Book", "data": {"coin": "BTC", "levels": [[], []]}},  # no time
    l2_book(4, "100", "101"),
    trades(5, "A", "100", "0.5"),
]


def test_odd_and_refused_books_read_as_the_generic_path_reads_them(tmp_path: Path) -> None:
    path = write_recorder_file(
        tmp_path / "r.gz", [(T0 + i, book) for i, book in enumerate(ODD_BOOKS)]
    )

    typed = list(RecorderFile(path, coin="BTC"))

    assert typed == straightforward(path)
    kinds = [type(event).__name__ for event in typed]
    # The unknown field is ignored as live ignores it; the other coin's book gives nothing.
    assert kinds.count("BookSnapshotReceived") == 3
    assert kinds.count("FeedMessageDropped") == 12


def test_a_synthetic_hour_reads_as_the_generic_path_reads_it(tmp_path: Path) -> None:
    # Long enough that the level cache fills and is trimmed several times over.
    path = tmp_path / "synthetic.gz"
    write_recording(path, SyntheticRecording(seconds=120, seed=3, scenario=Scenario.CALM))

    typed = list(RecorderFile(path, coin="BTC"))

    assert typed == straightforward(path)
    assert sum(type(event).__name__ == "BookSnapshotReceived" for event in typed) > 1000


@pytest.mark.skipif(not REAL_RECORDING.is_file(), reason="the shared fixtures folder is absent")
def test_the_real_recording_reads_as_the_generic_path_reads_it() -> None:
    typed = list(RecorderFile(REAL_RECORDING, coin="BTC"))

    assert typed == straightforward(REAL_RECORDING)
    assert len(typed) == 110
