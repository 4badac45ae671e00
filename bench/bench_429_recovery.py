"""How soon quoting resumes after a rate limit ends, measured at the local venue.

makerd runs live (a real process) against the local venue with the fault suite's config
(3 levels, a dead-man switch of ``--dead-man`` s: 10 by default, 0 off). Once its quotes
rest, each sample arms one fault and reads the venue's own stamps (``GET /_debug/stamps``,
its monotonic clock):

``--fault address``: every signed action is refused with the address rate-limit text for
``--window`` seconds (``ip``: every request answers HTTP 429). The figure is the time from
the window's end to the first accepted order action (an order or a modify) of the account.
Beside it: the account's actions refused in the window (each one spent into the limit) and
accepted in the 2 s after it (no burst when it ends) against the 2 s before it began.

``--fault http``: the next 5 requests answer HTTP 502 and the next 3 are reset. The figure
is the time from the last request so spoiled to the first accepted order action after it.

Each process takes ``--samples`` faults, ``--settle`` seconds apart; ``--runs`` processes
per tree. ``--tree`` names a checkout whose makerd the process runs (default: this one), so
two commits are compared on one machine in one run, processes alternating between them:

    python bench/bench_429_recovery.py --window 8 --runs 3 --samples 4 \\
        --tree . --tree ../wt-old

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_429_senders import backoffs, stamps, venue_now_ns

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.faults.kit import FaultVenue, LiveBot
from tests.processes import MakerdProcess

NS_PER_S = 1_000_000_000
ORDER_ACTIONS = frozenset({"order", "batchModify", "modify"})
HTTP_ERRORS = 5
RESETS = 3
HTTP_OK = 200
HTTP_TOO_MANY = 429
SPOILED = frozenset({0, 502})
"""A reset (0) or a 502: what ``--fault http`` answers."""
BURST_S = 2.0
LOOK_AFTER_S = 14.0
"""How long after a fault ends the stamps are read: quoting resumed well within it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    took_s: float | None
    """None: no order action accepted within LOOK_AFTER_S."""
    pauses: tuple[str, ...]
    refused: int
    """Requests refused while the limit lasted (every one spent into it): the account's
    refused actions, and every HTTP 429 (one makerd talks to the venue)."""
    burst: int = 0
    """Actions of the account accepted in the BURST_S after the limit ended."""
    usual: int = 0
    """The same in the BURST_S before the limit began: the pace of quoting."""


def listed(url: str, key: str, seen: dict[str, object] | None = None) -> list[dict[str, object]]:
    """One list of the venue's stamps: of ``seen`` (read before), else read now."""
    items = (seen if seen is not None else stamps(url))[key]
    assert isinstance(items, list)
    return items


def stamp_ns(item: dict[str, object], key: str) -> int:
    value = item[key]
    assert isinstance(value, int)
    return value


def first_order_action_after(url: str, user: str, after_ns: int) -> int | None:
    accepted = [
        stamp_ns(a, "arrived_ns")
        for a in listed(url, "actions")
        if a["user"] == user
        and a["type"] in ORDER_ACTIONS
        and a["accepted"]
        and stamp_ns(a, "arrived_ns") >= after_ns
    ]
    return min(accepted, default=None)


def wait(seconds: float) -> None:
    threading.Event().wait(seconds)


def rate_limit_sample(
    venue: FaultVenue, user: str, window_s: float, kind: str, *, show: bool
) -> Sample:
    before = venue_now_ns(venue.url)
    venue.fault(rate_limit_for_s=window_s, rate_limit_kind=kind)
    armed = (before + venue_now_ns(venue.url)) // 2
    ended = armed + round(window_s * NS_PER_S)
    wait(window_s + LOOK_AFTER_S)
    first = first_order_action_after(venue.url, user, ended)
    actions = [a for a in listed(venue.url, "actions") if a["user"] == user]
    refused = sum(
        1 for a in actions if not a["accepted"] and armed <= stamp_ns(a, "arrived_ns") < ended
    ) + sum(  # an IP limit's 429s never reach the account
        1
        for r in listed(venue.url, "requests")
        if r["status"] == HTTP_TOO_MANY and armed <= stamp_ns(r, "arrived_ns") < ended
    )
    span = round(BURST_S * NS_PER_S)
    burst = accepted_between(actions, ended, ended + span)
    usual = accepted_between(actions, armed - span, armed)
    took = None if first is None else (first - ended) / NS_PER_S
    if show:
        timeline(venue.url, user, armed, ended, first)
    return Sample(took_s=took, pauses=(), refused=refused, burst=burst, usual=usual)


def accepted_between(actions: list[dict[str, object]], start_ns: int, end_ns: int) -> int:
    return sum(
        1 for a in actions if a["accepted"] and start_ns <= stamp_ns(a, "arrived_ns") < end_ns
    )


def timeline(url: str, user: str, armed: int, origin: int, last: int | None) -> None:
    """Every request from the arming to the first accepted order action, in seconds from
    ``origin`` (the window's end, or the last spoiled request): a signed action with its
    verdict, a query with its HTTP status, an action that never reached the account with
    its status (0: reset)."""
    until = last if last is not None else origin + round(LOOK_AFTER_S * NS_PER_S)
    seen = stamps(url)
    events: list[tuple[int, str]] = []
    for item in listed(url, "actions", seen):
        at = stamp_ns(item, "arrived_ns")
        if item["user"] == user and armed <= at <= until:
            verdict = "accepted" if item["accepted"] else "refused"
            events.append((at, f"action {item['type']} {verdict}"))
    for item in listed(url, "requests", seen):
        at = stamp_ns(item, "arrived_ns")
        shown = item["path"] == "info" or item["status"] != HTTP_OK
        if shown and armed <= at <= until:
            events.append((at, f"{item['path']} {item['type']} {item['status']}"))
    for at, what in sorted(events):
        print(f"      {(at - origin) / NS_PER_S:+7.2f} {what}")


