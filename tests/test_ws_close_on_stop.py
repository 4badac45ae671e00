"""A stop finishes every stream before its I/O loop closes, even when the peer never
answers the closing handshake.

A stream waited up to 10 s (the WebSocket library's default) for the peer's close frame:
the stop's wait for its tasks ran out first, and a stream still closing when the loop
closed failed later, at garbage collection ("Exception ignored in: <coroutine object
MarketFeed.run>": CI saw it in an unrelated test). The peer here is a real socket that
completes the WebSocket handshake and then answers nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from makerd.venues.hyperliquid.io_loop import IoLoop
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class DeafPeer:
    """Accepts WebSocket connections on loopback, then reads nothing and answers nothing."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/ws"
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, name="deaf-peer", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._held.append(connection)
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            found = re.search(rb"Sec-WebSocket-Key: *(\S+)", request, re.IGNORECASE)
            assert found is not None
            digest = hashlib.sha1(found.group(1) + _WS_GUID.encode()).digest()
            connection.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                + base64.b64encode(digest)
                + b"\r\n\r\n"
            )

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


@pytest.fixture
def deaf_peer() -> Iterator[DeafPeer]:
    peer = DeafPeer()
    yield peer
    peer.close()


def test_a_stop_finishes_a_stream_whose_peer_never_answers_the_close(
    deaf_peer: DeafPeer, caplog: pytest.LogCaptureFixture
) -> None:
    connected = threading.Event()
    stream = ReconnectingSocket(
        name="l2Book",
        url=deaf_peer.url,
        subscriptions=[{"type": "l2Book", "coin": "BTC"}],
        on_frame=lambda _channel, _data, _ts: None,
        on_connected=lambda _connection: connected.set(),
        on_malformed=lambda _reason, _ts: None,
        policy=ReconnectPolicy(),
        now_ns=time.time_ns,
    )
    io = IoLoop(name="test-io")
    io.start()
    io.call_soon(lambda: io.spawn(stream.run(), name="stream"), name="stream")
    assert connected.wait(10), "the stream never connected to the peer"

    io.stop()

    assert not io.running
    # Before, the stream waited 10 s for the peer's close frame: the stop gave up on its
    # tasks after 5 s, and the loop closed 2 s later with the stream still closing.
    assert "event=io_loop_stop_slow" not in caplog.text
