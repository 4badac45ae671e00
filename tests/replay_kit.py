"""Recordings written by tests: the recorder's format and Hyperliquid's archive layout."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import lz4.frame

from makerd.protocol import OrderRequest, PlaceOrders, Side, TimeInForce

_HERE = Path(__file__).resolve()
FIXTURES = _HERE.parents[2] / "shared" / "fixtures"
REAL_RECORDING = FIXTURES / "hyperliquid-recording" / "btcusd_20250126.gz"

MS = 1_000_000
T0 = 1_737_900_000_000 * MS


def l2_book(
    ts_ms: int, bid: str, ask: str, *, coin: str = "BTC", size: str = "1"
) -> dict[str, object]:
    return {
        "channel": "l2Book",
        "data": {
            "coin": coin,
            "time": ts_ms,
            "levels": [[{"px": bid, "sz": size, "n": 1}], [{"px": ask, "sz": size, "n": 1}]],
        },
    }


def trades(ts_ms: int, side: str, px: str, sz: str, *, tid: int = 1) -> dict[str, object]:
    return {
        "channel": "trades",
        "data": [{"coin": "BTC", "side": side, "px": px, "sz": sz, "time": ts_ms, "tid": tid}],
    }


def recorder_lines(messages: list[tuple[int, object]]) -> str:
    """``<local ns> <JSON>`` lines; a ``str`` message is written as it is (a broken line)."""
    return "".join(
        f"{ts} {m if isinstance(m, str) else json.dumps(m, separators=(',', ':'))}\n"
        for ts, m in messages
    )


def write_recorder_file(path: Path, messages: list[tuple[int, object]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(recorder_lines(messages))
    return path


def iso(ts_ns: int) -> str:
    """An archive time: ISO 8601 in UTC with nanoseconds."""
    from datetime import UTC, datetime

    seconds, ns = divmod(ts_ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{ns:09d}"


def write_archive_hour(
    root: Path,
    books: list[tuple[int, dict[str, object]]],
    trade_rows: list[dict[str, object]] | None,
    *,
    day: str = "20250126",
    hour: int = 14,
    coin: str = "BTC",
) -> Path:
    """``market_data/<day>/<hour>/l2Book/<coin>.lz4`` (+ ``node_trades`` when given)."""
    book_file = root / "market_data" / day / str(hour) / "l2Book" / f"{coin}.lz4"
    book_file.parent.mkdir(parents=True)
    lines = "".join(
        json.dumps({"time": iso(ts), "ver_num": 1, "raw": message}) + "\n" for ts, message in books
    )
    book_file.write_bytes(lz4.frame.compress(lines.encode()))
    if trade_rows is not None:
        trades_file = root / "node_trades" / "hourly" / day / str(hour)
        trades_file.parent.mkdir(parents=True)
        trades_file.write_text("".join(json.dumps(row) + "\n" for row in trade_rows))
    return book_file


def post_only_bid(price: str, size: str, *, at: int) -> PlaceOrders:
    """One post-only bid with the cloid ``bid``."""
    request = OrderRequest(
        cloid="bid",
        coin="BTC",
        side=Side.BUY,
        price=Decimal(price),
        size=Decimal(size),
        tif=TimeInForce.POST_ONLY,
        reduce_only=False,
    )
    return PlaceOrders(orders=(request,), ts_local=at)
