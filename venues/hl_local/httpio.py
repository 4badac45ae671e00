"""Reading requests and writing answers for the venue's aiohttp handlers."""

from __future__ import annotations

import ipaddress
import json
import socket
import struct
from typing import Any

from aiohttp import web

from makerd.venues.hl_local.wire import HttpReply, deserialize_error


async def read_json(request: web.Request) -> Any:
    """The decoded body, or the exchange's HTTP 422 reply when it is not JSON."""
    text = await request.text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        return deserialize_error(f"{error.msg} at line {error.lineno} column {error.colno}")


def respond(reply: HttpReply) -> web.StreamResponse:
    if isinstance(reply.body, str):
        return web.Response(status=reply.status, text=reply.body)
    return web.json_response(reply.body, status=reply.status)


def reset_connection(request: web.Request) -> None:
    """Drop the client's connection with a TCP reset, answering nothing."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0: close sends RST instead of FIN, as a crashed server or proxy would.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def is_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False
