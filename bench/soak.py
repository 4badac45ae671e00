"""Soak: makerd live against the local venue for N minutes with a fault every 30 s.

A benchmark, not a test: it prints, it asserts nothing. The faults rotate through what the
fault suite (``tests/faults``) tries one at a time: kill -9 with fills while makerd is down,
an address rate limit, a dropped user stream, slow answers, refused actions, HTTP errors
and connection resets, an IP rate limit, the exchange's dead-man switch firing, a refused
dead-man re-arm, a taker sweep, a price jump, a step of makerd's host clock (60 s
ahead, then put right: only makerd's clock is stepped, see ``tests/faults/host_clock.py``;
a makerd restarted after it reads the same clock), and a trader acting by hand on the
account (an order rested on makerd's coin, which makerd must cancel; a taker trade, which
it must book): ``tests/faults/trader.py``, approved before makerd starts; and the
exchange capping a coin's open interest for 10 s (makerd holds it reduce-only, no kill
switch), or halting a coin's trading for 10 s (makerd holds it with no orders for
``risk.market_halt_hold_s``, 10 s here, no kill switch). At the end it
stops makerd with SIGTERM and prints, from the venue's own records: fills at the venue
against fills in the journal, the highest open-order count, the time to recover from each
fault (median and max), and RSS and open file descriptors of the makerd process at start
and end.

``--coins BTC ETH xyz:TSLA`` quotes several coins in one process (each sized for its price,
see ``bench/soak_coins.py``): the coins share one request budget, one user stream, one
dead-man switch and one stop sweep. A taker sweep and a price jump then rotate over the
coins, quoting again means every coin rests orders, and the figures that are per coin
(fills venue vs journal, position, open orders against each coin's bound) are printed per
coin, with every invariant a coin broke named at the end.

Run from the repository root: ``python bench/soak.py --minutes 15`` (``--every 30``,
``--coins BTC``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
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

from soak_coins import Targets, coin_figures, coin_sections, print_coin_table

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.faults.host_clock import SteppedClock
from tests.faults.kit import OPEN_ORDER_BOUND, FaultVenue, LiveBot, now_ms, poll
from tests.faults.trader import Trader
from tests.processes import MakerdProcess

RECOVERY_LIMIT_S = 60.0
OPEN_INTEREST_CAP_S = 10.0
"""The exchange refuses orders that could grow a position on the coin that long; makerd
holds it reduce-only for ``risk.open_interest_cap_hold_s`` (30 s) from the last refusal."""
HALT_S = 10.0
"""The exchange refuses every order of the coin that long."""
HALT_HOLD_S = 10.0
"""``risk.market_halt_hold_s`` for the soak: a halt's recovery then fits its limit (the
default 60 s hold would end after it)."""
CLOCK_STEP_S = 60
QUOTING_AGAIN = 2
"""Recovered: the venue accepted an order or a modify of this account after the fault
ended (makerd quotes again) and holds at least this many of its orders in every coin
(quotes rest again)."""
NEW_RISK = ("order", "modify", "batchModify")
"""Any accepted action once counted: a dead-man re-arm accepted a second after a rate
limit ended, over a ladder left resting, read as recovered while quoting still waited."""


@dataclass
class Soak:
    bot: LiveBot
    venue: FaultVenue
    clock: SteppedClock
    process: MakerdProcess
    targets: Targets
    trader: Trader
    recoveries: dict[str, list[float]] = field(default_factory=dict)
    unrecovered: Counter[str] = field(default_factory=Counter)
    resources: list[tuple[str, int, float, int]] = field(default_factory=list)
    runs: list[MakerdProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.runs.append(self.process)

    def restart(self) -> None:
        self.process = self.bot.start(env=self.clock.env)
        self.runs.append(self.process)

    def keep(self, directory: Path) -> None:
        """Each makerd's output and the journal, for reading after the run."""
        directory.mkdir(parents=True, exist_ok=True)
        for number, run in enumerate(self.runs, start=1):
            (directory / f"makerd-{number}.log").write_text(run.text)
        shutil.copytree(self.bot.state, directory / "state", dirs_exist_ok=True)

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
        self.restart()
        return True

    def kill_and_restart(self, coin: str) -> float:
        self.sample("before kill -9")
        self.bot.kill_9(self.process)
        side = random.choice(["buy", "sell"])
        self.venue.fault(sweep={"user": self.bot.address, "side": side, "coin": coin})
        threading.Event().wait(2.0)  # a short RestartSec
        self.restart()
        return 2.0

    def quoting(self, since_ms: int) -> bool:
        """The venue accepted an order or a modify since ``since_ms`` and every coin rests
        orders."""
        record = self.bot.record()
        talking = any(a["accepted"] for a in record.actions_after(since_ms, *NEW_RISK))
        resting = (record.open_by_coin.get(coin, 0) for coin in self.targets.coins)
        return talking and min(resting) >= QUOTING_AGAIN

    def recover(self, name: str, fault_ends_ms: int) -> None:
        started = time.monotonic()
        pause = threading.Event()
        while not self.quoting(fault_ends_ms):
            if (
                time.monotonic() - started > RECOVERY_LIMIT_S
                or self.process.proc.poll() is not None
            ):
                self.unrecovered[name] += 1
                return
            pause.wait(0.05)
        took = max(0.0, time.time() - fault_ends_ms / 1000)
        self.recoveries.setdefault(name, []).append(took)


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    inject: Callable[[str], float]
    """Given the coin it targets (of the rotation), returns how long it lasts, in seconds."""
    targets_a_coin: bool = False


