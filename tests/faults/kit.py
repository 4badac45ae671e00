"""What every fault scenario shares: the venue's own records, a live makerd, the invariants.

Each scenario runs makerd in live mode as a real process against the local venue on
loopback, makes the venue misbehave, stops makerd, and then checks makerd's journal
against the venue's own record of the account (``GET /_debug/account``): the venue, not
makerd, is the witness.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from eth_account import Account

from makerd.actors.exposure import TRANSIENT_MARGIN
from makerd.daemon import exit_codes
from tests.processes import MakerdProcess, write_config

LEVELS = 3
QUOTE_BOUND = 2 * LEVELS
"""Quote orders the config allows (levels × 2 sides); no bracket orders in these runs."""
OPEN_ORDER_BOUND = QUOTE_BOUND + TRANSIENT_MARGIN
"""The invariant: the venue never holds more of the account's orders than this."""
DOCUMENTED_EXITS = frozenset(
    value
    for name, value in vars(exit_codes).items()
    if name.startswith("EXIT_") and isinstance(value, int)
)
DEAD_MAN_S = 10.0


def poll(
    condition: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    process: MakerdProcess | None = None,
    step_s: float = 0.05,
) -> float:
    """Wait until ``condition`` holds; return the seconds it took; fail naming ``what``."""
    started = time.monotonic()
    pause = threading.Event()  # never set: a timed wait, not a sleep
    while not condition():
        if time.monotonic() - started > timeout_s:
            output = f"\n{process.text[-6000:]}" if process is not None else ""
            raise AssertionError(f"{what}: not within {timeout_s}s{output}")
        pause.wait(step_s)
    return time.monotonic() - started


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """The venue's own record of one account."""

    open_orders: int
    peak_open_orders: int
    trade_ids: tuple[str, ...]
    position: Decimal
    """BTC's (the coin a single-coin scenario trades); ``positions`` has every coin's."""
    actions: tuple[dict[str, object], ...]
    positions: Mapping[str, Decimal] = field(default_factory=dict)
    open_by_coin: Mapping[str, int] = field(default_factory=dict)
    peak_by_coin: Mapping[str, int] = field(default_factory=dict)

    def trade_ids_of(self, coin: str) -> list[str]:
        return [trade for trade in self.trade_ids if trade.rpartition(":")[0] == coin]

    def actions_after(self, time_ms: int, *types: str) -> list[dict[str, object]]:
        return [a for a in self.actions if int(str(a["time_ms"])) > time_ms and a["type"] in types]


class FaultVenue:
    """The local venue's admin paths: arm faults, read an account's record."""

    def __init__(self, url: str) -> None:
        self.url = url

    def fault(self, **body: object) -> dict[str, object]:
        return self._post("/_debug/faults", body)

    def clear(self) -> None:
        self.fault(clear=True)

    def account(self, user: str) -> AccountRecord:
        try:
            with urllib.request.urlopen(f"{self.url}/_debug/account?user={user}", timeout=10) as r:
                body = json.loads(r.read())
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            return AccountRecord(0, 0, (), Decimal(0), ())  # never acted: nothing to show
        positions = {coin: Decimal(size) for coin, size in body["position"].items()}
        return AccountRecord(
            open_orders=int(body["open_orders"]),
            peak_open_orders=int(body["peak_open_orders"]),
            trade_ids=tuple(f"{f['coin']}:{f['tid']}" for f in body["fills"]),
            position=positions.get("BTC", Decimal(0)),
            actions=tuple(body["actions"]),
            positions=positions,
            open_by_coin={coin: int(n) for coin, n in body["open_orders_by_coin"].items()},
            peak_by_coin={coin: int(n) for coin, n in body["peak_open_orders_by_coin"].items()},
        )

    def _post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, object] = json.loads(response.read())
        assert answer["status"] == "ok", answer
        return answer


