"""Reading recordings: the recorder's format, Hyperliquid's archive, and damaged files."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import lz4.frame
import pytest

from makerd.protocol.market import (
    BookSnapshotReceived,
    DropReason,
    FeedMessageDropped,
    TradePrinted,
)
from makerd.protocol.side import Side
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.messages import RecordingGap, ReplayEvent
from makerd.venues.replay.recorder_file import RecorderFile
from makerd.venues.replay.stream import ReplayStream
from tests.replay_kit import (
    MS,
    REAL_RECORDING,
    T0,
    iso,
    l2_book,
    recorder_lines,
    trades,
    write_archive_hour,
    write_recorder_file,
)

needs_real_recording = pytest.mark.skipif(
    not REAL_RECORDING.is_file(), reason="the shared fixtures folder is absent"
)


def read(paths: list[Path], coin: str = "BTC") -> list[ReplayEvent]:
    return list(ReplayStream(paths, coin=coin))


@needs_real_recording
def test_the_real_recording_gives_every_book_and_trade_with_both_clocks() -> None:
    events = read([REAL_RECORDING])

    books = [e for e in events if isinstance(e, BookSnapshotReceived)]
    prints = [e for e in events if isinstance(e, TradePrinted)]
    assert (len(books), len(prints), len(events)) == (46, 64, 110)
    first = books[0]
    assert first.ts_local == 1_737_918_843_893_903_000
    assert first.ts_exchange == 1_737_918_843_542 * MS
    assert (first.bids[0].price, first.asks[0].price) == (Decimal(105055), Decimal(105056))
    assert len(first.bids) == len(first.asks) == 20
    assert prints[0].trade_id == "BTC:121451470284048"
    assert prints[0].side is Side.BUY
    local_times = [e.ts_local for e in events]
    assert local_times == sorted(local_times)


@needs_real_recording
def test_the_real_recording_has_nothing_of_another_coin() -> None:
    assert read([REAL_RECORDING], coin="ETH") == []


def test_bad_messages_are_counted_as_dropped_and_the_replay_goes_on(tmp_path: Path) -> None:
    path = write_recorder_file(
        tmp_path / "r.gz",
        [
            (T0, l2_book(1, "100", "101")),
            (T0 + 1, "{not json"),
            (T0 + 2, {"channel": "bbo", "data": {}}),
            (T0 + 3, l2_book(2, "102", "101")),  # crossed
            (T0 + 4, {"channel": "makerdGap", "data": {"reason": "reconnect"}}),
            (T0 + 5, l2_book(3, "100", "101", coin="ETH")),
            (T0 + 6, trades(4, "A", "100", "0.5")),
        ],
    )

    events = read([path])

    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "BookSnapshotReceived",
        "FeedMessageDropped",
        "FeedMessageDropped",
        "FeedMessageDropped",
        "RecordingGap",
        "TradePrinted",
    ]
    dropped = [e for e in events if isinstance(e, FeedMessageDropped)]
    assert [d.reason for d in dropped] == [
        DropReason.NOT_JSON,
        DropReason.UNKNOWN_CHANNEL,
        DropReason.CROSSED_BOOK,
    ]
    assert events[4] == RecordingGap(ts_local=T0 + 4)


def test_a_truncated_gzip_file_is_an_error_naming_the_file_and_line(tmp_path: Path) -> None:
    whole = gzip.compress(
        recorder_lines([(T0 + i * MS, l2_book(i, "100", "101")) for i in range(2000)]).encode()
    )
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(RecordingError) as caught:
        read([path])

    assert str(caught.value).startswith(f"{path}:")
    assert "truncated" in str(caught.value)
    assert 1 < caught.value.line < 2000


def test_a_file_that_is_not_gzip_is_an_error_at_line_1(tmp_path: Path) -> None:
    path = tmp_path / "plain.gz"
    path.write_text("hello\n")

    with pytest.raises(RecordingError, match=r"plain\.gz:1: not a gzip file"):
        read([path])


def test_a_line_without_a_local_time_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "r.gz"
    with gzip.open(path, "wt") as out:
        out.write(recorder_lines([(T0, l2_book(1, "100", "101"))]))
        out.write('{"channel":"l2Book"}\n')

    with pytest.raises(RecordingError, match=r"r\.gz:2: expected '<local time ns> <JSON message>'"):
        list(RecorderFile(path, coin="BTC"))


def test_an_unknown_kind_of_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("x\n")

    with pytest.raises(RecordingError, match="unknown format"):
        ReplayStream([path], coin="BTC")


def test_a_directory_given_as_a_recording_is_named_as_one(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="is a directory: give the files in it"):
        ReplayStream([tmp_path], coin="BTC")


def test_an_archive_hour_merges_books_and_node_trades_by_time(tmp_path: Path) -> None:
    book_file = write_archive_hour(
        tmp_path,
        books=[
            (T0, l2_book(T0 // MS - 3, "100", "101")),
            (T0 + 200 * MS, l2_book(2, "100", "102")),
        ],
        trade_rows=[
            {
                "coin": "BTC",
                "side": "A",
                "time": iso(T0 + 100 * MS + 7),
                "px": "100",
                "sz": "0.3",
                "hash": "0xab",
                "side_info": [{}, {}],
            },
            {
                "coin": "ETH",
                "side": "B",
                "time": iso(T0 + 150 * MS),
                "px": "3000",
                "sz": "1",
                "hash": "0xcd",
                "side_info": [{}, {}],
            },
        ],
    )

    events = read([book_file])

    assert [type(e).__name__ for e in events] == [
        "BookSnapshotReceived",
        "TradePrinted",
        "BookSnapshotReceived",
    ]
    book, trade = events[0], events[1]
    assert isinstance(book, BookSnapshotReceived)
    assert isinstance(trade, TradePrinted)
    assert (book.ts_local, book.ts_exchange) == (T0, (T0 // MS - 3) * MS)
    assert (trade.ts_local, trade.ts_exchange) == (T0 + 100 * MS + 7, T0 + 100 * MS + 7)
    assert (trade.side, trade.price, trade.size) == (Side.SELL, Decimal(100), Decimal("0.3"))
    assert trade.trade_id == "BTC:0xab:1"


def test_an_archive_hour_without_node_trades_replays_books_alone(tmp_path: Path) -> None:
    book_file = write_archive_hour(
        tmp_path, books=[(T0, l2_book(1, "100", "101"))], trade_rows=None
    )

    assert [type(e).__name__ for e in read([book_file])] == ["BookSnapshotReceived"]


def test_a_corrupt_archive_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    book_file = write_archive_hour(
        tmp_path, books=[(T0, l2_book(1, "100", "101"))], trade_rows=None
    )
    book_file.write_bytes(lz4.frame.compress(b"x" * 10_000)[:-40] + b"\x00" * 40)

    with pytest.raises(RecordingError) as caught:
        read([book_file])

    assert str(caught.value).startswith(f"{book_file}:")


def test_an_archive_line_with_a_bad_time_is_an_error_naming_its_line(tmp_path: Path) -> None:
    book_file = write_archive_hour(
        tmp_path, books=[(T0, l2_book(1, "100", "101"))], trade_rows=None
    )
    good = lz4.frame.decompress(book_file.read_bytes())
    book_file.write_bytes(lz4.frame.compress(good + b'{"time": "yesterday", "raw": {}}\n'))

    with pytest.raises(RecordingError, match=r"BTC\.lz4:2: time 'yesterday' is not an ISO time"):
        read([book_file])


def test_two_recordings_are_merged_in_local_time_order(tmp_path: Path) -> None:
    first = write_recorder_file(
        tmp_path / "a.gz", [(T0, l2_book(1, "100", "101")), (T0 + 20, l2_book(3, "100", "101"))]
    )
    second = write_recorder_file(tmp_path / "b.gz", [(T0 + 10, trades(2, "B", "101", "1"))])

    assert [e.ts_local for e in read([first, second])] == [T0, T0 + 10, T0 + 20]


def test_a_level_repeated_from_an_earlier_book_is_checked_again_when_its_types_differ(
    tmp_path: Path,
) -> None:
    good = l2_book(1, "100", "101")
    unhashable = {
        "channel": "l2Book",
        "data": {
            "coin": "BTC",
            "time": 2,
            "levels": [[{"px": ["100"], "sz": "1", "n": 1}], [{"px": "101", "sz": "1", "n": 1}]],
        },
    }
    boolean_count = {
        "channel": "l2Book",
        "data": {
            "coin": "BTC",
            "time": 3,
            "levels": [[{"px": "100", "sz": "1", "n": True}], [{"px": "101", "sz": "1", "n": 1}]],
        },
    }
    path = write_recorder_file(
        tmp_path / "r.gz",
        [(T0, good), (T0 + 1, unhashable), (T0 + 2, boolean_count), (T0 + 3, good)],
    )

    events = read([path])

    assert [type(e).__name__ for e in events] == [
        "BookSnapshotReceived",
        "FeedMessageDropped",
        "FeedMessageDropped",
        "BookSnapshotReceived",
    ]
    first, last = events[0], events[3]
    assert isinstance(first, BookSnapshotReceived)
    assert isinstance(last, BookSnapshotReceived)
    assert (first.bids, first.asks) == (last.bids, last.asks)


def test_an_unfinished_part_file_ends_quietly_where_its_stream_was_cut(tmp_path: Path) -> None:
    whole = gzip.compress(
        recorder_lines([(T0 + i * MS, l2_book(i, "100", "101")) for i in range(2000)]).encode()
    )
    path = tmp_path / "BTC_20250126_14.gz.part"
    path.write_bytes(whole[: len(whole) // 2])
    stream = ReplayStream([path], coin="BTC")

    events = list(stream)

    assert 1 < len(events) < 2000
    assert [e.ts_local for e in events] == [T0 + i * MS for i in range(len(events))]
    assert stream.cut_short == [path]
