"""hftbacktest 2.4.4's side of the backtest benchmark: convert a recording, market-make on it.

Runs in hftbacktest's own virtualenv (its numpy pin conflicts with makerd's), so it never
imports makerd; ``bench/hftbacktest_env.py`` creates that virtualenv and runs this script.

Given a recording in the recorder's format (gzip, ``<local ns> <raw WebSocket JSON>``, which
is hftbacktest's own Hyperliquid collector format), it converts the file with hftbacktest's
converter (``hftbacktest.data.utils.hyperliquid.convert``), then runs the strategy twice
on the converted events: once cold (numba compiles the loop) and once warm. It prints ONE
JSON line on stdout; the converter's own chatter goes to stderr.

The strategy is makerd's default quoting, written for hftbacktest in ``hftbacktest_quoting.py``.

What hftbacktest 2.4.4's converter does, read from its source and checked on small files:
each trade becomes a trade event (side ``A`` = seller-initiated) at the trade's own time, so
the burst of past trades a fresh subscription delivers lands up to a minute before the first
book; each ``l2Book`` snapshot is diffed against the previous one and only changed, new and
vanished levels become depth events (about 13 per snapshot on the synthetic file). When a snapshot
has fewer levels than the one before, rows left over from two snapshots earlier are emitted
again, and a level that had vanished can come back as a phantom that is never deleted (20
level BTC books never shrink, thin books do). It reads a local time only as exactly 19
digits, parses JSON line by line in Python, and preallocates ``--buffer-size`` rows.

Exchange model: hftbacktest's partial-fill exchange; constant order latency (entry and
response); fees on traded value; the queue model is named on the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import resource
import sys
import time
from dataclasses import asdict, astuple, dataclass, fields
from typing import Any

import numpy as np
from hftbacktest_quoting import Quoting, market_make

QUEUE_MODELS = (
    "risk_averse",
    "power_prob",
    "power_prob2",
    "power_prob3",
    "log_prob",
    "log_prob2",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFigures:
    seconds: float
    fills: int
    volume: float
    traded_value: float
    fees: float
    pnl: float
    gross_pnl: float
    final_position: float
    max_abs_position: float
    final_mid: float
    steps: int


def main() -> None:
    args = _parse_args()
    from hftbacktest.data.utils.hyperliquid import convert

    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the converter prints its progress
        events = convert(
            args.recording,
            tick_size=args.tick,
            lot_size=args.lot,
            buffer_size=args.buffer_size,
        )
    convert_seconds = time.perf_counter() - started
    quoting = Quoting(**{field.name: getattr(args, field.name) for field in fields(Quoting)})
    cold = _run(events, args, quoting)
    warm = _run(events, args, quoting)
    figures: dict[str, Any] = {
        "engine": "hftbacktest 2.4.4",
        "recording": args.recording,
        "queue_model": _queue_name(args),
        "exchange_model": "partial_fill",
        "order_latency_ms": {"entry": args.entry_latency_ms, "response": args.response_latency_ms},
        "fee_rates": {"maker": args.maker_fee, "taker": args.taker_fee},
        "tick": args.tick,
        "lot": args.lot,
        "strategy": {"name": f"symmetric ladder, {_loop(quoting)}", **asdict(quoting)},
        "convert_s": round(convert_seconds, 3),
        "first_run_s": round(cold.seconds, 3),
        "warm_run_s": round(warm.seconds, 3),
        "jit_s": round(cold.seconds - warm.seconds, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "events": len(events),
        "trade_events": int(np.count_nonzero(events["ev"] & _trade_flag())),
        "span_s": round((int(events["exch_ts"][-1]) - int(events["exch_ts"][0])) / 1e9, 3),
        "runs_agree": _agree(cold, warm, args.lot),
        **{key: value for key, value in asdict(warm).items() if key != "seconds"},
    }
    print(json.dumps(figures))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", help="recorder-format file: gzip, '<local ns> <raw JSON>'")
    parser.add_argument("--tick", type=float, required=True, help="price tick, e.g. 1 for BTC")
    parser.add_argument("--lot", type=float, required=True, help="size lot, e.g. 0.00001")
    parser.add_argument("--maker-fee", type=float, default=0.00015, help="fraction of notional")
    parser.add_argument("--taker-fee", type=float, default=0.00045, help="fraction of notional")
    parser.add_argument("--entry-latency-ms", type=float, default=30.0)
    parser.add_argument("--response-latency-ms", type=float, default=20.0)
    parser.add_argument("--queue-model", choices=QUEUE_MODELS, default="risk_averse")
    parser.add_argument("--queue-power", type=float, default=2.0, help="n of the prob models")
    parser.add_argument(
        "--fills-out",
        help="write each fill the strategy saw to this CSV (local time, side, price, size); "
        "two fills between two wake-ups show as their net",
    )
    parser.add_argument(
        "--buffer-size",
        type=int,
        default=100_000_000,
        help="rows the converter preallocates (64 bytes each, touched only as filled)",
    )
    for field in fields(Quoting):  # each strategy setting can be matched to a makerd config
        option = "--" + field.name.replace("_", "-")
        parser.add_argument(option, type=type(field.default), default=field.default)
    return parser.parse_args()


def _loop(quoting: Quoting) -> str:
    return "on every market-data message" if quoting.requote_on_feed else "100 ms loop"


def _queue_name(args: argparse.Namespace) -> str:
    if args.queue_model == "risk_averse":
        return "RiskAdverseQueueModel"
    family = "Power" if args.queue_model.startswith("power") else "Log"
    suffix = args.queue_model.rpartition("prob")[2]
    power = f"(n={args.queue_power:g})" if family == "Power" else ""
    return f"{family}ProbQueueModel{suffix}{power}"


def _asset(events: np.ndarray[Any, Any], args: argparse.Namespace) -> Any:
    from hftbacktest import BacktestAsset

    asset = (
        BacktestAsset()
        .data([events])
        .linear_asset(1.0)
        .constant_order_latency(
            int(args.entry_latency_ms * 1e6), int(args.response_latency_ms * 1e6)
        )
        .partial_fill_exchange()
        .trading_value_fee_model(args.maker_fee, args.taker_fee)
        .tick_size(args.tick)
        .lot_size(args.lot)
        .last_trades_capacity(0)
    )
    if args.queue_model == "risk_averse":
        return asset.risk_adverse_queue_model()
    family, _, version = args.queue_model.partition("_prob")
    method = getattr(asset, f"{family}_prob_queue_model{version}")
    return method(args.queue_power) if family == "power" else method()


def _run(events: np.ndarray[Any, Any], args: argparse.Namespace, quoting: Quoting) -> RunFigures:
    from hftbacktest import HashMapMarketDepthBacktest

    backtest = HashMapMarketDepthBacktest([_asset(events, args)])
    started = time.perf_counter()
    fills_seen = np.zeros((1_000_000 if args.fills_out else 0, 4), np.float64)
    out = market_make(backtest, np.array(astuple(quoting), np.float64), fills_seen)
    seconds = time.perf_counter() - started
    backtest.close()
    position, balance, fee, fills, volume, value, mid, max_abs, steps, written = out
    if args.fills_out:
        _write_fills(args.fills_out, fills_seen[: int(written)])
    gross = balance + position * mid if math.isfinite(mid) else balance
    return RunFigures(
        seconds=seconds,
        fills=int(fills),
        volume=float(volume),
        traded_value=float(value),
        fees=float(fee),
        pnl=float(gross - fee),
        gross_pnl=float(gross),
        final_position=float(position),
        max_abs_position=float(max_abs),
        final_mid=float(mid),
        steps=int(steps),
    )


def _write_fills(path: str, rows: np.ndarray[Any, Any]) -> None:
    """One line a fill seen: local time (ns), side (B/A), price, size."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("local_ns,side,price,size\n")
        for local_ns, sign, price, size in rows.tolist():
            out.write(f"{int(local_ns)},{'B' if sign > 0 else 'A'},{price!r},{size!r}\n")


def _agree(one: RunFigures, other: RunFigures, lot: float) -> bool:
    """Same fills; sums may differ in the last bits, as hftbacktest fills in hash order."""
    return (
        one.fills == other.fills
        and abs(one.pnl - other.pnl) < 1e-6
        and abs(one.final_position - other.final_position) < lot / 2
    )


def _trade_flag() -> int:
    from hftbacktest import TRADE_EVENT

    return int(TRADE_EVENT)


if __name__ == "__main__":
    main()
