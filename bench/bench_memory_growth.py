"""Memory over a long run: ``makerd run --mode live`` against the local venue, RSS sampled.

Weeks of per-order and per-fill work in minutes: the venue (``makerd venue``) steps its
market every ``--tick-ms`` (20 ms) with a background taker on every step
(``--taker-probability 1``), and the bench jumps its price by ``--jump-pct`` every
``--jump-every`` seconds, alternately up and down, so the ladder is modified and filled
all the time. The risk limits are set out of reach, so nothing halts the run. With
``--drop-every S`` the venue also drops every WebSocket connection every S seconds, so
makerd reconnects (and repairs its fills) hundreds of times in a run.

makerd runs as a real process, under ``bench/traced_makerd.py`` (tracemalloc on from the
first import) unless ``--no-trace``. After ``--warmup`` seconds the bench samples the
process's RSS every ``--sample-every`` seconds for ``--minutes``, and with tracing takes
snapshots at the start, the middle and the end of that time. It prints:

- RSS at each sample as it is taken; then at start, middle and end, the slope of a line
  fitted to each half's samples (MiB/hour, and what that would be per week), the orders,
  modifies and fills the venue saw (per minute: multiply to compare with a real market's
  hours) and the journal's size on disk;
- with tracing: the allocation sites (file:line) that grew most from start to end, with
  their growth over the second half beside it (a site that grew in the first half only
  is warm-up), the object types whose count grew, and the containers (of 100 items or
  more, named by the class and attribute holding them) that grew: a cache that stops at
  its cap is bounded, one that grows in every part of the run is not.

Tracing roughly doubles the cost of small allocations and adds its own memory, so the RSS
figures to quote are a ``--no-trace`` run's. A benchmark, not a test: it prints, it asserts
nothing. Run from the repository root: ``python bench/bench_memory_growth.py --minutes 10``
(``--no-trace``, ``--tick-ms 20 --jump-every 0.5``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from eth_account import Account

READY_LINE = "local venue ready at "
STOP_TIMEOUT_S = 60.0
FAR = 1_000_000_000
"""A risk limit no run reaches: the bench measures memory, and a halt would stop the work."""


class Venue:
    """``makerd venue`` as a child process on a free loopback port."""

    def __init__(self, args: argparse.Namespace) -> None:
        command = [sys.executable, "-m", "makerd", "venue", "--port", "0", "--auto-provision"]
        command += ["--tick-ms", str(args.tick_ms), "--seed", str(args.seed)]
        command += ["--taker-probability", str(args.taker_probability)]
        self.proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if READY_LINE in line:
                self.url = line.split(READY_LINE)[1].split()[0]
                break
        else:
            raise RuntimeError("the venue ended before it was ready")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def call(self, path: str, body: dict[str, object] | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())

    def activity(self, user: str) -> Counter[str]:
        """What the venue saw of the account: accepted actions by type, and fills."""
        record = self.call(f"/_debug/account?user={user}")
        assert isinstance(record, dict)
        counts = Counter(str(a["type"]) for a in record["actions"] if a["accepted"])
        counts["fills"] = len(record["fills"])
        return counts

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def makerd_command(args: argparse.Namespace, tmp: Path, venue: Venue) -> list[str]:
    config = {
        "mode": "live",
        "coin": "BTC",
        "risk": {
            "max_drawdown_usd": FAR,
            "session_loss_usd": FAR,
            "daily_loss_usd": FAR,
            "max_position": 1,
        },
        "hyperliquid": {"api_url": venue.url},
        "metrics": {"port": 0},  # never the default 9108 an operator's makerd may hold
    }
    (tmp / "live.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    run = ["run", "--config", str(tmp / "live.yaml"), "--api-url", venue.url]
    run += ["--state-dir", str(tmp / "state"), "--metrics-port", "0"]
    if args.no_trace:
        return [sys.executable, "-m", "makerd", *run]
    (tmp / "snapshots").mkdir()
    tracer = Path(__file__).resolve().parent / "traced_makerd.py"
    return [sys.executable, str(tracer), str(tmp / "snapshots"), *run]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def want_snapshot(tmp: Path, name: str) -> None:
    """Ask the traced process for a snapshot and wait until it is written."""
    directory = tmp / "snapshots"
    (directory / f"{name}.want").touch()
    pause = threading.Event()
    while (directory / f"{name}.want").exists():
        pause.wait(0.2)


def run(args: argparse.Namespace, tmp: Path) -> None:
    venue = Venue(args)
    account = Account.create()
    env = {"MAKERD_PRIVATE_KEY": account.key.hex(), "PYTHONUNBUFFERED": "1"}
    log = (tmp / "makerd.log").open("w")
    makerd = subprocess.Popen(
        makerd_command(args, tmp, venue),
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        threading.Event().wait(args.warmup)
        if makerd.poll() is not None:
            raise RuntimeError(f"makerd ended during warm-up: {(tmp / 'makerd.log').read_text()}")
        samples = churn(args, tmp, venue, makerd)
        activity = venue.activity(account.address.lower())
    finally:
        if makerd.poll() is None:
            makerd.send_signal(signal.SIGTERM)
        code = makerd.wait(timeout=STOP_TIMEOUT_S)
        venue.stop()
        log.close()
    print(f"makerd exit {code}; over {samples[-1][0]:.1f} min the venue saw {dict(activity)}")
    if args.drop_every:
        reconnects = (tmp / "makerd.log").read_text().count("event=ws_reconnected")
        print(f"reconnections in makerd's log: {reconnects}")
    journal = sum(path.stat().st_size for path in (tmp / "state").glob("journal.sqlite*"))
    print(f"journal on disk at the end: {journal / 2**20:.1f} MiB")
    print_rss(samples)
    if not args.no_trace:
        print_sites(tmp / "snapshots", top=args.top)


def churn(
    args: argparse.Namespace, tmp: Path, venue: Venue, makerd: subprocess.Popen[bytes]
) -> list[tuple[float, float]]:
    """Jump the price (and drop the streams) for the run's minutes; the RSS samples
    (minutes since the start, MiB), with snapshots at the start, middle and end."""
    if not args.no_trace:
        want_snapshot(tmp, "start")
    samples: list[tuple[float, float]] = []
    pause = threading.Event()
    began = time.monotonic()
    middle_taken = args.no_trace
    next_sample = next_drop = began
    sign = 1
    while (now := time.monotonic()) < began + args.minutes * 60 and makerd.poll() is None:
        if now >= next_sample:
            samples.append(((now - began) / 60, rss_mib(makerd.pid)))
            print(f"{samples[-1][0]:6.1f} min  RSS {samples[-1][1]:6.1f} MiB", flush=True)
            next_sample += args.sample_every
        if not middle_taken and now - began >= args.minutes * 30:
            want_snapshot(tmp, "middle")
            middle_taken = True
        if args.drop_every and now >= next_drop + args.drop_every:
            venue.call("/_debug/faults", {"drop_stream": "all"})
            next_drop = now
        venue.call("/_debug/faults", {"jump_pct": sign * args.jump_pct, "coin": "BTC"})
        sign = -sign
        pause.wait(args.jump_every)
    samples.append(((time.monotonic() - began) / 60, rss_mib(makerd.pid)))
    if not args.no_trace:
        want_snapshot(tmp, "end")
    return samples


def print_rss(samples: list[tuple[float, float]]) -> None:
    middle = min(samples, key=lambda s: abs(s[0] - samples[-1][0] / 2))
    print(
        f"RSS MiB: start {samples[0][1]:.1f}, middle {middle[1]:.1f} (min {middle[0]:.1f}), "
        f"end {samples[-1][1]:.1f} (min {samples[-1][0]:.1f}); {len(samples)} samples"
    )
    half = len(samples) // 2
    for label, part in (("first half", samples[: half + 1]), ("second half", samples[half:])):
        if len(part) < 2:
            continue
        minutes, mib = np.array(part).T
        per_hour = float(np.polyfit(minutes, mib, 1)[0]) * 60
        print(f"  {label}: {per_hour:+.2f} MiB/hour ({per_hour * 24 * 7:+.0f} MiB/week)")


def print_sites(directory: Path, *, top: int) -> None:
    ignore = (
        tracemalloc.Filter(inclusive=False, filename_pattern=tracemalloc.__file__),
        tracemalloc.Filter(inclusive=False, filename_pattern="<frozen importlib._bootstrap*>"),
    )
    start, middle, end = (
        tracemalloc.Snapshot.load(str(directory / f"{name}.snap")).filter_traces(ignore)
        for name in ("start", "middle", "end")
    )
    traced = sum(stat.size for stat in end.statistics("filename")) / 2**20
    print(f"traced at end: {traced:.1f} MiB; top growth by site, start → end:")
    second_half = {stat.traceback[0]: stat for stat in end.compare_to(middle, "lineno")}
    print(f"{'KiB':>8} {'blocks':>8} {'2nd-half KiB':>12}  site")
    for stat in end.compare_to(start, "lineno")[:top]:
        frame = stat.traceback[0]
        later = second_half.get(frame)
        later_kib = later.size_diff / 1024 if later is not None else 0.0
        print(
            f"{stat.size_diff / 1024:>+8.1f} {stat.count_diff:>+8} {later_kib:>+12.1f}  "
            f"{frame.filename}:{frame.lineno}"
        )
    print_counts(directory, "types", "live objects by type", top=top)
    print_counts(directory, "containers", "containers of 100+ items, by owner.attribute", top=top)


def print_counts(directory: Path, kind: str, title: str, *, top: int) -> None:
    """The entries of the ``NAME.KIND.json`` counts that grew from start to end."""
    start, middle, end = (
        Counter(json.loads((directory / f"{name}.{kind}.json").read_text()))
        for name in ("start", "middle", "end")
    )
    grown = sorted(end, key=lambda key: end[key] - start[key], reverse=True)
    print(f"{title} (start, middle, end):")
    for key in grown[:top]:
        if end[key] > start[key]:
            print(f"  {start[key]:>8} {middle[key]:>8} {end[key]:>8}  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before sampling")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--tick-ms", type=int, default=20)
    parser.add_argument("--taker-probability", type=float, default=1.0)
    parser.add_argument("--jump-every", type=float, default=0.5, help="seconds")
    parser.add_argument("--jump-pct", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--drop-every", type=float, default=0.0, help="seconds between dropped streams (0: none)"
    )
    parser.add_argument("--no-trace", action="store_true", help="plain makerd: the RSS to quote")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
