"""A real market feed fed by hand, and the recorded BTC feed it is fed with.

Messages go in through the socket's entry point (:meth:`ReconnectingSocket.handle_message`),
as the WebSocket hands them over, so decoding, the channel check, parsing and the guard's
checks all run. The recording is a fixture kept outside the repository and read in
place, never copied into the project; tests that need it skip without it.
"""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.venues.hyperliquid.feed import MarketFeed
from makerd.venues.hyperliquid.limits import FrameLimits
from makerd.venues.hyperliquid.ws_connection import ReconnectPolicy

_HERE = Path(__file__).resolve()
FIXTURES = next(
    (
        base / "shared" / "fixtures"
        for base in (_HERE.parents[2], _HERE.parents[3])
        if (base / "shared" / "fixtures").is_dir()
    ),
    _HERE.parents[2] / "shared" / "fixtures",
)
RECORDING = FIXTURES / "hyperliquid-recording" / "btcusd_20250126.gz"
needs_recording = pytest.mark.skipif(
    not RECORDING.is_file(),
    reason="the Hyperliquid recording beside the checkout (../shared/fixtures) is absent",
)
FEED_LIMITS = FrameLimits()
FEED_LISTED = ("BTC", "ETH", "SOL")


def recorded_frames() -> list[tuple[int, str]]:
    """``(local receive ns, raw message)`` for every line of the recording."""
    with gzip.open(RECORDING, "rt") as lines:
        return [(int(ns), raw) for ns, raw in (line.rstrip("\n").split(" ", 1) for line in lines)]


class Feed:
    """A MarketFeed for BTC whose events land in a list; messages go in as the socket's."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.feed = MarketFeed(
            ws_url="ws://127.0.0.1:9",  # never connected: messages are handed in directly
            coins=("BTC",),
            sink=self.events.append,
            policy=ReconnectPolicy(),
            now_ns=lambda: 0,
            limits=FEED_LIMITS,
            listed_coins=FEED_LISTED,
        )

    def send(self, raw: str | bytes, ts_local: int) -> list[object]:
        start = len(self.events)
        self.feed.socket.handle_message(raw, ts_local)
        return self.events[start:]

    def mid(self, ts_local: int) -> Decimal | None:
        return self.feed.guard.mid("BTC", ts_local)
