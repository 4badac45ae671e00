"""The recorder's format (hftbacktest's Hyperliquid collector writes the same).

A gzip file, one WebSocket message a line: ``<local receive time, integer ns> <raw JSON>``.
The exchange time comes from the message itself, so the feed latency replayed is the
recording's own (local − exchange). A line that is not ``<integer> <text>`` means the file
is not this format, or is damaged: that is a :class:`RecordingError` naming the line. A
line whose JSON or content is bad is one dropped message, counted like live.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from makerd.protocol.market import DropReason, FeedMessageDropped
from makerd.venues.hyperliquid.wire_book import decode_book_frame
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.lines import CoinFile
from makerd.venues.replay.messages import ReplayEvent, book_events, events_of


class RecorderFile(CoinFile):
    """Events of ``coin`` in one recorder file, in the file's order."""

    def __iter__(self) -> Iterator[ReplayEvent]:
        path = self.lines.path
        for number, line in self.lines:
            if not line:
                continue
            stamp, _, text = line.partition(" ")
            # isascii: str.isdigit also takes digits int() refuses ("²").
            if not stamp.isascii() or not stamp.isdigit() or not text:
                raise RecordingError(path, number, "expected '<local time ns> <JSON message>'")
            ts_local = self.local_time(int(stamp), number)
            # Books are most lines: decoded typed in one pass, as the live stream does;
            # any other message (or a book of another shape) takes the generic path.
            book = decode_book_frame(text)
            if book is not None:
                yield from book_events(book, ts_local=ts_local, coin=self.coin, cache=self.levels)
                continue
            try:
                message = json.loads(text)
            except ValueError:
                yield FeedMessageDropped(
                    channel="?",
                    reason=DropReason.NOT_JSON,
                    ts_local=ts_local,
                    stream="market",
                    detail=f"{path.name}:{number}",
                )
                continue
            yield from events_of(message, ts_local=ts_local, coin=self.coin, cache=self.levels)
