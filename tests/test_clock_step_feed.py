"""A step of the host's wall clock (NTP, a VM resumed) is not silence and not lag.

The feed's health was measured on the wall clock: a block's delay (heard − stamped) and
the time since the exchange's time last moved on. A forward step of more than
``feed.stale_after_s`` made every block "late" against the quickest of the last ten
minutes: each was dropped, the feed went stale on a live market, and a minute later the
stale-feed kill switch latched (a 6 s step did it). Durations are now measured on the
monotonic clock wherever the messages carry it (``ts_mono``: the WebSocket feed and
the ticker stamp it); the wall clock stays the time of day.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from makerd.actors.book_feed import BookFeedLogic
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.actors.watchdog import WatchdogLogic
from makerd.config.model import RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.timers import Ticker
from makerd.protocol.clock import WallClock
from makerd.protocol.control import ChildUnresponsive, Pong, TimerFired
from makerd.protocol.market import (
    BookSnapshotReceived,
    BookUpdated,
    FeedMessageDropped,
    FeedStale,
    TradePrinted,
    TradesPrinted,
)
from makerd.protocol.orders import ArmDeadManSwitch
from makerd.protocol.risk import KillSwitchTripped
from makerd.protocol.side import Side
from tests.kit import MS, T0, S, d, of_type, snapshot

MONO0 = 5_000 * S
"""The monotonic clock's reading at T0: any number, unrelated to the wall clock."""
TRIP_MS = 40
"""Each block is heard this long after the exchange stamped it."""


class Host:
    """The host's two clocks: the wall clock, which steps, and the monotonic one."""

    def __init__(self) -> None:
        self.step_ns = 0

    def stamps(self, elapsed_ns: int) -> tuple[int, int]:
        """(wall, monotonic) ``elapsed_ns`` after T0."""
        return T0 + elapsed_ns + self.step_ns, MONO0 + elapsed_ns

    def block(self, exchange_elapsed_ns: int) -> BookSnapshotReceived:
        wall, mono = self.stamps(exchange_elapsed_ns + TRIP_MS * MS)
        fresh = snapshot("59999", "60001", ts=T0 + exchange_elapsed_ns)
        return BookSnapshotReceived(
            coin="BTC",
            bids=fresh.bids,
            asks=fresh.asks,
            ts_exchange=T0 + exchange_elapsed_ns,
            ts_local=wall,
            ts_mono=mono,
        )

    def trade(self, exchange_elapsed_ns: int) -> TradesPrinted:
        wall, mono = self.stamps(exchange_elapsed_ns + TRIP_MS * MS)
        printed = TradePrinted(
            coin="BTC", side=Side.BUY, price=d("60001"), size=d("0.01"), trade_id="t",
            ts_exchange=T0 + exchange_elapsed_ns, ts_local=wall, ts_mono=mono,
        )  # fmt: skip
        return TradesPrinted(coin="BTC", trades=(printed,), ts_local=wall)

    def timer(self, elapsed_ns: int) -> TimerFired:
        wall, mono = self.stamps(elapsed_ns)
        return TimerFired(ts_local=wall, ts_mono=mono)


def run_feed(
    host: Host, *, seconds: int, step_at_s: int, step_s: int, books_until_s: int | None = None
) -> list[tuple[int, object]]:
    """A block every 20 ms (until ``books_until_s``), a trade every second and a timer every
    100 ms; the wall clock steps by ``step_s`` at ``step_at_s``. What came out, each with
    the milliseconds since T0 it came out at."""
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=5 * S)
    out: list[tuple[int, object]] = []
    for ms in range(0, seconds * 1000, 20):
        if ms == step_at_s * 1000:
            host.step_ns = step_s * S
        messages: list[object] = []
        if books_until_s is None or ms < books_until_s * 1000:
            messages.append(host.block(ms * MS))
            if ms % 1000 == 0:
                messages.append(host.trade(ms * MS))
        if ms % 100 == 0:
            messages.append(host.timer(ms * MS + TRIP_MS * MS))
        for message in messages:
            out += [(ms, event) for event in book_feed.handle(message)]
    return out


@pytest.mark.parametrize("step_s", [6, 60, 3600, -60], ids=lambda s: f"{s:+d}s")
def test_a_live_feed_stays_fresh_through_a_step_of_the_host_clock(step_s: int) -> None:
    out = run_feed(Host(), seconds=90, step_at_s=30, step_s=step_s)

    events = [event for _, event in out]
    assert of_type(events, FeedStale) == []
    assert of_type(events, FeedMessageDropped) == []
    assert len(of_type(events, BookUpdated)) == 90 * 50