def _faults(soak: Soak) -> list[Fault]:
    venue, user = soak.venue, soak.bot.address

    def arm(seconds: float, **body: object) -> Callable[[str], float]:
        def inject(_coin: str) -> float:
            venue.fault(**body)
            return seconds

        return inject

    def sweep(coin: str) -> float:
        venue.fault(sweep={"user": user, "side": "buy", "coin": coin})
        return 0.0

    def jump(coin: str) -> float:
        venue.fault(jump_pct=0.5, coin=coin)
        return 0.0

    def step_clock(_coin: str) -> float:
        soak.clock.set(0 if soak.clock.offset_s else CLOCK_STEP_S)
        return 0.0

    def rest_by_hand(coin: str) -> float:
        """A trader's order on the coin: the time until makerd cancelled it is its own
        figure; the fault lasts until then."""
        began = time.monotonic()
        oid = soak.trader.rest(coin, buy=random.random() < 0.5)
        gone = lambda: oid not in soak.trader.resting_oids(coin)  # noqa: E731
        poll(gone, timeout_s=RECOVERY_LIMIT_S, what="the trader's order cancelled")
        took = time.monotonic() - began
        soak.recoveries.setdefault(f"trader's order on {coin} cancelled", []).append(took)
        return 0.0

    def cap_open_interest(coin: str) -> float:
        venue.fault(open_interest_cap_s=OPEN_INTEREST_CAP_S, coin=coin)
        return OPEN_INTEREST_CAP_S

    def halt(coin: str) -> float:
        venue.fault(halt_s=HALT_S, coin=coin)
        return HALT_S

    def take_by_hand(coin: str) -> float:
        bid, _ask = soak.trader.touch(coin)
        soak.trader.take(buy=random.random() < 0.5, size=soak.trader.worth(coin, bid), coin=coin)
        return 0.0

    return [
        Fault("kill -9, fills while down", soak.kill_and_restart, targets_a_coin=True),
        Fault("address rate limit 8 s", arm(8.0, rate_limit_for_s=8.0, rate_limit_kind="address")),
        Fault("user stream dropped", arm(0.0, drop_stream="user")),
        Fault("answers 6 s late for 10 s", arm(10.0, delay_exchange_s=6.0, delay_for_s=10.0)),
        Fault("3 actions refused", arm(0.0, reject_next=3)),
        Fault("HTTP 502 x5 and resets x3", arm(0.0, http_error_next=5, reset_next=3)),
        Fault("IP rate limit 5 s", arm(5.0, rate_limit_for_s=5.0, rate_limit_kind="ip")),
        Fault("dead-man switch fired", arm(0.0, fire_scheduled_cancel=True, user=user)),
        Fault(
            "dead-man re-arm refused",
            arm(0.0, reject_next=1, reject_action_type="scheduleCancel"),
        ),
        Fault("taker sweep", sweep, targets_a_coin=True),
        Fault("price jump 0.5%", jump, targets_a_coin=True),
        Fault("host clock stepped 60 s (ahead, then back)", step_clock),
        Fault("trader's order by hand", rest_by_hand, targets_a_coin=True),
        Fault("trader's taker trade by hand", take_by_hand, targets_a_coin=True),
        Fault("open-interest cap 10 s", cap_open_interest, targets_a_coin=True),
        Fault("trading halted 10 s", halt, targets_a_coin=True),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between faults")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--coins", nargs="+", default=["BTC"], help="coins quoted in one process (BTC)"
    )
    parser.add_argument("--keep", type=Path, help="a directory for makerd's output and journal")
    args = parser.parse_args()
    random.seed(args.seed)
    targets = Targets(tuple(args.coins))

    running = VenueThread(
        VenueConfig(port=0, auto_provision=True, seed=args.seed, tick_interval_s=0.1)
    )
    running.start()
    venue = FaultVenue(running.url)
    with tempfile.TemporaryDirectory(prefix="makerd-soak-") as tmp:
        overrides = {
            "hyperliquid": {"start_retry_s": 60.0},
            "risk": {"market_halt_hold_s": HALT_HOLD_S},
            **coin_sections(targets.coins),
        }
        bot = LiveBot(Path(tmp), venue, **overrides)
        trader = Trader(bot)  # its agent approved before makerd signs anything
        clock = SteppedClock(Path(tmp))
        process = bot.start(env=clock.env)
        soak = Soak(
            bot=bot, venue=venue, clock=clock, process=process, targets=targets, trader=trader
        )
        poll(
            lambda: soak.quoting(bot.started_ms),
            timeout_s=60,
            what="every coin quoting",
            process=soak.process,
        )
        soak.sample("start")
        faults = _faults(soak)
        deadline = time.monotonic() + args.minutes * 60
        pause = threading.Event()
        index = 0
        while time.monotonic() + args.every < deadline:
            pause.wait(args.every)
            fault = faults[index % len(faults)]
            index += 1
            if soak.ended_on_its_own():
                continue
            coin = targets.next(fault.name) if fault.targets_a_coin else ""
            name = targets.named(fault.name, coin) if coin else fault.name
            began_ms = now_ms()
            lasts_s = fault.inject(coin)
            soak.recover(name, began_ms + int(lasts_s * 1000))
            print(f"{time.strftime('%H:%M:%S')} {name}: injected", flush=True)
        soak.sample("end")
        code = bot.stop(soak.process, timeout_s=90)
        _report(soak, code, index)
        if args.keep is not None:
            soak.keep(args.keep)
    running.stop()


