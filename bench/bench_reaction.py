"""Reaction to price jumps and churn in a quiet market, measured from the exchange's side.

Against makerd's own local venue (``makerd venue``, 20 ms book cadence) the bench makes a
scripted market: ``--jumps`` jumps of ``--jump-pct`` percent (30 of 0.3 % by default), one
every 2 to 5 s, sizes, directions and gaps drawn from ``--seed``. The venue stamps on its
own monotonic clock when it queues the first book showing each jump and when each signed
action arrives (``GET /_debug/stamps``). Each client runs in turn against a fresh venue
on the same seed:

- ``bare``: the Hyperliquid SDK on the first book that moved by more than half a jump
  signs a ``noop`` and POSTs it, and does nothing else;
- ``makerd``: ``makerd run --mode live`` with the default configuration, a real process.

With ``--quiet-s N`` makerd also runs N seconds against a fresh venue with no jumps (the
venue's default flow), printed as the row ``makerd (no jumps)``. ``--config FILE`` runs
makerd with that configuration instead of the default (to compare settings).

``--rounds N`` interleaves instead (``bench/reaction_rounds.py``): the jumps are split
into N rounds, each on its own seed (``--seed`` + the round), and in every round each
client runs the round's jumps against a fresh venue, the two taking turns (the first of
a round alternates). The rows pool each client's rounds; then each round's own p50
ratio with the load average at its start. Run one after the other for minutes, the two
clients see different loads on a shared machine; in rounds they see the same.

It prints one row per client: reaction (first book of a jump → the account's next action)
p50 / p90 / max, jumps with no action before the next jump, quiet instants (half-way
between two jumps) followed by an action within 2 s (and before the next jump), actions
per minute, actions per fill, fills per hour, makerd's ratio to the bare client, and each
client's actions by type. Then what the fills earned, from the venue's side
(``bench/fill_markouts.py``): every fill marked out against the venue's mid 1 s and 5 s
after it (``mids`` of ``/_debug/stamps``, on the fills' clock), per fill in USD and in bp
of notional, split into fills within a second of a jump (the market moved through the
ladder) and fills between jumps; the markout in total, the fees, and the PnL of the
window's fills marked to the mid at its end, after fees. A benchmark, not a test: it
prints, it asserts nothing.

Run from the repository root: ``python bench/bench_reaction.py`` (``--seed 7 --jumps 30
--clients bare makerd``); ``--py-spy FILE`` samples makerd with py-spy (when installed)
during the jumps and prints its busiest frames.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpu_latency import held_cpu_latency
from fill_markouts import HORIZONS_MS, Fill, MidTimeline, money
from reaction_rounds import jumps_per_round, pooled, print_rounds, round_order, round_ratios
from reaction_stats import RunFigures, figures, print_table, top_frames

QUIET_WINDOW_NS = 2_000_000_000
WARMUP_S = 10.0
TAIL_S = 3.0
READY = re.compile(r"local venue ready at (http://\S+)")


@dataclass
class Venue:
    """``makerd venue`` as a child process on a free loopback port."""

    seed: int
    proc: subprocess.Popen[str] = field(init=False)
    url: str = field(init=False, default="")

    def __post_init__(self) -> None:
        command = [sys.executable, "-m", "makerd", "venue", "--port", "0", "--tick-ms", "20"]
        command += ["--seed", str(self.seed), "--auto-provision"]
        self.proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if match := READY.search(line):
                self.url = match.group(1)
                break
        else:
            raise RuntimeError("the venue ended before it was ready")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as reply:
            return json.loads(reply.read())

    def post(self, path: str, body: dict[str, object]) -> Any:
        data = json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def bare_client(url: str, key: str) -> None:
    """The child process of the ``bare`` run: on the first moved book, a signed noop."""
    import eth_account
    from hyperliquid.exchange import Exchange
    from websockets.sync.client import connect

    exchange = Exchange(eth_account.Account.from_key(key), url)
    with connect(url.replace("http", "ws", 1) + "/ws") as ws:
        ws.send(
            json.dumps({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
        )
        last_mid = 0.0
        while True:
            frame = json.loads(ws.recv())
            if frame.get("channel") != "l2Book":
                continue
            bids, asks = frame["data"]["levels"]
            mid = (float(bids[0]["px"]) + float(asks[0]["px"])) / 2
            if last_mid == 0.0:
                exchange.noop(int(time.time() * 1000))  # the HTTP connection open, as makerd's
                print("ready", flush=True)
            elif abs(mid / last_mid - 1) > MOVED:
                exchange.noop(int(time.time() * 1000))
            last_mid = mid


MOVED = 0.0015  # half a 0.3 % jump: far beyond the 20 ms wiggle


@dataclass
class Client:
    name: str
    proc: subprocess.Popen[str]
    address: str
    log: Path


def start_client(name: str, venue: Venue, workdir: Path, config: Path | None) -> Client:
    import eth_account

    wallet = eth_account.Account.create()
    key, address = wallet.key.hex(), wallet.address.lower()
    venue.post("/_debug/accounts", {"address": address})
    log = workdir / f"{name}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MAKERD_PRIVATE_KEY": key}
    if name == "bare":
        command = [sys.executable, __file__, "--bare-client", venue.url]
    else:
        command = [sys.executable, "-m", "makerd", "run", "--mode", "live", "--coin", "BTC"]
        command += ["--api-url", venue.url, "--state-dir", str(workdir / "state")]
        command += ["--metrics-port", "0"]
        if config is not None:
            command += ["--config", str(config)]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, text=True)
    return Client(name=name, proc=proc, address=address, log=log)


def wait_ready(client: Client, venue: Venue) -> None:
    deadline = time.monotonic() + 60
    pause = threading.Event()
    while time.monotonic() < deadline:
        if client.proc.poll() is not None:
            raise RuntimeError(f"{client.name} ended: {client.log.read_text()[-3000:]}")
        if client.name == "bare":
            if "ready" in client.log.read_text():
                return
        elif venue.get(f"/_debug/account?user={client.address}")["open_orders"] > 0:
            pause.wait(WARMUP_S)  # the dead-man switch armed, the ladder settled
            return
        pause.wait(0.1)
    raise RuntimeError(f"{client.name} not ready within 60 s")


def run_client(
    name: str,
    args: argparse.Namespace,
    workdir: Path,
    *,
    jumps: int,
    tail_s: float,
    seed: int | None = None,
) -> RunFigures:
    """The client's figures, its fills marked out against the venue's mid (on ``seed``,
    by default ``--seed``)."""
    seed = args.seed if seed is None else seed
    schedule = random.Random(seed)
    gaps = [schedule.uniform(2.0, 5.0) for _ in range(jumps)]
    signs = [schedule.choice((1, -1)) for _ in range(jumps)]
    venue = Venue(seed)
    client = start_client(name, venue, workdir, args.config if name == "makerd" else None)
    spy: subprocess.Popen[bytes] | None = None
    try:
        wait_ready(client, venue)
        if args.py_spy and name == "makerd":
            spy = start_py_spy(client.proc.pid, args.py_spy, sum(gaps) + TAIL_S)
        started_ns, started_ms = venue.get("/_debug/stamps")["now_ns"], int(time.time() * 1000)
        budget_before = request_budget(venue, client.address)
        pause = threading.Event()
        jumped_ms: list[int] = []
        for gap, sign in zip(gaps, signs, strict=True):
            pause.wait(gap)
            jumped_ms.append(int(time.time() * 1000))
            venue.post("/_debug/faults", {"jump_pct": sign * args.jump_pct, "coin": "BTC"})
        pause.wait(tail_s)
        stamps = venue.get("/_debug/stamps")
        account = venue.get(f"/_debug/account?user={client.address}")
        budget_after = request_budget(venue, client.address)
        ended_ms = int(time.time() * 1000)
        pause.wait(max(HORIZONS_MS) / 1000)  # where the mid went after the window's last fills
        mids = venue.get("/_debug/stamps")["mids"]
    finally:
        client.proc.send_signal(signal.SIGTERM)
        client.proc.wait(timeout=60)
        if spy is not None:
            spy.wait(timeout=120)
        venue.stop()
    timeline = mid_timeline(mids)
    fills = [
        Fill(
            time_ms=int(f["time"]),
            price=Decimal(f["px"]),
            size=Decimal(f["sz"]) if f["side"] == "B" else -Decimal(f["sz"]),
            fee=Decimal(f["fee"]),
        )
        for f in account["fills"]
        if f["coin"] == "BTC" and started_ms <= int(f["time"]) <= ended_ms
    ]
    spent, earned = (budget_after[0] - budget_before[0], budget_after[1] - budget_before[1])
    return figures(
        name=name if jumps else f"{name} (no jumps)",
        stamps=stamps,
        user=client.address,
        started_ns=started_ns,
        fills=len(fills),
        quiet_window_ns=QUIET_WINDOW_NS,
        money=money(fills, timeline, jumps_ms=jumped_ms, ended_ms=ended_ms),
        budget=(spent, earned),
    )


def request_budget(venue: Venue, user: str) -> tuple[int, int]:
    """The address's (requests used, requests cap) as the venue reports them."""
    limit = venue.post("/info", {"type": "userRateLimit", "user": user})
    return int(limit["nRequestsUsed"]), int(limit["nRequestsCap"])


