"""WebSocket helpers shared by the local venue's tests."""

from __future__ import annotations

import json
import time

from websockets.sync.client import ClientConnection


def receive_until_closed(connection: ClientConnection) -> None:
    """Read (and discard) frames until the server closes; a 5 s silence fails the test."""
    while True:
        connection.recv(timeout=5)


def channels_within(connection: ClientConnection, window_s: float) -> list[str]:
    """Every channel received during ``window_s`` seconds."""
    deadline = time.monotonic() + window_s
    channels = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            channels.append(json.loads(connection.recv(timeout=left))["channel"])
        except TimeoutError:
            break
    return channels
