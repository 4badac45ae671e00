"""The order manager's share of the path to an order: one quote target in, its commands out.

Drives :class:`OrderManagerLogic` directly (no threads) with a seeded, realistic sequence:
a 3-level ladder around a mid that wanders by a few ticks every 20 ms and jumps 0.3 % now
and then; the venue answers every command (most before the next target, some one target
later: still pending), fills an order now and then, and the timer fires every 100 ms. Prints
the thread CPU time per quote target (median, p90, mean: back to back, so warm caches) and
a digest of everything the order manager sent, which two trees given the same seed must share.

Targets that send commands (those on the way from a tick to an order) are counted apart.
``--evict-mib 16`` pushes the caches out before each target, as the other threads of a live
process do: the figures come near those of the live run (``bench_tick_to_order``), and
spread more. ``--baseline TREE`` runs TREE's makerd and this tree's ``--pairs`` times, each
in its own process and each first in turn, and prints each pair, the ratio of the medians
and whether the digests match. Run from the repository root:
``python bench/bench_order_manager.py`` (``--targets 20000 --seed 7``; ``--baseline
../other-tree --pairs 4``; ``--targets 6000 --evict-mib 16``). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: a --baseline tree's makerd comes first

import makerd  # noqa: E402
from makerd.actors.order_manager import OrderManagerLogic  # noqa: E402
from makerd.config.model import OrderManagerConfig  # noqa: E402
from makerd.daemon.cloids import CloidFactory  # noqa: E402
from makerd.protocol.account import Liquidity, OrderFilled  # noqa: E402
from makerd.protocol.control import TimerFired  # noqa: E402
from makerd.protocol.instrument import Instrument  # noqa: E402
from makerd.protocol.orders import (  # noqa: E402
    CancelOrders,
    CancelReason,
    ModifyOrders,
    ModifyRejected,
    OpenOrder,
    OpenOrdersReported,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderModified,
    OrderRequest,
    PlaceOrders,
    QuoteLevel,
    QuoteTarget,
    RequestAccountSnapshot,
)
from makerd.protocol.rejections import RejectReason  # noqa: E402
from makerd.protocol.side import Side  # noqa: E402

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
LEVELS = 3
JUMP = Decimal("0.003")
JUMP_CHANCE = 0.005
"""A 0.3 % jump every 4 s on average (a target every 20 ms)."""
FILL_CHANCE = 0.02


@dataclass(slots=True)
class Resting:
    side: Side
    price: Decimal
    size: Decimal
    venue_order_id: int


@dataclass(slots=True)
class Market:
    """The seeded market: where the mid is, and what rests at the venue."""

    rng: random.Random
    mid: int = 60_000
    size: Decimal = Decimal("0.002")
    jump_up: bool = True
    venue_ids: int = 0
    resting: dict[str, Resting] = field(default_factory=dict)

    def next_target(self, now: int) -> QuoteTarget:
        """A few ticks' wander, a 0.3 % jump now and then, a size change (skew) rarely."""
        if self.rng.random() < JUMP_CHANCE:
            step = int(self.mid * JUMP)
            self.mid += step if self.jump_up else -step
            self.jump_up = not self.jump_up
        else:
            self.mid += self.rng.randint(-3, 3)
        if self.rng.random() < 0.01:
            self.size = Decimal("0.003") if self.size == Decimal("0.002") else Decimal("0.002")
        bids, asks = self._levels(-1), self._levels(1)
        return QuoteTarget(coin="BTC", bids=bids, asks=asks, book_ts_local=now, ts_local=now)

    def _levels(self, away: int) -> tuple[QuoteLevel, ...]:
        """One side's levels, 6, 14 and 22 ticks from the mid (1, 2.3 and 3.7 bps)."""
        prices = (self.mid + away * (6 + 8 * i) for i in range(LEVELS))
        return tuple(QuoteLevel(price=Decimal(price), size=self.size) for price in prices)

    def answers(self, sent: list[object], now: int) -> list[object]:
        """The venue's answer to each command (a modify gives the order a new leg)."""
        out: list[object] = []
        for command in sent:
            if isinstance(command, PlaceOrders):
                out += [self._accept(order, now) for order in command.orders]
            elif isinstance(command, ModifyOrders):
                out += [self._modify(amendment, now) for amendment in command.amendments]
            elif isinstance(command, CancelOrders):
                out += [self._cancel(cloid, command.reason, now) for cloid in command.cloids]
            elif isinstance(command, RequestAccountSnapshot):
                out.append(self._listing(now))
        return out

    def _accept(self, order: OrderRequest, now: int) -> OrderAccepted:
        self.venue_ids += 1
        self.resting[order.cloid] = Resting(order.side, order.price, order.size, self.venue_ids)
        return OrderAccepted(
            cloid=order.cloid, venue_order_id=self.venue_ids, coin="BTC", side=order.side,
            price=order.price, size=order.size, ts_exchange=now, ts_local=now,
        )  # fmt: skip

    def _modify(self, amendment: OrderAmendment, now: int) -> object:
        order = self.resting.get(amendment.cloid)
        if order is None:
            return ModifyRejected(
                cloid=amendment.cloid, reason=RejectReason.UNKNOWN_ORDER, message="gone",
                ts_exchange=now, ts_local=now,
            )  # fmt: skip
        self.venue_ids += 1
        order.price, order.size = amendment.price, amendment.size
        order.venue_order_id = self.venue_ids
        return OrderModified(
            cloid=amendment.cloid, venue_order_id=self.venue_ids, price=amendment.price,
            size=amendment.size, ts_exchange=now, ts_local=now,
        )  # fmt: skip

    def _cancel(self, cloid: str, reason: CancelReason, now: int) -> OrderCancelled:
        self.resting.pop(cloid, None)
        return OrderCancelled(cloid=cloid, reason=reason, ts_exchange=now, ts_local=now)

    def _listing(self, now: int) -> OpenOrdersReported:
        orders = tuple(
            OpenOrder(
                cloid=cloid,
                venue_order_id=order.venue_order_id,
                coin="BTC",
                side=order.side,
                price=order.price,
                size=order.size,
            )
            for cloid, order in self.resting.items()
        )
        return OpenOrdersReported(coin="BTC", orders=orders, ts_exchange=now, ts_local=now)

    def maybe_fill(self, now: int, n: int) -> list[object]:
        """Now and then a taker fills one resting order whole."""
        if not self.resting or self.rng.random() >= FILL_CHANCE:
            return []
        cloid = self.rng.choice(sorted(self.resting))
        order = self.resting.pop(cloid)
        fill = OrderFilled(
            trade_id=f"t{n}", cloid=cloid, venue_order_id=order.venue_order_id, coin="BTC",
            side=order.side, price=order.price, size=order.size, fee=Decimal(0),
            liquidity=Liquidity.MAKER, ts_exchange=now, ts_local=now,
        )  # fmt: skip
        return [fill]


