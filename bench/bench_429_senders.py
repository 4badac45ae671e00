"""Who keeps asking while the exchange answers HTTP 429, counted at the local venue.

makerd runs live (a real process) against the local venue with the default margin poll
(5 s) and a dead-man switch of ``--dead-man`` seconds (default 30, re-armed every ~19 s;
6 re-arms every ~3 s). Two scenarios, each on a fresh account:

``quoting``: once quotes rest, every request is refused with 429 (``rate_limit_kind:
ip``) for WINDOW seconds; prints the requests that arrived in each second of the window,
by path and type, and after it.

``stop``: once quotes rest, the same window opens and makerd gets SIGTERM at once; prints
the requests that arrived during the stop by type, and when the stop ended against the
window's end (exit 0 with "venue confirms 0 open orders", or 82).

    python bench/bench_429_senders.py --window 10 --stop-window 5 --dead-man 6

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_hl_live_e2e import Trader, fault, resting

NS_PER_S = 1_000_000_000
SETTLE_S = 4.0
"""Quoting before the window opens: the start's queries are over, the margin poll runs."""


def stamps(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url + "/_debug/stamps", timeout=5) as response:
        decoded: dict[str, object] = json.loads(response.read())
    return decoded


def venue_now_ns(url: str) -> int:
    now = stamps(url)["now_ns"]
    assert isinstance(now, int)
    return now


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrival:
    """One request as the venue stamped it."""

    path: str
    type: str
    arrived_ns: int
    status: int


def requests_between(url: str, start_ns: int, end_ns: int) -> list[Arrival]:
    listed = stamps(url)["requests"]
    assert isinstance(listed, list)
    arrivals = [Arrival(**stamp) for stamp in listed]
    return [a for a in arrivals if start_ns <= a.arrived_ns < end_ns]


def label(request: Arrival) -> str:
    return f"{request.path}:{request.type}:{request.status}"


def quoting(url: str, window_s: float, workdir: Path, dead_man_s: float) -> None:
    trader = Trader(workdir, url, dead_man_s=dead_man_s)
    makerd = trader.start(workdir)
    try:
        resting(trader, makerd)
        time.sleep(SETTLE_S)
        opened_ns = venue_now_ns(url)
        fault(url, {"rate_limit_for_s": window_s, "rate_limit_kind": "ip"})
        time.sleep(window_s + 6.0)
        seen = requests_between(url, opened_ns, venue_now_ns(url))
    finally:
        makerd.signal(signal.SIGTERM)
        makerd.finish(timeout=60)
    print(f"quoting, {window_s:.0f} s ip 429 window: requests per second at the venue")
    for second in range(int(window_s) + 6):
        start = opened_ns + second * NS_PER_S
        inside = [r for r in seen if start <= r.arrived_ns < start + NS_PER_S]
        counts = Counter(label(r) for r in inside)
        shown = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        where = "in" if second < window_s else "after"
        print(f"  {where:5} s{second:02d}: {len(inside):3d}  {shown}")
    during = [r for r in seen if r.arrived_ns < opened_ns + window_s * NS_PER_S]
    print("  window total by type: " + str(dict(Counter(label(r) for r in during))))
    print("  backoff pauses logged: " + " ".join(backoffs(makerd.text)))


def backoffs(text: str) -> list[str]:
    """The pauses makerd logged for each 429 (``backing off 1.9s``, ``pause_s=1.9``)."""
    found = []
    for line in text.splitlines():
        for marker in ("backing off ", "pause_s="):
            if marker in line:
                found.append(line.split(marker, 1)[1].split("s", 1)[0].split()[0])
    return found


def stop(url: str, window_s: float, workdir: Path, dead_man_s: float) -> None:
    trader = Trader(workdir, url, dead_man_s=dead_man_s)
    makerd = trader.start(workdir)
    resting(trader, makerd)
    time.sleep(SETTLE_S)
    opened_ns = venue_now_ns(url)
    fault(url, {"rate_limit_for_s": window_s, "rate_limit_kind": "ip"})
    makerd.signal(signal.SIGTERM)
    code = makerd.finish(timeout=60)
    ended_ns = venue_now_ns(url)
    seen = requests_between(url, opened_ns, ended_ns)
    confirmed = "venue confirms 0 open orders" in makerd.text
    after_window_s = (ended_ns - opened_ns) / NS_PER_S - window_s
    print(f"stop in a {window_s:.0f} s ip 429 window: exit {code}, confirmed={confirmed}")
    closed_ns = opened_ns + round(window_s * NS_PER_S)
    answered = [
        r.arrived_ns
        for r in seen
        if r.type == "frontendOpenOrders" and r.status == 200 and r.arrived_ns >= closed_ns
    ]
    first = f"{(min(answered) - closed_ns) / NS_PER_S:+.2f} s" if answered else "never"
    print(f"  first listing answered after the window: {first} after its end")
    print(f"  process ended {after_window_s:+.2f} s after the window's end (venue clock)")
    print("  requests during the stop: " + str(dict(Counter(label(r) for r in seen))))
    print("  sweep retries: " + " ".join(sweep_retries(makerd.text)))


def sweep_retries(text: str) -> list[str]:
    return [
        line.split("retry_in_s=", 1)[1].split()[0]
        for line in text.splitlines()
        if "event=sweep_rate_limited" in line
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--stop-window", type=float, default=5.0)
    parser.add_argument("--stops", type=int, default=1)
    parser.add_argument("--dead-man", type=float, default=30.0, help="dead_man_switch_s")
    parser.add_argument("--skip-quoting", action="store_true")
    args = parser.parse_args()
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=41, tick_interval_s=0.1))
    url = venue.start()
    try:
        if not args.skip_quoting:
            with tempfile.TemporaryDirectory() as quoting_dir:
                quoting(url, args.window, Path(quoting_dir), args.dead_man)
        for _ in range(args.stops):
            with tempfile.TemporaryDirectory() as stop_dir:
                stop(url, args.stop_window, Path(stop_dir), args.dead_man)
    finally:
        venue.stop()


if __name__ == "__main__":
    main()
