"""Soak: makerd live against the local venue for N minutes with a fault every 30 s.

A benchmark, not a test: it prints, it asserts nothing. The faults rotate through what the
fault suite (``tests/faults``) tries one at a time: kill -9 with fills while makerd is down,
an address rate limit, a dropped user stream, slow answers, refused actions, HTTP errors
and connection resets, an IP rate limit, the exchange's dead-man switch firing, a refused
dead-man re-arm, a taker sweep and a price jump. At the end it stops makerd with SIGTERM
and prints, from the venue's own records: fills at the venue against fills in the journal,
the highest open-order count, the time to recover from each fault (median and max), and
RSS and open file descriptors of the makerd process at start and end.

Run from the repository root: ``python bench/soak.py --minutes 15`` (``--every 30``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.faults.kit import OPEN_ORDER_BOUND, FaultVenue, LiveBot, now_ms
from tests.processes import MakerdProcess

RECOVERY_LIMIT_S = 60.0
QUOTING_AGAIN = 2
"""Recovered: the venue accepted an order or a modify of this account after the fault
ended (makerd quotes again) and holds at least this many of its orders (quotes rest)."""
NEW_RISK = ("order", "modify", "batchModify")
"""Any accepted action once counted: a dead-man re-arm accepted a second after a rate
limit ended, over a ladder left resting, read as recovered while quoting still waited."""


@dataclass
class Soak:
    bot: LiveBot
    venue: FaultVenue
    process: MakerdProcess
    recoveries: dict[str, list[float]] = field(default_factory=dict)
    unrecovered: Counter[str] = field(default_factory=Counter)
    resources: list[tuple[str, int, float, int]] = field(default_factory=list)

    def sample(self, when: str) -> None:
        if self.process.proc.poll() is not None:
            return  # gone: reported by ended_on_its_own
        pid = self.process.proc.pid
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kb = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        self.resources.append((when, pid, rss_kb / 1024, fds))

    def ended_on_its_own(self) -> bool:
        """makerd should only end when the soak stops it: say how it ended, restart it."""
        code = self.process.proc.poll()
        if code is None:
            return False
        self.bot.exits.append(code)
        print(f"makerd exited by itself with {code}; its last lines:", flush=True)
        print("".join(self.process.output[-40:]), flush=True)
        self.process = self.bot.start()
        return True

    def kill_and_restart(self) -> float:
        self.sample("before kill -9")
        self.bot.kill_9(self.process)
        side = random.choice(["buy", "sell"])
        self.venue.fault(sweep={"user": self.bot.address, "side": side})
        threading.Event().wait(2.0)  # a short RestartSec
        self.process = self.bot.start()
        return 2.0

    def recover(self, name: str, fault_ends_ms: int) -> None:
        def quoting() -> bool:
            record = self.bot.record()
            talking = any(a["accepted"] for a in record.actions_after(fault_ends_ms, *NEW_RISK))
            return talking and record.open_orders >= QUOTING_AGAIN

        started = time.monotonic()
        pause = threading.Event()
        while not quoting():
            if (
                time.monotonic() - started > RECOVERY_LIMIT_S
                or self.process.proc.poll() is not None
            ):
                self.unrecovered[name] += 1
                return
            pause.wait(0.05)
        took = max(0.0, time.time() - fault_ends_ms / 1000)
        self.recoveries.setdefault(name, []).append(took)


def _faults(soak: Soak) -> list[tuple[str, Callable[[], float]]]:
    """(name, inject) pairs; inject returns how long the fault lasts, in seconds."""
    venue, user = soak.venue, soak.bot.address

    def arm(seconds: float, **body: object) -> Callable[[], float]:
        def inject() -> float:
            venue.fault(**body)
            return seconds

        return inject

    return [
        ("kill -9, fills while down", soak.kill_and_restart),
        ("address rate limit 8 s", arm(8.0, rate_limit_for_s=8.0, rate_limit_kind="address")),
        ("user stream dropped", arm(0.0, drop_stream="user")),
        ("answers 6 s late for 10 s", arm(10.0, delay_exchange_s=6.0, delay_for_s=10.0)),
        ("3 actions refused", arm(0.0, reject_next=3)),
        ("HTTP 502 x5 and resets x3", arm(0.0, http_error_next=5, reset_next=3)),
        ("IP rate limit 5 s", arm(5.0, rate_limit_for_s=5.0, rate_limit_kind="ip")),
        ("dead-man switch fired", arm(0.0, fire_scheduled_cancel=True, user=user)),
        ("dead-man re-arm refused", arm(0.0, reject_next=1, reject_action_type="scheduleCancel")),
        ("taker sweep", arm(0.0, sweep={"user": user, "side": "buy"})),
        ("price jump 0.5%", arm(0.0, jump_pct=0.5)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between faults")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    random.seed(args.seed)

    running = VenueThread(
        VenueConfig(port=0, auto_provision=True, seed=args.seed, tick_interval_s=0.1)
    )
    running.start()
    venue = FaultVenue(running.url)
    with tempfile.TemporaryDirectory(prefix="makerd-soak-") as tmp:
        bot = LiveBot(Path(tmp), venue, hyperliquid={"start_retry_s": 60.0})
        soak = Soak(bot=bot, venue=venue, process=bot.start())
        bot.wait_resting(soak.process, at_least=QUOTING_AGAIN, timeout_s=60)
        soak.sample("start")
        faults = _faults(soak)
        deadline = time.monotonic() + args.minutes * 60
        pause = threading.Event()
        index = 0
        while time.monotonic() + args.every < deadline:
            pause.wait(args.every)
            name, inject = faults[index % len(faults)]
            index += 1
            if soak.ended_on_its_own():
                continue
            began_ms = now_ms()
            lasts_s = inject()
            soak.recover(name, began_ms + int(lasts_s * 1000))
            print(f"{time.strftime('%H:%M:%S')} {name}: injected", flush=True)
        soak.sample("end")
        code = bot.stop(soak.process, timeout_s=90)
        _report(soak, code, index)
    running.stop()


def _report(soak: Soak, code: int, injected: int) -> None:
    record, bot = soak.bot.record(), soak.bot
    journal = bot.journal_trade_ids()
    twice = sum(1 for n in Counter(journal).values() if n > 1)
    missing = len(set(record.trade_ids) - set(journal))
    print(f"\nfaults injected      {injected}")
    print(f"kill -9 restarts     {sum(1 for code in bot.exits if code < 0)}")
    print(f"exit code            {code} (exits: {bot.exits})")
    print(f"fills at the venue   {len(record.trade_ids)}")
    print(f"fills in the journal {len(journal)} (missing {missing}, booked twice {twice})")
    print(f"position             venue {record.position} journal {bot.journal_position()}")
    print(f"position adjustments {bot.journal_adjustments()}")
    print(f"open orders at end   {record.open_orders}")
    print(f"highest open orders  {record.peak_open_orders} (bound {OPEN_ORDER_BOUND})")
    print("\n| fault | count | recovery median s | max s | not recovered |")
    print("|---|---|---|---|---|")
    for name in sorted(set(soak.recoveries) | set(soak.unrecovered)):
        times = soak.recoveries.get(name, [])
        median = f"{statistics.median(times):.2f}" if times else "-"
        worst = f"{max(times):.2f}" if times else "-"
        print(f"| {name} | {len(times)} | {median} | {worst} | {soak.unrecovered[name]} |")
    print("\n| when | pid | RSS MiB | open fds |")
    print("|---|---|---|---|")
    for when, pid, rss, fds in soak.resources:
        print(f"| {when} | {pid} | {rss:.1f} | {fds} |")


if __name__ == "__main__":
    main()
