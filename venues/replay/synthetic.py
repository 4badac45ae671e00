"""A seeded recording in the recorder's format, made from the embedded synthetic market.

Benchmarks and tests need recordings of any length with trades that fill quotes; the
synthetic market gives a reproducible stream, written here line by line exactly as the
recorder writes Hyperliquid's messages (``<local ns> <raw JSON>``, gzip). The local time
is the exchange time plus a fixed feed latency.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from makerd.config.model import Scenario
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookLevel, BookSnapshotReceived, TradePrinted
from makerd.venues.sim.market import SyntheticMarket

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
START_NS = 1_737_900_000 * NS_PER_S
"""2025-01-26, like the real recording the readers are tested on."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticRecording:
    seconds: float
    seed: int = 7
    coin: str = "BTC"
    scenario: Scenario = Scenario.VOLATILE
    start_price: Decimal = Decimal(100_000)
    sz_decimals: int = 5
    step_ms: int = 100
    feed_latency_ms: int = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    books: int
    trades: int


def write_recording(path: Path, spec: SyntheticRecording) -> Written:
    """Write ``spec.seconds`` of the synthetic market to ``path`` (gzip); count what was written."""
    instrument = Instrument(coin=spec.coin, asset_id=0, sz_decimals=spec.sz_decimals)
    market = SyntheticMarket(
        instrument,
        scenario=spec.scenario,
        seed=spec.seed,
        start_price=spec.start_price,
        step_ns=spec.step_ms * NS_PER_MS,
        start_ns=START_NS,
    )
    latency_ns = spec.feed_latency_ms * NS_PER_MS
    books = trades = 0
    end_ns = START_NS + int(spec.seconds * NS_PER_S)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        now = START_NS
        while now <= end_ns:
            for event in market.step_until(now):
                if isinstance(event, TradePrinted):
                    trades += 1
                    message = _trade(event, tid=trades)
                else:
                    books += 1
                    message = _book(event)
                out.write(_line(event.ts_exchange + latency_ns, message))
            now += spec.step_ms * NS_PER_MS
    return Written(books=books, trades=trades)


def _line(ts_local: int, message: object) -> str:
    return f"{ts_local} {json.dumps(message, separators=(',', ':'))}\n"


def _book(book: BookSnapshotReceived) -> dict[str, object]:
    return {
        "channel": "l2Book",
        "data": {
            "coin": book.coin,
            "time": book.ts_exchange // NS_PER_MS,
            "levels": [[_level(level) for level in book.bids], [_level(lv) for lv in book.asks]],
        },
    }


def _level(level: BookLevel) -> dict[str, object]:
    return {"px": format(level.price, "f"), "sz": format(level.size, "f"), "n": level.orders}


def _trade(trade: TradePrinted, *, tid: int) -> dict[str, object]:
    return {
        "channel": "trades",
        "data": [
            {
                "coin": trade.coin,
                "side": trade.side.value,
                "px": format(trade.price, "f"),
                "sz": format(trade.size, "f"),
                "time": trade.ts_exchange // NS_PER_MS,
                "hash": f"0x{tid:064x}",
                "tid": tid,
            }
        ],
    }