def _report(soak: Soak, code: int, injected: int) -> None:
    record, bot, coins = soak.bot.record(), soak.bot, soak.targets.coins
    journal = [trade for coin in coins for trade in bot.journal_trade_ids(coin)]
    twice = sum(1 for n in Counter(journal).values() if n > 1)
    missing = len(set(record.trade_ids) - set(journal))
    print(f"\nfaults injected      {injected}")
    print(f"kill -9 restarts     {sum(1 for code in bot.exits if code < 0)}")
    print(f"exit code            {code} (exits: {bot.exits})")
    print(f"fills at the venue   {len(record.trade_ids)}")
    print(f"fills in the journal {len(journal)} (missing {missing}, booked twice {twice})")
    if len(coins) == 1:
        venue_position = record.positions.get(coins[0])
        print(
            f"position             venue {venue_position} journal {bot.journal_position(coins[0])}"
        )
    print(f"position adjustments {bot.journal_adjustments()}")
    print(f"open orders at end   {record.open_orders}")
    bound = OPEN_ORDER_BOUND * len(coins)
    print(f"highest open orders  {record.peak_open_orders} (bound {bound})")
    if len(coins) > 1:
        figures = [coin_figures(bot, record, coin) for coin in coins]
        print_coin_table(figures)
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
    if len(coins) > 1:
        broken = [problem for f in figures for problem in f.broken()]
        broken += [f"{name}: not recovered {n}x" for name, n in soak.unrecovered.items() if n]
        broken += [] if code == 0 else [f"exit {code} after SIGTERM"]
        print("\ninvariants: " + ("every one holds" if not broken else "; ".join(broken)))


if __name__ == "__main__":
    main()
