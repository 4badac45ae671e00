"""Request weight a minute that several coins' account questions cost, at the venue.

Starts the local venue and ``makerd run --mode live`` (a real process, a new account)
quoting BTC, ETH and DOGE, all on the exchange's first perp dex, for ``--seconds``; then
reads every request the venue received (``/_debug/stamps``) and prints, for each minute
after ``--skip`` seconds of start-up, how many open-order listings
(``frontendOpenOrders``, weight 20) and position queries (``clearinghouseState``, 2)
arrived and their weight. Three coins whose minute audits share one listing cost 22 a
minute; audited apart, 66. Fills, orphans and lost answers add questions of their own, so
a quiet venue (``--taker-probability``) shows the audits alone.
``--tree DIR`` runs the ``makerd`` of another source tree (a worktree of the version
before a change) instead of this one.
Run: ``python bench/bench_audit_weight.py --seconds 250``. A benchmark: it prints, it
asserts nothing.
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
from collections import Counter
from pathlib import Path

import yaml
from eth_account import Account

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.liquidity import LiquidityConfig
from makerd.venues.hl_local.server import VenueConfig

WEIGHTS = {"frontendOpenOrders": 20, "clearinghouseState": 2}
NS_PER_S = 1_000_000_000


def config(path: Path, url: str) -> Path:
    coins = ["BTC", {"coin": "ETH", "quoting": {"order_size": 0.01}}]
    coins.append({"coin": "DOGE", "quoting": {"order_size": 100}})
    body = {
        "mode": "live",
        "coins": coins,
        "risk": {"max_position": 1000},
        "metrics": {"port": 0},
        "hyperliquid": {"api_url": url},
    }
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def requests_of(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(url + "/_debug/stamps", timeout=10) as reply:
        listed: list[dict[str, object]] = json.loads(reply.read())["requests"]
    return listed


def run(url: str, work: Path, seconds: float, tree: Path | None) -> int:
    """Run makerd for ``seconds``; the venue's monotonic ns at its start."""
    account = Account.create()
    env = {**os.environ, "MAKERD_PRIVATE_KEY": account.key.hex()}
    if tree is not None:
        env["PYTHONPATH"] = str(tree.resolve())
    args = [sys.executable, "-m", "makerd", "run", "--config", str(config(work / "c.yaml", url))]
    args += ["--state-dir", str(work / "state")]
    started_ns = time.monotonic_ns()
    process = subprocess.Popen(
        args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(seconds)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=90)
    return started_ns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=250.0)
    parser.add_argument("--skip", type=float, default=60.0, help="start-up seconds left out")
    parser.add_argument("--taker-probability", type=float, default=0.0)
    parser.add_argument("--tree", type=Path, default=None)
    args = parser.parse_args()
    liquidity = LiquidityConfig(taker_probability=args.taker_probability)
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=7, liquidity=liquidity))
    url = venue.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started_ns = run(url, Path(tmp), args.seconds, args.tree)
        asked = requests_of(url)
    finally:
        venue.stop()
    per_minute: dict[int, Counter[str]] = {}
    for request in asked:
        kind = str(request.get("type"))
        at_s = (int(str(request["arrived_ns"])) - started_ns) / NS_PER_S
        if kind in WEIGHTS and args.skip <= at_s < args.seconds:
            per_minute.setdefault(int((at_s - args.skip) // 60), Counter())[kind] += 1
    print(f"{'minute':>6}  {'listings':>8}  {'positions':>9}  {'weight':>6}")
    for minute in range(int((args.seconds - args.skip) // 60)):
        counts = per_minute.get(minute, Counter())
        weight = sum(WEIGHTS[kind] * n for kind, n in counts.items())
        listings, positions = counts["frontendOpenOrders"], counts["clearinghouseState"]
        print(f"{minute + 1:>6}  {listings:>8}  {positions:>9}  {weight:>6}")


if __name__ == "__main__":
    main()
