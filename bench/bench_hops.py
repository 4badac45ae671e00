"""Thread hand-offs between supervised actors: the cost of one ``tell`` across threads.

A chain of ``--actors`` supervised actors passes each message on to the next; the last
one stamps its arrival. A message leaves every ``--gap-ms`` (so each hop wakes an idle
thread, as a book does on the tick-to-order path) and the time from the first ``tell``
to the last actor's handler, divided by the number of hops, is one hop's cost. The chain
runs twice in the same process, alternating rounds: with the inbox makerd's actors use
(``queue.SimpleQueue``, see ``supervision.child``) and with pykka's default
(``queue.Queue``), so a busy machine weighs on both alike. Prints p50 / p90 / p99 per hop
of each. A benchmark, not a test: it prints, it asserts nothing.

Run from the repository root: ``python bench/bench_hops.py`` (``--messages 2000
--actors 3 --gap-ms 1 --rounds 4``).
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from typing import Any

import numpy as np
import pykka

from makerd.supervision.child import ExitReport
from makerd.supervisor import ChildHandle, SupervisedActor


class Arrivals:
    """When each message reached the end of the chain (written by the last link only)."""

    def __init__(self) -> None:
        self.times: dict[int, int] = {}
        self.done = threading.Event()


class Link(SupervisedActor):
    """Passes each message to ``next_ref``; the last link records when it arrived."""

    use_daemon_thread = True

    def __init__(
        self, handle: ChildHandle, *, next_ref: pykka.ActorRef[Any] | None, arrivals: Arrivals
    ) -> None:
        super().__init__(handle)
        self._next = next_ref
        self._arrivals = arrivals

    def on_receive(self, message: Any) -> Any:
        if self._next is not None:
            self._next.tell(message)
            return None
        self._arrivals.times[message] = time.perf_counter_ns()
        self._arrivals.done.set()
        return None


class DefaultInboxLink(Link):
    """The same link with pykka's own inbox."""

    @staticmethod
    def _create_actor_inbox() -> queue.Queue[Any]:  # type: ignore[override]
        return queue.Queue()


def chain(kind: type[Link], length: int, arrivals: Arrivals) -> list[pykka.ActorRef[Any]]:
    reports: list[ExitReport] = []
    refs: list[pykka.ActorRef[Any]] = []
    next_ref: pykka.ActorRef[Any] | None = None
    for index in reversed(range(length)):
        handle = ChildHandle(role=f"link{index}", generation=1, sink=reports.append)
        next_ref = kind.start(handle, next_ref=next_ref, arrivals=arrivals)
        refs.insert(0, next_ref)
    return refs


def run_once(kind: type[Link], args: argparse.Namespace) -> list[float]:
    arrivals = Arrivals()
    refs = chain(kind, args.actors, arrivals)
    pause = threading.Event()
    sent: dict[int, int] = {}
    try:
        for index in range(args.messages):
            arrivals.done.clear()
            sent[index] = time.perf_counter_ns()
            refs[0].tell(index)
            arrivals.done.wait(1.0)
            pause.wait(args.gap_ms / 1000)
    finally:
        for ref in refs:
            ref.stop()
    hops = args.actors  # the first tell crosses into the chain, then one tell per link
    return [(arrivals.times[i] - sent[i]) / hops / 1e3 for i in sent if i in arrivals.times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--actors", type=int, default=3)
    parser.add_argument("--gap-ms", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    kinds = {"SimpleQueue (makerd)": Link, "Queue (pykka default)": DefaultInboxLink}
    results: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(args.rounds):
        for name, kind in kinds.items():
            results[name].extend(run_once(kind, args))
    print(f"{args.actors} hops a message, {args.messages * args.rounds} messages each")
    print(f"{'inbox':<24}{'p50 µs':>8}{'p90 µs':>8}{'p99 µs':>8}  (per hop)")
    for name, values in results.items():
        p50, p90, p99 = np.percentile(np.array(values), (50, 90, 99))
        print(f"{name:<24}{p50:>8.1f}{p90:>8.1f}{p99:>8.1f}")


if __name__ == "__main__":
    main()
