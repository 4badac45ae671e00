"""The first check of every WebSocket message: bytes → text → JSON → ``(channel, data)``.

Nothing here raises: a message that cannot become a frame is a :class:`DecodedFrame`
with a :class:`DropReason`, so one binary or absurdly nested message can never end the
stream that read it. JSON's ``NaN``/``Infinity`` literals are refused too: the exchange
never sends them, and a float NaN must not slip into anything downstream.

An ``l2Book`` push of the exchange's exact shape is decoded typed first
(``wire_book.py``): most of the stream, checked while it is read. Everything else,
including every malformed book, takes the generic path below.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Final

from makerd.protocol.market import DropReason
from makerd.venues.hyperliquid.wire_book import decode_book_frame

log = logging.getLogger("makerd.venue.ws")
_LOG_INTERVAL_NS: Final = 10_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedFrame:
    """A channel and its data, or why the message is not one (``dropped``)."""

    channel: str = ""
    data: object = None
    dropped: DropReason | None = None
    detail: str = ""


def _refuse_constant(name: str) -> object:
    raise ValueError(f"JSON constant {name} is not allowed")


def decode_frame(raw: str | bytes, *, max_depth: int) -> DecodedFrame:
    """One message as a frame; never raises."""
    book = decode_book_frame(raw)
    if book is not None:
        return DecodedFrame(channel="l2Book", data=book)
    return _decode_any(raw, max_depth)


def _decode_any(raw: str | bytes, max_depth: int) -> DecodedFrame:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return DecodedFrame(dropped=DropReason.NOT_UTF8, detail=str(error)[:80])
    try:
        frame = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        return DecodedFrame(dropped=DropReason.TOO_DEEP, detail="nesting beyond the decoder")
    except ValueError as error:  # JSONDecodeError, NaN, ints beyond Python's digit limit
        return DecodedFrame(dropped=DropReason.NOT_JSON, detail=str(error)[:80])
    if _deeper_than(frame, max_depth):
        return DecodedFrame(dropped=DropReason.TOO_DEEP, detail=f"nesting beyond {max_depth}")
    channel = frame.get("channel") if isinstance(frame, dict) else None
    if not isinstance(channel, str):
        return DecodedFrame(dropped=DropReason.MISSING_FIELD, detail="frame without a channel")
    return DecodedFrame(channel=channel, data=frame.get("data"))


def _deeper_than(value: object, limit: int) -> bool:
    # Iterative, one nesting level at a time and over containers only: the point is to
    # refuse deep input without recursing on it, and every frame but a well-formed book
    # passes here. json.loads builds exact dicts and lists, so ``type() is`` on each
    # child (and no generator) suffices, and keeps a small frame's check to a few µs.
    level: list[dict[str, object] | list[object]] = []
    if type(value) is dict or type(value) is list:
        level.append(value)
    depth = 1
    while level:
        if depth > limit:
            return True
        deeper: list[dict[str, object] | list[object]] = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        level = deeper
        depth += 1
    return False


class DropLog:
    """Logs drops at a rate limit: the first of each reason at once, then at most one line
    per reason every 10 s, with how many were dropped since the last line."""

    def __init__(self, stream: str) -> None:
        self._stream = stream
        self._last_ns: dict[str, int] = {}
        self._since: dict[str, int] = {}
        self.counts: dict[str, int] = {}

    def record(self, channel: str, reason: str, detail: str, ts_local: int) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        self._since[reason] = self._since.get(reason, 0) + 1
        last = self._last_ns.get(reason)
        if last is not None and ts_local - last < _LOG_INTERVAL_NS:
            return
        self._last_ns[reason] = ts_local
        log.warning(
            "event=feed_message_dropped stream=%s channel=%s reason=%s count=%d detail=%r",
            self._stream,
            channel[:40],
            reason,
            self._since.pop(reason),
            detail[:200],
        )
