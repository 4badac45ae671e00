"""How long makerd takes to see a trader's taker trade on its own coin and account.

A real ``makerd run`` (live) quotes BTC on the local venue; a trader on the same account
(an approved agent wallet) sends TRADES IOC buys of 0.003 BTC through the book. For each,
the seconds from the IOC's answer until ``makerd ctl status`` shows the venue's position
are printed, then the median and the median against the 2 s a fill of an unknown order
was held for its order's answer (no answer of makerd's ever names a trader's order: it
was held the whole 2 s, and the limits and the skew judged a stale position meanwhile).

    python bench/bench_trader_fill.py --trades 5

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.venue import _FILL_HOLD_NS as HOLD_NS
from tests.faults.kit import FaultVenue, LiveBot, poll
from tests.faults.test_others_on_the_account import ctl_json
from tests.faults.trader import Trader


def seen_after(bot: LiveBot, trader: Trader) -> float:
    """Seconds from a trader's IOC answer until makerd's position is the venue's."""
    trader.take(buy=True, size=Decimal("0.003"))
    started = time.monotonic()

    def booked() -> bool:
        return Decimal(ctl_json(bot, "status")["position"]) == bot.record().position

    poll(booked, timeout_s=10, what="makerd's position the venue's", step_s=0.02)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=5)
    args = parser.parse_args()
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=17, tick_interval_s=0.1))
    running.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bot = LiveBot(Path(tmp), FaultVenue(running.url))
            trader = Trader(bot)
            process = bot.quoting()
            pause = threading.Event()  # never set: a timed wait between trades
            delays = []
            for _ in range(args.trades):
                delays.append(seen_after(bot, trader))
                print(f"trader's fill seen after {delays[-1]:.3f} s", flush=True)
                pause.wait(1.0)
            bot.stop(process)
    finally:
        running.stop()
    median = statistics.median(delays)
    hold_s = HOLD_NS / 1e9
    print(f"median {median:.3f} s; {median / hold_s:.2f} of the {hold_s:.0f} s hold")


if __name__ == "__main__":
    main()
