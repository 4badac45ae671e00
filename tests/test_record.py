"""``makerd record`` as a real process against the local venue: gaps, rotation, stops."""

from __future__ import annotations

import gzip
import json
import signal
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.endpoints import websocket_url
from makerd.venues.hyperliquid.recording_rules import RULES_NAME, load_rules
from tests.local_venue_kit import arm, subscribe
from tests.processes import MakerdProcess
from tests.test_e2e_notify import receive_until

DATA_CHANNELS = ("l2Book", "trades")


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    thread = VenueThread(VenueConfig(port=0, auto_provision=True, seed=9, tick_interval_s=0.1))
    thread.start()
    yield thread
    thread.stop()


def recorder(venue: VenueThread, out: Path, *extra: str) -> MakerdProcess:
    args = ["--log-format", "text", "record", "--coin", "BTC", "--out", str(out)]
    return MakerdProcess([*args, "--api-url", venue.url, *extra], cwd=out.parent)


def open_part(process: MakerdProcess) -> Path:
    """The ``.part`` file the recorder opened (once the first message came)."""
    return Path(process.wait_for(r"event=recording_file_opened path=(\S+\.part)").group(1))


def recorded(out: Path) -> list[tuple[int, str]]:
    """Every line of every completed file, files in name order."""
    lines = []
    for path in sorted(out.glob("*.gz")):
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as file:
            for line in file.read().splitlines():
                stamp, message = line.split(" ", 1)
                lines.append((int(stamp), message))
    return lines


def channel(message: str) -> str:
    name: str = json.loads(message)["channel"]
    return name