@pytest.mark.parametrize("step_s", [60, -60], ids=lambda s: f"{s:+d}s")
def test_a_feed_that_falls_silent_is_stale_after_the_limit_whatever_the_host_clock_does(
    step_s: int,
) -> None:
    # The last block is heard at 30.02 s; the wall clock steps at 31 s.
    out = run_feed(Host(), seconds=60, step_at_s=31, step_s=step_s, books_until_s=30)

    [(stale_at_ms, stale)] = [(ms, event) for ms, event in out if isinstance(event, FeedStale)]
    assert isinstance(stale, FeedStale)
    assert 35_000 <= stale_at_ms <= 35_200, "five seconds of silence, not the step's length"
    assert 5 * S < stale.silent_for_ns <= 5 * S + 200 * MS


def guardian(tmp_path: Path) -> RiskGuardianLogic:
    return RiskGuardianLogic(
        config=RiskConfig(stale_feed_halt_s=60.0), latch=KillSwitchLatch(tmp_path)
    )


def test_a_forward_step_of_the_host_clock_during_a_stale_feed_does_not_trip_the_kill_switch(
    tmp_path: Path,
) -> None:
    host, risk = Host(), guardian(tmp_path)
    wall, mono = host.stamps(10 * S)
    risk.handle(
        FeedStale(coin="BTC", silent_for_ns=5 * S, ts_exchange=T0, ts_local=wall, ts_mono=mono)
    )
    host.step_ns = 120 * S  # the VM was resumed; NTP puts its clock right

    early = [out for s in range(11, 64) for out in risk.handle(host.timer(s * S))]
    late = risk.handle(host.timer(66 * S))

    assert of_type(early, KillSwitchTripped) == [], "60 s of silence had not passed"
    assert of_type(late, KillSwitchTripped), "a feed silent for 61 s trips it"


def test_the_ticker_stamps_each_tick_with_both_clocks() -> None:
    """What makerd run's timers carry: without the monotonic stamp the book_feed and the
    risk guardian fall back to the wall clock, and a step is silence again."""
    ticks: list[TimerFired] = []
    ticked = threading.Event()

    def send(role: str, message: object) -> None:
        assert isinstance(message, TimerFired)
        ticks.append(message)
        ticked.set()

    ticker = Ticker(clock=WallClock(), interval_s=0.01, roles=("book_feed",), send=send)
    before = time.monotonic_ns()
    ticker.start()
    try:
        assert ticked.wait(5.0)
    finally:
        ticker.stop()
    mono = ticks[0].ts_mono
    assert mono is not None
    assert before <= mono <= time.monotonic_ns()


@pytest.mark.parametrize("step_s", [-60, 60], ids=lambda s: f"{s:+d}s")
def test_a_step_of_the_host_clock_neither_holds_back_the_dead_man_switch_nor_reads_as_a_hang(
    step_s: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The watchdog re-arms the venue's cancel-all switch when a third of its window is
    left. Timed on the wall clock alone, a step back of a minute held the pings and the
    re-arm back a minute, past the 30 s window: the venue cancelled every order."""
    host = Host()
    watchdog = WatchdogLogic(
        roles=("quoter",), ping_interval_ns=S, deadline_ns=3 * S, dead_man_switch_ns=30 * S
    )
    watchdog.start(host.stamps(0)[0])
    armed_at: list[int] = []
    out: list[object] = []
    for tenth in range(1, 1200):  # two minutes of ticks, a pong every second
        if tenth == 300:
            host.step_ns = step_s * S
        if tenth % 10 == 5:
            wall, _ = host.stamps(tenth * S // 10)
            watchdog.handle(Pong(role="quoter", seq=tenth // 10 + 1, ts_local=wall))
        tick = watchdog.handle(host.timer(tenth * S // 10))
        armed_at += [tenth // 10 for _ in of_type(tick, ArmDeadManSwitch)]
        out += tick

    gaps = [later - earlier for earlier, later in itertools.pairwise(armed_at)]
    assert max(gaps) <= 20, f"re-armed at {armed_at} (seconds): the 30 s switch fired"
    assert of_type(out, ChildUnresponsive) == []
    assert f"event=clock_stepped step_s={step_s:.3f}" in caplog.text
    assert "watchdog_resumed" not in caplog.text, "a step is not a freeze"