class Evictor:
    """Between targets (outside the timing), work that pushes the order manager's code and
    data out of the CPU's caches, as the other threads of a live process do between its
    wake-ups: live, the same work costs about 3 times what it does back to back."""

    def __init__(self, mib: int) -> None:
        self._buffer = bytearray(mib << 20)
        self._strings = [str(n) for n in range(6_000 * mib)]

    def __call__(self) -> None:
        bytes(self._buffer)
        self._strings.sort(key=len)


def run(targets: int, seed: int, evict_mib: int = 0) -> dict[str, object]:
    """Drive one order manager through ``targets`` targets; its CPU per target and digest."""
    evict = Evictor(evict_mib) if evict_mib else None
    om = OrderManagerLogic(
        instrument=Instrument(coin="BTC", asset_id=0, sz_decimals=5),
        config=OrderManagerConfig(),
        new_cloid=CloidFactory(run_prefix=1),
        max_quote_orders=2 * LEVELS,
    )
    market = Market(rng=random.Random(seed))
    digest = hashlib.sha256()
    om.handle(OpenOrdersReported(coin="BTC", orders=(), ts_exchange=T0, ts_local=T0))
    late: list[object] = []
    cpu: list[int] = []
    acting: list[int] = []
    for n in range(targets):
        now = T0 + (n + 1) * 20 * MS
        message = market.next_target(now)
        if evict is not None:
            evict()
        began = time.thread_time_ns()
        sent = om.handle(message)
        cpu.append(time.thread_time_ns() - began)
        digest.update(repr(sent).encode())
        if any(isinstance(out, (PlaceOrders, ModifyOrders, CancelOrders)) for out in sent):
            acting.append(cpu[-1])
        answers = market.answers(sent, now + MS)
        # Most answers come before the next target; one in five a target later (pending).
        held = market.rng.random() < 0.2
        ready, late = (late, answers) if held else ([*late, *answers], [])
        ready += market.maybe_fill(now + 2 * MS, n)
        if n % 5 == 4:
            ready.append(TimerFired(ts_local=now + 3 * MS))
        for event in ready:
            out = om.handle(event)
            digest.update(repr(out).encode())
            late += market.answers(out, now + 4 * MS)
    cpu.sort()
    return {
        "tree": str(Path(makerd.__file__).resolve().parent.parent),
        "targets": targets,
        "acting": len(acting),
        "acting_median_us": statistics.median(acting) / 1e3,
        "median_us": statistics.median(cpu) / 1e3,
        "p90_us": cpu[int(len(cpu) * 0.9)] / 1e3,
        "mean_us": statistics.fmean(cpu) / 1e3,
        "digest": digest.hexdigest()[:16],
    }