class LiveBot:
    """One throwaway account and state directory; runs makerd live against the venue."""

    def __init__(self, tmp_path: Path, venue: FaultVenue, **overrides: object) -> None:
        account = Account.create()
        self.key = account.key.hex()
        self.address = account.address.lower()
        self.venue = venue
        self.cwd = tmp_path
        self.state = tmp_path / "state"
        at_venue = {"hyperliquid": {"api_url": venue.url}}
        self.config = write_config(tmp_path / "live.yaml", _config({**at_venue, **overrides}))
        self.exits: list[int] = []
        self.started_ms = 0

    def start(self, *extra: str, env: Mapping[str, str] | None = None) -> MakerdProcess:
        self.started_ms = time.time_ns() // 1_000_000
        args = ["run", "--config", str(self.config), "--api-url", self.venue.url]
        args += ["--state-dir", str(self.state), "--metrics-port", "0", *extra]
        return MakerdProcess(
            args, cwd=self.cwd, env={**(env or {}), "MAKERD_PRIVATE_KEY": self.key}
        )

    def record(self) -> AccountRecord:
        return self.venue.account(self.address)

    def ctl(self, command: str) -> subprocess.CompletedProcess[str]:
        """``makerd ctl COMMAND`` on this bot's state directory."""
        return subprocess.run(
            [sys.executable, "-m", "makerd", "ctl", command, "--state-dir", str(self.state)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def pause(self) -> None:
        """``makerd ctl pause``: the running makerd cancels its orders and sends no more."""
        pause = self.ctl("pause")
        assert pause.returncode == 0, pause.stderr

    def wait_resting(
        self,
        process: MakerdProcess,
        *,
        at_least: int = 1,
        timeout_s: float = 30,
        since_ms: int | None = None,
    ) -> None:
        """Until this run (or whatever acted since ``since_ms``) has placed orders and the
        venue holds ``at_least`` of them."""
        after_ms = self.started_ms if since_ms is None else since_ms

        def quoting() -> bool:
            record = self.record()
            placed = [a for a in record.actions_after(after_ms, "order") if a["accepted"]]
            return bool(placed) and record.open_orders >= at_least

        poll(quoting, timeout_s=timeout_s, what=f"{at_least} orders resting", process=process)

    def quoting(self, *, at_least: int = QUOTE_BOUND) -> MakerdProcess:
        """Start makerd and wait until its ladder rests at the venue."""
        process = self.start()
        self.wait_resting(process, at_least=at_least)
        return process

    def stop_cleanly(self, process: MakerdProcess) -> AccountRecord:
        """SIGTERM, expect exit 0, check every invariant; the venue's record after it."""
        code = self.stop(process)
        assert code == exit_codes.EXIT_OK, process.text[-3000:]
        return assert_invariants(self, output=process.text)

    def kill_9(self, process: MakerdProcess) -> None:
        process.signal(signal.SIGKILL)
        self.exits.append(process.finish())

    def stop(self, process: MakerdProcess, *, timeout_s: float = 60) -> int:
        process.signal(signal.SIGTERM)
        code = process.finish(timeout=timeout_s)
        self.exits.append(code)
        return code

    def journal_trade_ids(self, coin: str = "BTC") -> list[str]:
        return journal_trade_ids(self.state, coin)

    def journal_position(self, coin: str = "BTC") -> Decimal:
        with sqlite3.connect(self.state / "journal.sqlite") as db:
            fills = list(db.execute("SELECT side, size FROM fills WHERE coin = ?", (coin,)))
            adjusted = list(
                db.execute("SELECT size FROM position_adjustments WHERE coin = ?", (coin,))
            )
        booked = sum((Decimal(s) * (1 if side == "B" else -1) for side, s in fills), Decimal(0))
        return booked + sum((Decimal(size) for (size,) in adjusted), Decimal(0))

    def journal_adjustments(self, coin: str | None = None) -> list[tuple[int, str]]:
        """Each booked position adjustment (of ``coin``, or of any coin): (exchange time ns,
        signed size)."""
        with sqlite3.connect(self.state / "journal.sqlite") as db:
            rows = db.execute(
                "SELECT ts, size FROM position_adjustments WHERE ? IS NULL OR coin = ? ORDER BY ts",
                (coin, coin),
            )
            return [(int(ts), str(size)) for ts, size in rows]


def assert_invariants(bot: LiveBot, *, output: str = "", by_hand: bool = False) -> AccountRecord:
    """What must hold after any scenario, checked against the venue's own record.

    ``by_hand``: a trader's own orders rested on the account beside makerd's, so the
    venue's peak is not makerd's alone (the scenario judges the bound itself), and the
    fills and an exit 0's "nothing resting" are makerd's coin's (BTC) only."""
    record = bot.record()
    context = f"\nexits={bot.exits}\n{output[-3000:]}"
    journal = bot.journal_trade_ids()
    twice = [trade for trade, n in Counter(journal).items() if n > 1]
    assert twice == [], f"booked more than once: {twice}{context}"
    venue_fills = set(record.trade_ids_of("BTC") if by_hand else record.trade_ids)
    missing = sorted(venue_fills - set(journal))
    invented = sorted(set(journal) - venue_fills)
    assert missing == [], f"venue fills never journaled: {missing}{context}"
    assert invented == [], f"journal fills the venue never made: {invented}{context}"
    assert bot.journal_position() == record.position, f"journal vs venue position{context}"
    adjustments = bot.journal_adjustments()
    assert adjustments == [], f"a position adjustment hid a lost fill: {adjustments}{context}"
    assert by_hand or record.peak_open_orders <= OPEN_ORDER_BOUND, (
        f"{record.peak_open_orders} orders rested at once (bound {OPEN_ORDER_BOUND}){context}"
    )
    assert set(bot.exits) <= DOCUMENTED_EXITS | {-signal.SIGKILL}, f"undocumented exit{context}"
    if bot.exits and bot.exits[-1] == exit_codes.EXIT_OK:
        left = record.open_by_coin.get("BTC", 0) if by_hand else record.open_orders
        assert left == 0, f"exit 0 with {left} orders resting{context}"
    return record


def journal_trade_ids(state_dir: Path, coin: str = "BTC") -> list[str]:
    """Every fill of ``coin`` the journal booked, by trade id (as the venue names it:
    COIN:tid)."""
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        rows = db.execute("SELECT trade_id FROM fills WHERE coin = ?", (coin,))
        return [str(trade_id) for (trade_id,) in rows]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def cycles(default: int) -> int:
    """How many kill cycles to run: ``MAKERD_FAULT_CYCLES`` overrides the CI default."""
    return int(os.environ.get("MAKERD_FAULT_CYCLES", default))


def _config(overrides: dict[str, object]) -> dict[str, object]:
    config: dict[str, object] = {
        "mode": "live",
        "coin": "BTC",
        "status_interval_s": 0.5,
        "stop_timeout_s": 20.0,
        "quoting": {"levels": LEVELS, "first_level_bps": 1, "level_spacing_bps": 2},
        "feed": {"stale_after_s": 3.0},
        "watchdog": {"dead_man_switch_s": DEAD_MAN_S},
        "hyperliquid": {"start_retry_s": 15.0},
    }
    for section, values in overrides.items():
        if isinstance(values, dict) and isinstance(config.get(section), dict):
            config[section] = {**config[section], **values}  # type: ignore[dict-item]
        else:
            config[section] = values
    return config
