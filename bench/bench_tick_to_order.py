"""Tick to order: a WebSocket frame read → the signed action's bytes handed to the socket.

The real live path in one process: makerd's own local venue (``makerd venue``, a 20 ms
book cadence) on loopback, the market feed decoding its frames, the supervised actors
(book_feed, quoter and order_manager, with the fill tracker, risk guardian, watchdog,
observer and ticker running beside them as in ``makerd run``), and the Hyperliquid
adapter signing each action and posting it. The venue's price jumps by ``--jump-pct``
every ``--jump-every`` seconds, alternately up and down, so the ladder has to move.

Each action is matched to the frame whose book the order manager decided it on (an
order command's ``ts_local`` is that frame's receive time), and stamps on the way
(``time.time_ns``, the clock the feed stamps frames with) split the time:

- decode: frame read → the book handed to the router (I/O thread: decode, parse, checks)
- to book_feed: → the book_feed's thread takes the book (the hand-off between threads)
- book_feed: → ``BookUpdated`` routed (its checks)
- to quoter: → the quoter's thread takes the book (the hand-off: the book_feed's thread
  telling the others and the observer, the quoter's wake-up, the GIL)
- quoter: → ``QuoteTarget`` routed (model, legalize)
- order manager: → the first order command handed to the venue (hand-off, diff, bound)
- to I/O thread: → the I/O loop's thread takes the command (``call_soon_threadsafe``, the
  loop's wake-up, the GIL: the order manager's thread still routing the target's changes)
- venue adapter: → signing starts (the command's task starts, the gateway builds the action)
- signing: → signed
- send: → the request's bytes handed to the socket (JSON body, HTTP client)

Only frames that led to an order action count (most books move nothing). Prints the
total's p50 / p90 / p99 / max, each stage's p50 / p90, and the CPU the process (every
thread, the venue's process aside) used while the price jumped; then the process's context
switches a second, and the tells a second that queued a message for an actor (each a
wake-up of its thread at most), by receiver and message kind. A benchmark, not a test: it
prints, it asserts nothing. Run from the repository root:
``python bench/bench_tick_to_order.py`` (``--seconds 30 --jump-every 0.5 --seed 7``).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import printing_tree
from bench_reaction import Venue
from cpu_latency import held_cpu_latency

from makerd.actors.gate import TradingGate
from makerd.actors.route_switch import RouteSwitch, books_to_risk
from makerd.actors.router import Router, SlotKey, SlotReady
from makerd.actors.routing import BOOK_FEED, QUOTER
from makerd.config.model import MakerdConfig, Mode
from makerd.daemon.basket import Basket
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.merged_metrics import coin_metrics_in
from makerd.daemon.observer import Observer
from makerd.daemon.timers import Ticker
from makerd.daemon.wiring import Dependencies
from makerd.protocol.clock import WallClock
from makerd.protocol.market import BookSnapshotReceived, BookUpdated
from makerd.protocol.orders import CancelOrders, ModifyOrders, PlaceOrders, QuoteTarget
from makerd.venues.hyperliquid.probe import SendStage
from makerd.venues.hyperliquid.venue import HyperliquidVenue

STAGES = (
    "decode",
    "to book_feed",
    "book_feed",
    "to quoter",
    "quoter",
    "order manager",
    "to I/O thread",
    "venue adapter",
    "signing",
    "send",
)
_ROUTED = {
    BookUpdated: "book_feed",
    QuoteTarget: "quoter",
    PlaceOrders: "order manager",
    ModifyOrders: "order manager",
    CancelOrders: "order manager",
}
_SENT = {
    SendStage.TAKEN: "to I/O thread",
    SendStage.SIGNING: "venue adapter",
    SendStage.SIGNED: "signing",
    SendStage.WRITTEN: "send",
}
_TAKEN = {BOOK_FEED: "to book_feed", QUOTER: "to quoter"}
"""The roles whose taking of a book (a conflated slot) ends a hand-off on the path."""
WARMUP_S = 6.0


class Stamps:
    """When each frame's work left each stage: the first time only (one frame, one path)."""

    def __init__(self) -> None:
        self.by_frame: dict[int, dict[str, int]] = {}
        self.recording = False
        self.cpu_share = 0.0
        """The process's CPU time (every thread) over the recording's wall time."""
        self.seconds = 0.0
        self.context_switches = 0
        """The process's (every thread's) voluntary and involuntary, while recording."""
        self.wakeups: Counter[str] = Counter()
        """Tells that queued a message (each may wake the receiver's thread), by receiver
        and kind; a conflated message already waiting for its receiver wakes nothing."""
        self._lock = threading.Lock()

    def woke(self, role: str, kind: type) -> None:
        if self.recording:
            with self._lock:
                self.wakeups[f"{role} <- {kind.__name__}"] += 1

    def mark(self, stage: str, frame_ns: int) -> None:
        if self.recording:
            # dict.setdefault is one step under the GIL: safe from every thread.
            self.by_frame.setdefault(frame_ns, {}).setdefault(stage, time.time_ns())

    def stamp(self, stage: SendStage, decided_ns: int) -> None:
        self.mark(_SENT[stage], decided_ns)


