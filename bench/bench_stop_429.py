"""How long a stop takes to confirm "0 open orders" when its first listing gets HTTP 429.

The live venue object against the local venue, one resting BTC bid, the trading gate
closed, then the stop's confirmation (``confirm_every_coin``) with its real 4 s re-ask:
ROUNDS times with nothing refused and ROUNDS times with the first ``/info`` request (the
sweep's listing) answered 429. Prints each time, the medians, and the refused stop's
median against the plain one and against the 4 s re-ask it used to wait for.

    python bench/bench_stop_429.py --rounds 5

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.daemon.shutdown import _ANSWER_WAIT_S as RE_ASK_S
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_hl_live_e2e import fault
from tests.test_stop_rate_limited import STOP_DEADLINE_S, resting_then_stopping, stop

ONE_429 = {"http_error_next": 1, "http_error_status": 429, "paths": ["info"]}


def one_stop(url: str, *, refused: bool) -> float:
    """Seconds from the stop's first question to "0 open orders" (inf: never confirmed)."""
    venue, observers, _ = resting_then_stopping(url)
    if refused:
        fault(url, ONE_429)
    try:
        started = time.monotonic()
        remaining = stop(venue, observers, STOP_DEADLINE_S)
        took_s = time.monotonic() - started
    finally:
        venue.stop(orders_confirmed_gone=True)
        fault(url, {"clear": True})
    return took_s if remaining == 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=29, tick_interval_s=0.2))
    url = venue.start()
    try:
        plain, refused = [], []
        for _ in range(args.rounds):
            plain.append(one_stop(url, refused=False))
            refused.append(one_stop(url, refused=True))
    finally:
        venue.stop()
    print("plain stop, s:        " + " ".join(f"{s:.2f}" for s in plain))
    print("first listing 429, s: " + " ".join(f"{s:.2f}" for s in refused))
    plain_s, refused_s = statistics.median(plain), statistics.median(refused)
    print(f"median: plain {plain_s:.2f} s, after one 429 {refused_s:.2f} s")
    print(f"after one 429 / plain: {refused_s / plain_s:.1f}x")
    print(f"after one 429 / the stop's re-ask ({RE_ASK_S:.0f} s): {refused_s / RE_ASK_S:.2f}")


if __name__ == "__main__":
    main()
