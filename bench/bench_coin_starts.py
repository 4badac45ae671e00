"""Three coins starting on a tight request budget: how soon each rests its first order.

Starts ``makerd run`` (live mode, a real process) RUNS times against one local venue,
each time a new account quoting BTC, ETH and the builder dex's xyz:TSLA at
``request_weight_per_minute: BUDGET``, and prints for each start the seconds until each
coin first rested an order at the venue (``-`` if it had none within LIMIT seconds), how
long the SIGTERM stop took and its exit code; then how many starts left a coin without
an order and how many stops did not exit 0.
Run: ``python bench/bench_coin_starts.py --runs 12 --budget 240 --limit 45``. A
benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from eth_account import Account

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig

COINS = ("BTC", "ETH", "xyz:TSLA")


def resting(url: str, user: str) -> dict[str, int]:
    counts = dict.fromkeys(COINS, 0)
    for dex in ("", "xyz"):
        body = json.dumps({"type": "openOrders", "user": user, "dex": dex}).encode()
        request = urllib.request.Request(
            url + "/info", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            for order in json.loads(answer.read()):
                if order["coin"] in counts:
                    counts[order["coin"]] += 1
    return counts


def config(path: Path, url: str, budget: int) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "mode": "live",
                "coins": [
                    "BTC",
                    {"coin": "ETH", "quoting": {"order_size": 0.01}},
                    {"coin": "xyz:TSLA", "quoting": {"order_size": 0.1}},
                ],
                "quoting": {"first_level_bps": 2, "levels": 2},
                "risk": {"max_position": 2},
                "watchdog": {"dead_man_switch_s": 6.0},
                "hyperliquid": {"api_url": url, "request_weight_per_minute": budget},
            }
        )
    )
    return path


def one_start(
    url: str, work: Path, budget: int, limit_s: float
) -> tuple[dict[str, float], float, int]:
    """Seconds until each coin first rested an order; the stop's seconds and exit code."""
    account = Account.create()
    user = account.address.lower()
    args = [
        sys.executable,
        "-m",
        "makerd",
        "run",
        "--config",
        str(config(work / "c.yaml", url, budget)),
    ]
    args += ["--state-dir", str(work / "state"), "--metrics-port", "0"]
    env = {**os.environ, "MAKERD_PRIVATE_KEY": account.key.hex()}
    process = subprocess.Popen(
        args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    started = time.monotonic()
    first: dict[str, float] = {}
    while time.monotonic() - started < limit_s and len(first) < len(COINS):
        for coin, count in resting(url, user).items():
            if count and coin not in first:
                first[coin] = time.monotonic() - started
        time.sleep(0.25)
    stop_started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=90)
    return first, time.monotonic() - stop_started, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--budget", type=int, default=240, help="request weight a minute")
    parser.add_argument("--limit", type=float, default=45.0, help="seconds to wait per start")
    options = parser.parse_args()
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=17, tick_interval_s=0.1))
    url = venue.start()
    starved = failed_stops = 0
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for run in range(options.runs):
                work = Path(scratch) / f"run{run}"
                work.mkdir()
                first, stop_s, code = one_start(url, work, options.budget, options.limit)
                starved += len(first) < len(COINS)
                failed_stops += code != 0
                times = "  ".join(
                    f"{coin}={first[coin]:.1f}s" if coin in first else f"{coin}=-" for coin in COINS
                )
                print(f"start {run:2d}: {times}  stop={stop_s:.1f}s exit={code}", flush=True)
    finally:
        venue.stop()
    print(
        f"{starved} of {options.runs} starts left a coin without an order for "
        f"{options.limit:.0f}s; {failed_stops} stops did not exit 0"
    )


if __name__ == "__main__":
    main()