def mid_timeline(mids: list[dict[str, Any]]) -> MidTimeline:
    btc = [m for m in mids if m["coin"] == "BTC"]
    return MidTimeline(
        times_ms=tuple(int(m["time"]) for m in btc), mids=tuple(Decimal(m["mid"]) for m in btc)
    )


def start_py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).with_name("py-spy")
    command = [str(py_spy), "record", "--pid", str(pid), "--rate", "500", "--format", "raw"]
    command += ["--duration", str(int(seconds)), "--output", str(out), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jumps", type=int, default=30)
    parser.add_argument("--jump-pct", type=float, default=0.3)
    parser.add_argument("--clients", nargs="+", default=["bare", "makerd"])
    parser.add_argument("--config", type=Path, default=None, help="makerd's config file")
    parser.add_argument(
        "--quiet-s", type=float, default=0.0, help="also run makerd this long with no jumps"
    )
    parser.add_argument("--py-spy", type=Path, default=None, help="raw py-spy stacks of makerd")
    parser.add_argument(
        "--rounds", type=int, default=0, help="interleave the clients in this many rounds"
    )
    parser.add_argument(
        "--hold-cpu-latency",
        type=int,
        default=None,
        metavar="US",
        help="hold a CPU latency request (µs) for the whole run, for both clients alike",
    )
    parser.add_argument("--bare-client", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_client is not None:
        bare_client(args.bare_client, os.environ["MAKERD_PRIVATE_KEY"])
        return
    with held_cpu_latency(args.hold_cpu_latency) as held:
        print(held)
        if args.rounds > 0:
            run_rounds(args)
        else:
            run_in_turn(args)


def run_in_turn(args: argparse.Namespace) -> None:
    """Each client once, one after the other, then makerd alone on a quiet market."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.clients:
            runs.append(run_client(name, args, Path(tmp), jumps=args.jumps, tail_s=TAIL_S))
        if args.quiet_s > 0 and "makerd" in args.clients:
            quiet = Path(tmp) / "quiet"
            quiet.mkdir()
            runs.append(run_client("makerd", args, quiet, jumps=0, tail_s=args.quiet_s))
    print_table(runs)
    if args.py_spy is not None and args.py_spy.exists():
        raw = args.py_spy.read_text()
        for leaf, title in ((True, "own time"), (False, "on the stack")):
            print(f"\nmakerd's busiest frames, {title} (% of py-spy's samples of busy threads):")
            for share, frame in top_frames(raw, 25, leaf=leaf):
                print(f"{share:6.1f}%  {frame}")


def run_rounds(args: argparse.Namespace) -> None:
    """The clients in turn, round by round; the table pools each client's rounds."""
    per_round = jumps_per_round(args.jumps, args.rounds)
    rounds: list[dict[str, RunFigures]] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.rounds):
            loads.append(os.getloadavg()[0])
            runs: dict[str, RunFigures] = {}
            for name in round_order(index, args.clients):
                workdir = Path(tmp) / f"round{index}-{name}"
                workdir.mkdir()
                runs[name] = run_client(
                    name, args, workdir, jumps=per_round, tail_s=TAIL_S, seed=args.seed + index
                )
            rounds.append(runs)
    last_seed = args.seed + args.rounds - 1
    print(f"{args.rounds} rounds of {per_round} jumps, seeds {args.seed}..{last_seed}")
    print_table([pooled(name, [runs[name] for runs in rounds]) for name in args.clients])
    if "bare" in args.clients:
        for other in (name for name in args.clients if name != "bare"):
            print_rounds(
                round_ratios(rounds, loads, base="bare", other=other), base="bare", other=other
            )


if __name__ == "__main__":
    main()
