"""The recording writer on its own: names, rotation, temporary names, flushing, drops, taps."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest

from makerd.protocol.market import VenueConnectionChanged
from makerd.venues.hyperliquid.recording import FeedRecorder, RecordingWriter, gap_message
from makerd.venues.hyperliquid.recording_files import HourlyFiles, file_label
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy
from tests.feed_kit import RECORDING, needs_recording, recorded_frames

NS = 1_000_000_000
HOUR_NS = 3600 * NS
T0 = 1_796_529_600 * NS
"""2026-12-06 04:00:00 UTC, the start of an hour."""


class Clock:
    def __init__(self, now_ns: int) -> None:
        self.now = now_ns

    def __call__(self) -> int:
        return self.now


def lines_of(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as file:
        return file.read().splitlines()


def test_lines_go_to_hourly_files_named_by_their_utc_hour(tmp_path: Path) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(T0))

    files.write(T0 + 5, '{"a":1}')
    files.write(T0 + HOUR_NS - 1, '{"a":2}')
    files.write(T0 + HOUR_NS, '{"a":3}')
    files.close()

    first, second = files.completed
    assert first.name == "BTC_20261206_04.gz"
    assert second.name == "BTC_20261206_05.gz"
    assert lines_of(first) == [f'{T0 + 5} {{"a":1}}', f'{T0 + HOUR_NS - 1} {{"a":2}}']
    assert lines_of(second) == [f'{T0 + HOUR_NS} {{"a":3}}']
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, second.name]


def test_the_open_file_has_a_part_name_until_it_is_complete(tmp_path: Path) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="all", now_ns=Clock(T0))

    files.write(T0, "{}")

    assert [p.name for p in tmp_path.iterdir()] == ["all_20261206_04.gz.part"]
    files.close()
    assert [p.name for p in tmp_path.iterdir()] == ["all_20261206_04.gz"]


def test_an_idle_file_is_completed_once_its_hour_and_the_grace_are_over(tmp_path: Path) -> None:
    clock = Clock(T0)
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=clock)
    files.write(T0, "{}")

    clock.now = T0 + HOUR_NS + NS
    files.tick()
    assert files.completed == [], "a line stamped just before the hour may still be queued"
    clock.now = T0 + HOUR_NS + 3 * NS
    files.tick()

    assert [p.name for p in files.completed] == ["BTC_20261206_04.gz"]
    assert files.open_path is None


def test_an_existing_file_is_never_overwritten_a_new_one_gets_a_suffix(tmp_path: Path) -> None:
    (tmp_path / "BTC_20261206_04.gz").write_bytes(b"an earlier run's hour")
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(T0))

    files.write(T0 + 10, "{}")
    files.close()

    assert [p.name for p in files.completed] == ["BTC_20261206_04_2.gz"]
    assert (tmp_path / "BTC_20261206_04.gz").read_bytes() == b"an earlier run's hour"


def test_a_late_line_after_its_hour_was_closed_goes_to_a_new_file_in_order(
    tmp_path: Path,
) -> None:
    clock = Clock(T0 + HOUR_NS + 3 * NS)
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=clock)
    files.write(T0 + 1, "{}")
    files.tick()

    files.write(T0 + 2, '{"late":true}')
    files.write(T0 + HOUR_NS + 1, "{}")
    files.close()

    names = [p.name for p in files.completed]
    assert names == ["BTC_20261206_04.gz", "BTC_20261206_04_2.gz", "BTC_20261206_05.gz"]
    assert names == sorted(names), "sorting the names puts the lines in order"


def test_periods_shorter_than_an_hour_name_files_to_the_second(tmp_path: Path) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="BTC", period_s=2, now_ns=Clock(T0))

    for second in range(5):
        files.write(T0 + second * NS, "{}")
    files.close()

    assert [p.name for p in files.completed] == [
        "BTC_20261206_040000.gz",
        "BTC_20261206_040002.gz",
        "BTC_20261206_040004.gz",
    ]


@pytest.mark.parametrize(
    ("coins", "label"),
    [(("BTC",), "BTC"), (("xyz:TSLA",), "xyz-TSLA"), (("@107",), "@107"), (("BTC", "ETH"), "all")],
)
def test_a_files_label_is_its_coin_made_safe_for_a_file_name(
    coins: tuple[str, ...], label: str
) -> None:
    assert file_label(coins) == label


def test_a_coin_name_with_slashes_cannot_write_outside_the_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = HourlyFiles(out_dir=out, label=file_label(("a/../../b",)), now_ns=Clock(T0))

    files.write(T0, "{}")
    files.close()

    assert [p.parent for p in files.completed] == [out]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("period_s", [0, 7, 7200, -1])
def test_a_period_that_does_not_divide_the_hour_is_refused(tmp_path: Path, period_s: int) -> None:
    with pytest.raises(ValueError, match="period_s: must be a whole number of seconds"):
        HourlyFiles(out_dir=tmp_path, label="BTC", period_s=period_s)


def test_a_flushed_part_file_is_readable_up_to_its_last_line_without_closing(
    tmp_path: Path,
) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(T0))
    for n in range(50):
        files.write(T0 + n, json.dumps({"n": n}))
    files.flush()

    part = files.open_path
    assert part is not None
    # What a reader of a crashed recorder's file can do: decompress what is there.
    text = zlib.decompressobj(wbits=31).decompress(part.read_bytes()).decode()
    assert text.endswith("\n")
    assert [json.loads(line.split(" ", 1)[1])["n"] for line in text.splitlines()] == list(range(50))
    files.close()


def test_a_full_queue_drops_lines_without_waiting_and_marks_them_as_a_gap(
    tmp_path: Path,
) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(T0))
    writer = RecordingWriter(files, capacity=2)

    for n in range(1, 5):  # the writer thread is not running: the queue holds two
        writer.record(T0 + n, f'{{"n":{n}}}')
    writer.start()
    writer.stop()

    assert writer.dropped == 2
    assert lines_of(files.completed[0]) == [
        f'{T0 + 1} {{"n":1}}',
        f'{T0 + 2} {{"n":2}}',
        f"{T0 + 4} " + gap_message(from_ns=T0 + 3, to_ns=T0 + 4, reason="queue_full"),
    ]


def test_the_queue_is_bounded_in_bytes_too_so_huge_messages_cannot_fill_memory(
    tmp_path: Path,
) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(T0))
    writer = RecordingWriter(files, max_bytes=1000)
    huge = json.dumps({"channel": "l2Book", "data": "x" * 600})

    for n in range(1, 4):  # the writer thread is not running: 600 bytes fit, 1200 do not
        writer.record(T0 + n, huge)
    writer.start()
    writer.record(T0 + 4, "{}")  # the marker goes first, then this line
    writer.stop()

    assert writer.dropped == 2
    stamps = [int(line.split(" ", 1)[0]) for line in lines_of(files.completed[0])]
    assert stamps == [T0 + 1, T0 + 3, T0 + 4]
    assert "queue_full" in lines_of(files.completed[0])[1]


def connection(*, connected: bool, ts: int, reason: str = "") -> VenueConnectionChanged:
    return VenueConnectionChanged(stream="market", connected=connected, reason=reason, ts_local=ts)


def test_a_lost_connection_is_marked_from_the_last_message_to_the_resubscription(
    tmp_path: Path,
) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(T0))
    writer = RecordingWriter(files)
    recorder = FeedRecorder(writer)
    writer.start()

    recorder.on_connection(connection(connected=True, ts=T0))
    recorder.on_message('{"channel":"trades","data":[]}', T0 + 10)
    recorder.on_connection(connection(connected=False, ts=T0 + 20, reason="closed_error"))
    recorder.on_connection(connection(connected=False, ts=T0 + 30, reason="refused"))
    recorder.on_connection(connection(connected=True, ts=T0 + 40))
    recorder.on_message('{"channel":"trades","data":[]}', T0 + 50)
    writer.stop()

    marker = json.loads(lines_of(files.completed[0])[1].split(" ", 1)[1])
    assert marker == {
        "channel": "makerdGap",
        "data": {"from_ns": T0 + 10, "to_ns": T0 + 40, "reason": "closed_error"},
    }
    assert len(lines_of(files.completed[0])) == 3


def test_the_socket_hands_the_recorder_each_data_message_byte_for_byte(tmp_path: Path) -> None:
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(T0))
    writer = RecordingWriter(files)
    socket = ReconnectingSocket(
        name="market",
        url="ws://127.0.0.1:1/ws",
        subscriptions=[{"type": "trades", "coin": "BTC"}],
        on_frame=lambda _channel, _data, _ts: None,
        on_connected=lambda _n: None,
        on_malformed=lambda _reason, _ts: None,
        policy=ReconnectPolicy(),
        now_ns=Clock(T0),
        tap=FeedRecorder(writer),
    )
    writer.start()
    odd_but_valid = '{ "channel" : "trades",\t"data":[{"px":"1.50","sz":"1e-3"}] }'

    socket.handle_message(odd_but_valid, T0 + 1)
    socket.handle_message(odd_but_valid.encode(), T0 + 2)
    socket.handle_message('{"channel":"trades",\n"data":[]}', T0 + 3)
    socket.handle_message('{"channel":"pong"}', T0 + 4)
    socket.handle_message('{"channel":"allMids","data":{}}', T0 + 5)
    socket.handle_message("not json", T0 + 6)
    writer.stop()

    assert lines_of(files.completed[0]) == [
        f"{T0 + 1} {odd_but_valid}",
        f"{T0 + 2} {odd_but_valid}",
        f'{T0 + 3} {{"channel":"trades", "data":[]}}',
    ]


@needs_recording
def test_recording_hftbacktests_own_messages_again_gives_its_file_byte_for_byte(
    tmp_path: Path,
) -> None:
    """The collector's format, exactly: its recording, re-recorded here, is the same text."""
    frames = recorded_frames()
    files = HourlyFiles(out_dir=tmp_path, label="BTC", now_ns=Clock(frames[0][0]))

    for ts_local, message in frames:
        files.write(ts_local, message)
    files.close()

    ours = b"".join(gzip.decompress(path.read_bytes()) for path in files.completed)
    assert ours == gzip.decompress(RECORDING.read_bytes())