def _worker(tree: Path, args: argparse.Namespace) -> dict[str, object]:
    command = [
        *(sys.executable, __file__, "--json", "--targets", str(args.targets)),
        *("--seed", str(args.seed), "--evict-mib", str(args.evict_mib)),
    ]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    figures: dict[str, object] = json.loads(done.stdout)
    return figures


def _line(name: str, figures: dict[str, object]) -> str:
    return (
        f"{name:9s} CPU per target: median {figures['median_us']:6.1f} µs, "
        f"p90 {figures['p90_us']:6.1f} µs, mean {figures['mean_us']:6.1f} µs  "
        f"{figures['acting']} acting: median {figures['acting_median_us']:6.1f} µs; "
        f"digest {figures['digest']}  ({figures['tree']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="a source tree to compare with")
    parser.add_argument("--pairs", type=int, default=3, help="with --baseline: runs of each")
    parser.add_argument(
        "--evict-mib",
        type=int,
        default=0,
        help="before each target, copy this many MiB and sort strings: caches as cold as live "
        "(16 gives about the live figures; 0: back to back, warm)",
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(run(args.targets, args.seed, args.evict_mib)))
        return
    caches = f"caches evicted ({args.evict_mib} MiB)" if args.evict_mib else "back to back"
    print(f"{args.targets:,} targets, seed {args.seed}, {LEVELS} levels a side, {caches}")
    if args.baseline is None:
        print(_line("makerd", run(args.targets, args.seed, args.evict_mib)))
        return
    ratios = []
    for pair in range(args.pairs):
        # Each tree goes first in turn: on this machine the second of two runs was the
        # faster by up to a tenth, the same code in both.
        if pair % 2 == 0:
            base = _worker(args.baseline.resolve(), args)
            this = _worker(ROOT, args)
        else:
            this = _worker(ROOT, args)
            base = _worker(args.baseline.resolve(), args)
        print(_line("baseline", base))
        print(_line("makerd", this))
        ratios.append(float(this["median_us"]) / float(base["median_us"]))  # type: ignore[arg-type]
        same = "same commands" if this["digest"] == base["digest"] else "DIFFERENT commands"
        print(f"  ratio of medians {ratios[-1]:.2f} ({same})")
    print(f"median ratio makerd / baseline: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
