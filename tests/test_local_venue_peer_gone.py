"""The local venue's writer when a client vanishes between two frames (kill -9 in a soak):
the connection ends quietly. It used to raise out of the connection's handler, and aiohttp
printed a traceback to the venue's log."""

from __future__ import annotations

import asyncio
from typing import cast

from aiohttp import web
from aiohttp.client_exceptions import ClientConnectionResetError

from makerd.venues.hl_local.ws import WsSession


class _VanishedPeer:
    """A WebSocket that still looked open when checked, whose transport is gone on write."""

    closed = False

    def __init__(self) -> None:
        self.writes = 0

    async def send_str(self, _data: str) -> None:
        self.writes += 1
        raise ClientConnectionResetError("Cannot write to closing transport")


def test_a_write_to_a_peer_that_vanished_ends_the_writer_without_an_error() -> None:
    peer = _VanishedPeer()
    session = WsSession(cast(web.WebSocketResponse, peer))

    async def write_then_stop() -> None:
        session.send({"channel": "pong"})
        session.send({"channel": "pong"})
        await asyncio.wait_for(session.write_loop(), timeout=5)

    asyncio.run(write_then_stop())

    assert peer.writes == 1, "the writer went on writing to a connection that was gone"