class Observer:
    """A second client on the same streams: the frames the venue published, as sent."""

    def __init__(self, url: str) -> None:
        self.frames: list[str] = []
        self._url = websocket_url(url)
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._subscribed.wait(5), "the observer could not subscribe"

    def _read(self) -> None:
        with connect(self._url) as connection:
            for kind in DATA_CHANNELS:
                subscribe(connection, {"type": kind, "coin": "BTC"})
            self._subscribed.set()
            while not self._stop.is_set():
                try:
                    raw = connection.recv(timeout=0.2)
                except TimeoutError:
                    continue
                assert isinstance(raw, str)
                if channel(raw) in DATA_CHANNELS:
                    self.frames.append(raw)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def test_rotation_every_second_loses_no_line_and_keeps_each_byte_as_sent(
    venue: VenueThread, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    observer = Observer(venue.url)
    try:
        process = recorder(venue, out, "--duration", "4", "--rotate-s", "1")
        assert process.finish(30) == 0, process.text
    finally:
        observer.close()

    files = sorted(p for p in out.iterdir() if p.name != RULES_NAME)
    messages = [message for _ts, message in recorded(out)]
    published = {frame: index for index, frame in enumerate(observer.frames)}
    # The recorder's own subscription snapshots come first. Their text can equal what the
    # observer got on subscribing (the same recent trades), so they may match out of order:
    # the run of published frames is checked after them.
    head = 2 * len(DATA_CHANNELS)
    matched = [published[m] for m in messages[head:] if m in published]
    unmatched = [m for m in messages if m not in published]

    assert len(files) >= 3
    assert all(p.suffix == ".gz" for p in files), files
    assert len(matched) >= 20, "the venue pushes a book every 0.1 s"
    # Every frame the venue published to both, byte for byte, once, in order, nothing
    # missing between the first and the last: a contiguous run of what the observer saw.
    assert matched == list(range(matched[0], matched[0] + len(matched)))
    # Only the snapshots sent to the recorder alone on subscribing are not the observer's.
    assert len(unmatched) <= len(DATA_CHANNELS)
    assert all(messages.index(m) <= 2 * len(DATA_CHANNELS) for m in unmatched)


def test_a_dropped_stream_is_reconnected_and_marked_as_a_gap(
    venue: VenueThread, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    process = recorder(venue, out)
    process.wait_for("event=recording_subscribed connection=1")
    part = open_part(process)

    arm(venue, drop_stream="market")
    process.wait_for("event=ws_reconnected")
    process.wait_for("event=recording_subscribed connection=2")
    wait_for_text(part, lambda text: '"l2Book"' in text.partition("makerdGap")[2])
    process.signal(signal.SIGINT)

    assert process.finish(30) == 0, process.text
    lines = recorded(out)
    gaps = [(ts, json.loads(m)) for ts, m in lines if channel(m) == "makerdGap"]
    assert len(gaps) == 1, lines
    stamp, gap = gaps[0]
    assert gap["data"]["reason"] in {"closed_ok", "closed_error"}
    assert gap["data"]["from_ns"] < gap["data"]["to_ns"] == stamp
    before = [ts for ts, m in lines if ts < stamp and channel(m) != "makerdGap"]
    assert before
    assert gap["data"]["from_ns"] == before[-1], "the gap starts at the last message"
    assert [ts for ts, _m in lines] == sorted(ts for ts, _m in lines)
    assert not list(out.glob("*.part"))


def test_sigterm_finishes_the_open_file_under_its_final_name(
    venue: VenueThread, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    process = recorder(venue, out)
    opened = open_part(process).with_suffix("")

    process.signal(signal.SIGTERM)

    assert process.finish(30) == 0, process.text
    assert sorted(p.name for p in out.iterdir()) == sorted([opened.name, RULES_NAME])
    assert load_rules(out / RULES_NAME, "BTC").sz_decimals == meta_sz_decimals(venue, "BTC")
    assert {channel(m) for _ts, m in recorded(out)} >= {"l2Book"}
    assert "event=recording_stopped signal=SIGTERM" in process.text


def test_a_killed_recorder_leaves_a_part_file_readable_to_its_last_line(
    venue: VenueThread, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    process = recorder(venue, out)
    part = open_part(process)
    wait_for_text(part, lambda text: text.count("\n") >= 10)  # a book every 0.1 s

    process.signal(signal.SIGKILL)
    process.finish(10)

    text = decompressed(part)
    complete = text[: text.rfind("\n") + 1].splitlines()
    assert len(complete) >= 10
    assert all(channel(line.split(" ", 1)[1]) in DATA_CHANNELS for line in complete)


def wait_for_text(part: Path, condition: Callable[[str], bool], timeout_s: float = 10) -> None:
    """Until what can be read of ``part`` so far satisfies ``condition``."""
    deadline = time.monotonic() + timeout_s
    while not condition(decompressed(part)):
        assert time.monotonic() < deadline, f"{part} never had what the test waits for"
        threading.Event().wait(0.05)


def decompressed(part: Path) -> str:
    """What can be read of a gzip file that was never closed (no trailer)."""
    return zlib.decompressobj(wbits=31).decompress(part.read_bytes()).decode()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--coin", "BTC,BTC"], "a coin is named twice"),
        (["--coin", "BTC", "--rotate-s", "7"], "--rotate-s: must be a whole number"),
        (["--coin", ""], "--coin"),
    ],
)
def test_bad_arguments_exit_78_naming_the_argument(
    tmp_path: Path, args: list[str], complaint: str
) -> None:
    process = MakerdProcess(["record", "--out", str(tmp_path / "rec"), *args], cwd=tmp_path)

    assert process.finish(30) == 78
    assert complaint in process.text
    assert not (tmp_path / "rec").exists()


def test_a_coin_the_exchange_does_not_list_exits_78_naming_it(
    venue: VenueThread, tmp_path: Path
) -> None:
    process = recorder(venue, tmp_path / "rec", "--coin", "BTC,ETHH")

    assert process.finish(30) == 78
    assert "--coin: coin 'ETHH' is not in the venue's universe; did you mean ETH" in process.text
    assert "recording_started" not in process.text


def test_an_output_directory_under_a_file_exits_78_before_connecting(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "rec"
    args = ["record", "--coin", "BTC", "--out", str(out), "--api-url", "http://127.0.0.1:9"]
    process = MakerdProcess(args, cwd=tmp_path)

    assert process.finish(30) == 78
    assert "--out:" in process.text
    assert "is not a directory" in process.text
    assert "recording_started" not in process.text


def test_hostile_frames_never_stop_the_recorder_and_only_json_data_is_recorded(
    venue: VenueThread, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    process = recorder(venue, out)
    open_part(process)
    spec = {"count": 40, "stream": "market", "every_ms": 10, "burst": 4}
    arm(venue, malformed_frames=spec)
    wait_until_sent(venue)
    arm(venue, clear=True)

    process.signal(signal.SIGTERM)

    assert process.finish(30) == 0, process.text
    messages = [json.loads(message) for _ts, message in recorded(out)]
    assert {m["channel"] for m in messages} <= {*DATA_CHANNELS, "makerdGap"}
    # Valid JSON on a subscribed channel is kept as sent, even a book for a coin not
    # recorded: the replay applies the feed's checks, the recording does not.
    assert any(m["channel"] == "l2Book" and m["data"].get("coin") != "BTC" for m in messages)
    assert "event=feed_message_dropped" in process.text


def wait_until_sent(venue: VenueThread, timeout_s: float = 20) -> None:
    """Until the venue has written every hostile frame it was asked to."""
    deadline = time.monotonic() + timeout_s
    while requests.get(f"{venue.url}/_debug/malformed", timeout=5).json()["pending"]:
        assert time.monotonic() < deadline, "the venue did not send its hostile frames"
        threading.Event().wait(0.05)


def test_under_systemd_it_says_ready_pings_the_watchdog_and_says_stopping(
    venue: VenueThread, tmp_path: Path
) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        args = ["record", "--coin", "BTC", "--out", str(tmp_path / "rec"), "--api-url", venue.url]
        env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"}
        process = MakerdProcess(args, cwd=tmp_path, env=env)
        seen: list[bytes] = []

        receive_until(sock, b"READY=1", seen, timeout=30)
        receive_until(sock, b"WATCHDOG=1", seen, timeout=10)
        process.signal(signal.SIGTERM)
        receive_until(sock, b"STOPPING=1", seen, timeout=15)

    assert process.finish(30) == 0, process.text
    ready = next(d for d in seen if b"READY=1" in d)
    assert b"STATUS=recording" in ready


def meta_sz_decimals(venue: VenueThread, coin: str) -> int:
    """What the venue's own ``meta`` answer says of ``coin``'s lot."""
    reply = requests.post(f"{venue.url}/info", json={"type": "meta"}, timeout=5)
    reply.raise_for_status()
    universe = reply.json()["universe"]
    return int(next(entry["szDecimals"] for entry in universe if entry["name"] == coin))