class StampingRouter(Router):
    """The real router, stamping the messages on the frame-to-order path as they leave,
    and the books as the book_feed and the quoter take them from their slots."""

    def __init__(self, stamps: Stamps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stamps = stamps

    def dispatch(self, message: object) -> None:
        stage = _ROUTED.get(type(message))
        if isinstance(message, BookSnapshotReceived | BookUpdated):
            # The first of the two to leave marks the decode's end, so a feed that handed
            # the quoter its BookUpdated itself would show a book_feed stage of 0.
            self._stamps.mark("decode", message.ts_local)
        if isinstance(message, QuoteTarget):
            self._stamps.mark("quoter", message.book_ts_local)
        elif stage is not None:
            self._stamps.mark(stage, message.ts_local)  # type: ignore[attr-defined]
        super().dispatch(message)

    def _tell_ref(self, role: str, message: object) -> bool:
        self._stamps.woke(role, message.key[1] if isinstance(message, SlotReady) else type(message))
        return super()._tell_ref(role, message)

    def take(self, key: SlotKey) -> object | None:
        message = super().take(key)
        stage = _TAKEN.get(key[0])
        if stage is not None and isinstance(message, BookSnapshotReceived | BookUpdated):
            self._stamps.mark(stage, message.ts_local)
        return message


def run(args: argparse.Namespace) -> Stamps:
    import eth_account

    venue = Venue(args.seed)
    wallet = eth_account.Account.create()
    venue.post("/_debug/accounts", {"address": wallet.address.lower()})
    stamps = Stamps()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _trade(args, venue, wallet.key.hex(), Path(tmp), stamps)
    finally:
        venue.stop()
    return stamps


def _trade(args: argparse.Namespace, venue: Venue, key: str, tmp: Path, stamps: Stamps) -> None:
    base = MakerdConfig()
    config = dataclasses.replace(
        base,
        mode=Mode.LIVE,
        state_dir=tmp,
        hyperliquid=dataclasses.replace(base.hyperliquid, api_url=venue.url),
    )
    clock, gate = WallClock(), TradingGate()
    live = HyperliquidVenue(
        config, clock=clock, env={"MAKERD_PRIVATE_KEY": key}, gate=gate, probe=stamps
    )
    basket = Basket.of(config)
    journal = Journal(tmp / "journal.sqlite")
    metrics = coin_metrics_in(CollectorRegistry(), mode="live", coins=basket.coins)
    observer = Observer(
        metrics=metrics[config.coin],
        clock=clock,
    )
    holder: dict[str, Any] = {}
    books = RouteSwitch()
    router = StampingRouter(
        stamps,
        resolve=lambda role: holder["sup"].ref(role),  # noqa: PLW0108  (built below)
        venue=live,
        observer=observer,
        gate=gate,
        switches=books_to_risk(books),
    )
    deps = Dependencies(
        config=config,
        instrument=live.instrument,
        journal=journal,
        session_id=journal.start_session(mode="bench", coin=config.coin, ts_ns=clock.now_ns()),
        latch=KillSwitchLatch(tmp),
        new_cloid=basket.cloids.factories[config.coin],
        clock=clock,
        gate=gate,
        account=live.account_id,
        books_to_risk=books,
    )
    supervisor = printing_tree(config, deps, basket, live.instruments, router)
    holder["sup"] = supervisor
    ticker = Ticker(clock=clock, interval_s=0.1, roles=basket.actor_names(), send=router.tell)
    live.start(router.dispatch)
    supervisor.start()
    ticker.start()
    pause = threading.Event()
    try:
        pause.wait(WARMUP_S)  # orphans checked, the dead-man switch armed, the ladder placed
        stamps.recording = True
        cpu_started, wall_started = time.process_time(), time.monotonic()
        switches_started = _context_switches()
        ends = wall_started + args.seconds
        sign = 1
        while time.monotonic() < ends:
            pause.wait(args.jump_every)
            venue.post("/_debug/faults", {"jump_pct": sign * args.jump_pct, "coin": config.coin})
            sign = -sign
        stamps.recording = False
        stamps.seconds = time.monotonic() - wall_started
        stamps.cpu_share = (time.process_time() - cpu_started) / stamps.seconds
        stamps.context_switches = _context_switches() - switches_started
    finally:
        ticker.stop()
        gate.close("bench over")
        supervisor.stop()
        live.stop(orders_confirmed_gone=False)
        journal.close()


def _context_switches() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw + usage.ru_nivcsw


def report_wakeups(stamps: Stamps) -> None:
    seconds = stamps.seconds or 1.0
    total = sum(stamps.wakeups.values())
    print(f"context switches of the process: {stamps.context_switches / seconds:.0f}/s")
    print(f"tells that queued a message (thread wake-ups at most): {total / seconds:.0f}/s")
    for key, count in stamps.wakeups.most_common(12):
        print(f"  {count / seconds:7.1f}/s  {key}")


def report(stamps: Stamps) -> None:
    rows = []
    for frame_ns, marks in stamps.by_frame.items():
        if all(stage in marks for stage in STAGES):
            points = [frame_ns, *(marks[stage] for stage in STAGES)]
            rows.append([b - a for a, b in itertools.pairwise(points)])
    if not rows:
        print("no frame led to an order action")
        return
    table = np.array(rows, dtype=np.float64) / 1e3
    total = table.sum(axis=1)
    p50, p90, p99 = np.percentile(total, (50, 90, 99))
    print(f"{len(rows)} frames led to an order action (of {len(stamps.by_frame)} stamped)")
    print(f"tick to order µs: p50 {p50:.0f}  p90 {p90:.0f}  p99 {p99:.0f}  max {total.max():.0f}")
    print(f"CPU of the process (every thread, not the venue's): {stamps.cpu_share:.1%} of a core")
    print(f"{'stage':<14} {'p50 µs':>7} {'p90 µs':>7}")
    for index, stage in enumerate(STAGES):
        s50, s90 = np.percentile(table[:, index], (50, 90))
        print(f"{stage:<14} {s50:>7.0f} {s90:>7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--jump-every", type=float, default=0.5)
    parser.add_argument("--jump-pct", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--switch-interval-us", type=float, default=None, help="sys.setswitchinterval for the run"
    )
    parser.add_argument(
        "--hold-cpu-latency",
        type=int,
        default=None,
        metavar="US",
        help="hold a CPU latency request (µs) for the run (bench/cpu_latency.py)",
    )
    args = parser.parse_args()
    if args.switch_interval_us is not None:
        sys.setswitchinterval(args.switch_interval_us / 1e6)
    with held_cpu_latency(args.hold_cpu_latency) as held:
        print(held)
        stamps = run(args)
    report(stamps)
    report_wakeups(stamps)


if __name__ == "__main__":
    main()
