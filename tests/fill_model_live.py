"""The live half of the fill-model check: a fixed ladder of orders on the local venue.

No strategy: every ``round_s`` seconds the previous round's orders are cancelled and a
new ladder is posted (post-only, ``OFFSETS_BPS`` from the mid on both sides, ``SIZE``
each) with the real Hyperliquid SDK, while ``makerd record`` records the venue's public
market stream in its own process. What the venue did with each order (acknowledgement
and cancel times on the local clock, its fills from ``userFills``) is kept to be compared
with what the paper engine does with the same orders on that recording.
"""

from __future__ import annotations

import secrets
import signal
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import eth_account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from makerd.daemon.exit_codes import EXIT_OK
from makerd.protocol.side import Side
from tests.processes import MakerdProcess

COIN = "BTC"
LEVELS = (0, 1, 2, 4)
"""Which of the book's displayed levels each side's ladder joins (0: the touch)."""
SIZE = Decimal("0.002")
"""About 200 USD: the venue's takers (100-2,000 USD) fill it whole or in part."""
CALM_STEP_BPS = 0.1
"""The venue's mid step (per 100 ms) for the check: calm enough that trades, not only
books walking through the ladder, fill it (the venue's own step is 0.5 bps)."""
SETTLE_S = 0.3
"""After the recorder's first line: a few of the venue's 100 ms book pushes are recorded
before the first ladder, so the replay meets its first orders with a book."""
NS_PER_MS = 1_000_000
ALO: Any = {"limit": {"tif": "Alo"}}


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveOrder:
    """One ladder order as the venue acknowledged it resting."""

    cloid: str
    oid: int
    side: Side
    price: Decimal
    size: Decimal
    acked_ns: int
    """Local time the venue's answer arrived: from here the order rests."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveFill:
    cloid: str
    size: Decimal
    ts_exchange: int
    """The venue's fill time, in ns (its clock is this machine's, kept in ms)."""
    trade_id: str
    """As the recorded public trade names it: ``"{coin}:{tid}"``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveLadder:
    orders: tuple[LiveOrder, ...]
    cancels: dict[str, int]
    """Local time each successfully cancelled order's cancel was acknowledged."""
    fills: tuple[LiveFill, ...]
    recording: Path
    """The recorder's output directory (its files and ``instruments.json``)."""
    refused: int
    """Ladder orders the venue refused (a post-only that would have crossed)."""


class _Ladder:
    """Posts and cancels the ladder through the SDK, noting what the venue answered."""

    def __init__(self, url: str) -> None:
        self._wallet = eth_account.Account.create()
        self._exchange = Exchange(self._wallet, url)
        self._info = Info(url, skip_ws=True)
        self.orders: list[LiveOrder] = []
        self.cancels: dict[str, int] = {}
        self.refused = 0
        self._open: list[str] = []

    def post(self) -> None:
        bids, asks = self._info.l2_snapshot(COIN)["levels"]
        wanted = [
            (side, Decimal(levels[depth]["px"]))
            for depth in LEVELS
            for side, levels in ((Side.BUY, bids), (Side.SELL, asks))
        ]
        cloids = ["0x" + secrets.token_hex(16) for _ in wanted]
        requests: Any = [
            {"coin": COIN, "is_buy": side is Side.BUY, "sz": float(SIZE),
             "limit_px": float(price), "order_type": ALO, "reduce_only": False,
             "cloid": Cloid.from_str(cloid)}
            for (side, price), cloid in zip(wanted, cloids, strict=True)
        ]  # fmt: skip
        answer = self._exchange.bulk_orders(requests)
        acked_ns = time.time_ns()
        statuses = answer["response"]["data"]["statuses"]
        for (side, price), cloid, status in zip(wanted, cloids, statuses, strict=True):
            if "resting" not in status:
                self.refused += 1
                continue
            oid = int(status["resting"]["oid"])
            order = LiveOrder(
                cloid=cloid, oid=oid, side=side, price=price, size=SIZE, acked_ns=acked_ns
            )
            self.orders.append(order)
            self._open.append(cloid)

    def cancel_open(self) -> None:
        """Cancel the last round's orders; one already filled answers an error, kept as is."""
        if not self._open:
            return
        requests: Any = [{"coin": COIN, "cloid": Cloid.from_str(c)} for c in self._open]
        answer = self._exchange.bulk_cancel_by_cloid(requests)
        acked_ns = time.time_ns()
        for cloid, status in zip(self._open, answer["response"]["data"]["statuses"], strict=True):
            if status == "success":
                self.cancels[cloid] = acked_ns
        self._open = []

    def fills(self) -> tuple[LiveFill, ...]:
        by_oid = {order.oid: order.cloid for order in self.orders}
        return tuple(
            LiveFill(
                cloid=by_oid[fill["oid"]],
                size=Decimal(fill["sz"]),
                ts_exchange=int(fill["time"]) * NS_PER_MS,
                trade_id=f"{COIN}:{fill['tid']}",
            )
            for fill in self._info.user_fills(self._wallet.address)
            if fill["coin"] == COIN
        )


def run_ladder(url: str, work: Path, *, seconds: float, round_s: float) -> LiveLadder:
    """Post a new ladder every ``round_s`` for ``seconds`` while the market is recorded."""
    out = work / "recording"
    out.mkdir()
    recorder = MakerdProcess(
        ["record", "--coin", COIN, "--out", str(out), "--api-url", url], cwd=work
    )
    recorder.wait_for(r"event=recording_file_opened", timeout=30)  # its first line arrived
    ladder = _Ladder(url)
    pause = threading.Event()  # never set: the ladder keeps a fixed clock, it waits on nothing
    pause.wait(SETTLE_S)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        ladder.cancel_open()
        ladder.post()
        pause.wait(round_s)
    ladder.cancel_open()
    pause.wait(0.5)  # the books after the last cancel reach the recording
    recorder.signal(signal.SIGTERM)
    assert recorder.finish() == EXIT_OK, recorder.text[-3000:]
    return LiveLadder(
        orders=tuple(ladder.orders),
        cancels=dict(ladder.cancels),
        fills=ladder.fills(),
        recording=out,
        refused=ladder.refused,
    )
