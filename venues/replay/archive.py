"""Hyperliquid's public historical archive, as users download it.

Books: ``market_data/<YYYYMMDD>/<hour>/l2Book/<COIN>.lz4``, LZ4 frames of JSON lines
``{"time": "<ISO time, ns>", "ver_num": 1, "raw": {"channel": "l2Book", "data": {...}}}``;
``time`` is when the archiving node received the message, so it is the local time.
Trades: ``node_trades/hourly/<YYYYMMDD>/<hour>`` (plain or ``.lz4``), JSON lines with
``coin, side, time, px, sz, hash`` and ``side_info``; a trade's only time is the exchange's,
so it serves as both clocks. A trade id is ``"{coin}:{hash}:{line}"``: one transaction can
print several trades, and the archive gives them no id of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

import msgspec

from makerd.protocol.market import TradePrinted
from makerd.venues.hyperliquid.wire_book import WireBook
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.lines import CoinFile
from makerd.venues.replay.messages import ReplayEvent, book_events, events_of, is_wanted

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


class _ArchivedBook(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    channel: Literal["l2Book"]
    data: WireBook


class _ArchiveBookLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """An archive line around an ``l2Book`` push of the live stream's exact shape."""

    time: str
    ver_num: int
    raw: _ArchivedBook


_BOOK_LINE: Final = msgspec.json.Decoder(_ArchiveBookLine)


class ArchiveBooks(CoinFile):
    """``l2Book`` events of one archive file."""

    def __iter__(self) -> Iterator[ReplayEvent]:
        path = self.lines.path
        for number, line in self.lines:
            # Most lines are books of the exact shape: one typed pass, as the recorder
            # reader and the live stream decode them; any other line takes the JSON path.
            book = _typed_book(line)
            if book is not None:
                ts_local = self.local_time(iso_ns(book.time, path, number), number)
                data = book.raw.data
                yield from book_events(data, ts_local=ts_local, coin=self.coin, cache=self.levels)
                continue
            record = _json_object(line, path, number)
            if record is None:
                continue
            ts_local = self.local_time(iso_ns(record.get("time"), path, number), number)
            yield from events_of(
                record.get("raw"), ts_local=ts_local, coin=self.coin, cache=self.levels
            )


class ArchiveTrades(CoinFile):
    """Public trades of ``coin`` (or coins) in one hourly ``node_trades`` file, as ``trades``
    messages."""

    def __iter__(self) -> Iterator[ReplayEvent]:
        path = self.lines.path
        for number, line in self.lines:
            record = _json_object(line, path, number)
            if record is None or not is_wanted(record.get("coin"), self.coin):
                continue
            ts = self.local_time(iso_ns(record.get("time"), path, number), number)
            trade = {
                "coin": record["coin"],
                "side": record.get("side"),
                "px": record.get("px"),
                "sz": record.get("sz"),
                "time": ts // NS_PER_MS,
                "tid": number,
            }
            trade_id = f"{record['coin']}:{record.get('hash')}:{number}"
            message = {"channel": "trades", "data": [trade]}
            for event in events_of(message, ts_local=ts, coin=self.coin):
                # Exchange time kept at ns (the wire's ms would round it).
                yield (
                    replace(event, trade_id=trade_id, ts_exchange=ts)
                    if isinstance(event, TradePrinted)
                    else event
                )


def trades_beside(book_file: Path) -> Path | None:
    """The ``node_trades`` file of the same hour as an archive book file, if the user has it."""
    plain = trades_path(book_file)
    for candidate in (plain, plain.with_name(f"{plain.name}.lz4")):
        if candidate.is_file():
            return candidate
    return None


def trades_path(book_file: Path) -> Path:
    """Where the hour's ``node_trades`` file of an archive book file is (plain; or ``.lz4``)."""
    hour_dir = book_file.parent.parent
    day_dir = hour_dir.parent
    return day_dir.parent.parent / "node_trades" / "hourly" / day_dir.name / hour_dir.name


def iso_ns(value: object, path: Path, line: int) -> int:
    """``2025-01-26T09:00:00.123456789`` (UTC, up to ns) → integer ns since the epoch."""
    if not isinstance(value, str):
        raise RecordingError(path, line, "time is missing or not a string")
    whole, _, fraction = value.rstrip("Z").partition(".")
    if not fraction.isdigit() and fraction:
        raise RecordingError(path, line, f"time {value[:40]!r} is not an ISO time")
    try:
        seconds = datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise RecordingError(path, line, f"time {value[:40]!r} is not an ISO time") from None
    return int(seconds) * NS_PER_S + int(fraction[:9].ljust(9, "0") or 0)


def _typed_book(line: str) -> _ArchiveBookLine | None:
    try:
        return _BOOK_LINE.decode(line)
    except msgspec.DecodeError:  # ValidationError included: another shape
        return None


def _json_object(line: str, path: Path, number: int) -> dict[str, object] | None:
    if not line:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        raise RecordingError(path, number, "not a JSON line") from None
    if not isinstance(record, dict):
        raise RecordingError(path, number, "not a JSON object")
    return record