def http_sample(venue: FaultVenue, user: str, *, show: bool) -> Sample:
    armed = venue_now_ns(venue.url)
    venue.fault(http_error_next=HTTP_ERRORS, reset_next=RESETS)
    wait(LOOK_AFTER_S)
    spoiled = [
        stamp_ns(r, "arrived_ns")
        for r in listed(venue.url, "requests")
        if r["status"] in SPOILED and stamp_ns(r, "arrived_ns") >= armed
    ]
    if len(spoiled) < HTTP_ERRORS + RESETS:
        return Sample(took_s=None, pauses=(), refused=len(spoiled))
    last = max(spoiled)
    first = first_order_action_after(venue.url, user, last)
    took = None if first is None else (first - last) / NS_PER_S
    if show:
        timeline(venue.url, user, armed, last, first)
    return Sample(took_s=took, pauses=(), refused=len(spoiled))


def one_process(venue: FaultVenue, tree: Path, args: argparse.Namespace) -> list[Sample]:
    with tempfile.TemporaryDirectory(prefix="makerd-recovery-") as tmp:
        bot = LiveBot(Path(tmp), venue, watchdog={"dead_man_switch_s": args.dead_man})
        run = ["run", "--config", str(bot.config), "--api-url", venue.url]
        run += ["--state-dir", str(bot.state), "--metrics-port", "0"]
        env = {"MAKERD_PRIVATE_KEY": bot.key, "PYTHONPATH": str(tree)}
        process = MakerdProcess(run, cwd=bot.cwd, env=env)
        samples = []
        try:
            bot.wait_resting(process, at_least=2, timeout_s=60)
            for _ in range(args.samples):
                wait(args.settle)
                mark = len(process.output)
                if args.fault == "http":
                    sample = http_sample(venue, bot.address, show=args.timeline)
                else:
                    sample = rate_limit_sample(
                        venue, bot.address, args.window, args.fault, show=args.timeline
                    )
                pauses = tuple(backoffs("".join(process.output[mark:])))
                samples.append(
                    Sample(
                        took_s=sample.took_s,
                        pauses=pauses,
                        refused=sample.refused,
                        burst=sample.burst,
                        usual=sample.usual,
                    )
                )
                shown = "none" if sample.took_s is None else f"{sample.took_s:.2f} s"
                counts = f"refused={sample.refused} burst={sample.burst} (before: {sample.usual})"
                print(f"  {tree.name}: {shown}  {counts}  pauses={pauses}", flush=True)
        finally:
            process.signal(signal.SIGTERM)
            process.finish(timeout=60)
        return samples


def summary(name: str, samples: list[Sample]) -> str:
    times = sorted(s.took_s for s in samples if s.took_s is not None)
    missing = sum(1 for s in samples if s.took_s is None)
    if not times:
        return f"{name}: no recovery seen ({missing} samples)"
    shown = " ".join(f"{t:.2f}" for t in times)
    median = statistics.median(times)
    return (
        f"{name}: n={len(times)} median {median:.2f} s  min {times[0]:.2f}  max {times[-1]:.2f}"
        f"  (not within {LOOK_AFTER_S:.0f} s: {missing})\n    sorted: {shown}"
        f"\n    refused in the window: median {statistics.median(s.refused for s in samples)}"
        f"  accepted in the {BURST_S:.0f} s after it: max {max(s.burst for s in samples)}"
        f" (in the {BURST_S:.0f} s before it: max {max(s.usual for s in samples)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", choices=("address", "ip", "http"), default="address")
    parser.add_argument("--window", type=float, default=8.0, help="rate limit seconds")
    parser.add_argument("--runs", type=int, default=2, help="processes per tree")
    parser.add_argument("--samples", type=int, default=4, help="faults per process")
    parser.add_argument("--settle", type=float, default=8.0, help="quoting between faults")
    parser.add_argument("--tree", type=Path, action="append", help="checkout to run")
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--dead-man", type=float, default=10.0, help="dead_man_switch_s; 0 off")
    parser.add_argument("--timeline", action="store_true", help="print each sample's requests")
    args = parser.parse_args()
    trees = [t.resolve() for t in args.tree or [Path(__file__).resolve().parent.parent]]
    running = VenueThread(
        VenueConfig(port=0, auto_provision=True, seed=args.seed, tick_interval_s=0.1)
    )
    running.start()
    venue = FaultVenue(running.url)
    results: dict[Path, list[Sample]] = {tree: [] for tree in trees}
    try:
        for _ in range(args.runs):
            for tree in trees:
                results[tree] += one_process(venue, tree, args)
    finally:
        running.stop()
    what = "HTTP 502 x5, resets x3" if args.fault == "http" else f"{args.window:g} s {args.fault}"
    print(f"\n{what}: seconds to the first accepted order action after the fault")
    for tree, samples in results.items():
        print(summary(str(tree), samples))


if __name__ == "__main__":
    main()
