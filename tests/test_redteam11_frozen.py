"""A frozen process: SIGSTOP past every deadline while the exchange goes on, then SIGCONT.

A VM paused for live migration, a laptop asleep, a stopped process: while makerd is
frozen the venue's dead-man switch fires, takers fill its orders, the market moves and
the kernel buffers the frames it cannot read. Each test runs makerd live as a real process
against the local venue, freezes it with real signals, and judges what it did after the
resume by the venue's own records: every order it sent (post-only refusals included),
beside the book the venue held when that order arrived.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from tests.faults.kit import FaultVenue, LiveBot, assert_invariants, now_ms, poll
from tests.local_venue_kit import still_venue
from tests.processes import MakerdProcess

DEAD_MAN_S = 6.0
STALE_AFTER_S = 3.0
FROZEN_S = 9.0
"""Past the dead-man switch, the stale-feed limit and the watchdog's deadline (3 s)."""
JUMP_PCT = -1.0
"""The move while frozen: 100 bps, far past the ladder's 5 bps depth."""
NEAR_TOUCH_BPS = Decimal(30)
"""An order priced from the book before the move lands about 100 bps from the touch."""
NEW_RISK = ("order", "modify", "batchModify")
STOP_TIMEOUT_S = 5.0
"""Shorter than the freeze: the stop's deadline has passed when it runs again."""


@pytest.fixture(scope="module")
def venue() -> Iterator[FaultVenue]:
    """A market that moves only when a test moves it, so each price has one right book."""
    with still_venue(seed=11) as url:
        yield FaultVenue(url)


@pytest.fixture(scope="module")
def idle_closing_venue() -> Iterator[FaultVenue]:
    """The same market, closing a WebSocket that stays silent for half a freeze."""
    with still_venue(seed=12, ws_idle_timeout_s=FROZEN_S / 2) as url:
        yield FaultVenue(url)


def quoting_bot(
    tmp_path: Path, venue: FaultVenue, **overrides: object
) -> tuple[LiveBot, MakerdProcess]:
    """A live makerd whose ladder rests at the venue with the dead-man switch armed."""
    bot = LiveBot(
        tmp_path,
        venue,
        feed={"stale_after_s": STALE_AFTER_S},
        watchdog={"dead_man_switch_s": DEAD_MAN_S},
        **overrides,
    )
    process = bot.quoting()
    process.wait_for(r"event=dead_man_switch_armed")
    return bot, process


def freeze(process: MakerdProcess, venue: FaultVenue, bot: LiveBot, *, side: str) -> int:
    """SIGSTOP; the market jumps (a taker fills the crossed side) and a taker sweeps
    ``side`` while makerd cannot see it; SIGCONT. The venue's time of the resume."""
    pause = threading.Event()  # never set: the freeze is the scenario, not a wait for it
    process.signal(signal.SIGSTOP)
    pause.wait(1.0)
    venue.fault(jump_pct=JUMP_PCT)
    venue.fault(sweep={"user": bot.address, "side": side})
    pause.wait(FROZEN_S - 1.0)
    left = bot.record().open_orders
    assert left == 0, f"{left} orders outlived the freeze: the dead-man switch never fired"
    resumed_ms = now_ms()
    process.signal(signal.SIGCONT)
    return resumed_ms


def quoting_again(bot: LiveBot, process: MakerdProcess, since_ms: int) -> None:
    def resting() -> bool:
        record = bot.record()
        placed = [a for a in record.actions_after(since_ms, *NEW_RISK) if a["accepted"]]
        return bool(placed) and record.open_orders >= 2

    poll(resting, timeout_s=30, what="quotes resting again after the resume", process=process)


def armed_again(bot: LiveBot, process: MakerdProcess, since_ms: int) -> None:
    """Until the venue has accepted a dead-man switch armed since ``since_ms``."""

    def armed() -> bool:
        arms = bot.record().actions_after(since_ms, "scheduleCancel")
        return any(a["accepted"] for a in arms)

    poll(armed, timeout_s=10, what="the dead-man switch armed again", process=process)


def frozen_and_quoting_again(
    process: MakerdProcess, venue: FaultVenue, bot: LiveBot, *, side: str
) -> int:
    """:func:`freeze`, then until the ladder rests again with the dead-man switch armed;
    the venue's time of the resume."""
    resumed_ms = freeze(process, venue, bot, side=side)
    quoting_again(bot, process, resumed_ms)
    armed_again(bot, process, resumed_ms)
    return resumed_ms


def stale_prices(bot: LiveBot, since_ms: int) -> list[str]:
    """Every order sent since ``since_ms`` that crossed the venue's book when it arrived, or
    sat farther than :data:`NEAR_TOUCH_BPS` from its own side's touch."""
    found = []
    for action in bot.record().actions_after(since_ms, *NEW_RISK):
        for order in action["priced"]:  # type: ignore[attr-defined]
            px, bid, ask = Decimal(order["px"]), order["best_bid"], order["best_ask"]
            touch = Decimal(bid if order["is_buy"] else ask)
            crossed = px >= Decimal(ask) if order["is_buy"] else px <= Decimal(bid)
            away_bps = abs(px - touch) / touch * 10_000
            if crossed or away_bps > NEAR_TOUCH_BPS:
                side = "bid" if order["is_buy"] else "ask"
                found.append(f"{side} {px} with the book at {bid}/{ask}, t={action['time_ms']}")
    return found


def test_a_process_frozen_past_every_deadline_is_not_taken_for_hung_actors(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot, process = quoting_bot(tmp_path, venue)

    for side in ("buy", "sell"):  # two freezes: each spent five of the five restarts an hour
        frozen_and_quoting_again(process, venue, bot, side=side)
    code = bot.stop(process)

    assert code == EXIT_OK, process.text[-4000:]
    assert_invariants(bot, output=process.text)
    assert "child_abandoned" not in process.text, process.text[-4000:]
    restarts = re.findall(r"restarts=(\d+)", process.text)
    assert restarts[-1:] == ["0"], process.text[-4000:]


def test_no_order_after_a_freeze_is_priced_from_the_book_before_it(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot, process = quoting_bot(tmp_path, venue)

    resumed_ms = frozen_and_quoting_again(process, venue, bot, side="sell")
    threading.Event().wait(2.0)  # a few more quote cycles on the new book
    code = bot.stop(process)

    assert code == EXIT_OK, process.text[-4000:]
    assert_invariants(bot, output=process.text)
    assert stale_prices(bot, resumed_ms) == [], process.text[-4000:]


def test_a_stop_frozen_past_its_own_deadline_still_asks_the_venue_before_it_exits(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot, process = quoting_bot(tmp_path, venue, stop_timeout_s=STOP_TIMEOUT_S)
    pause = threading.Event()

    # The stop's first listing is answered only after the freeze: it is in flight when the
    # process freezes, and its timeout expires while it cannot run. Asked again, it is not.
    venue.fault(delay_info_s=FROZEN_S + 3.0, delay_for_s=1.0)
    process.signal(signal.SIGTERM)
    process.wait_for(r"event=stop_requested")
    stop_ms = now_ms()
    pause.wait(0.5)  # the stop's sweep has asked, and waits for its answer
    process.signal(signal.SIGSTOP)  # mid-stop: its deadline passes while it cannot run
    pause.wait(1.0)
    venue.fault(jump_pct=JUMP_PCT)
    pause.wait(FROZEN_S - 1.0)
    process.signal(signal.SIGCONT)
    code = process.finish(60)
    bot.exits.append(code)

    assert code == EXIT_OK, process.text[-4000:]
    assert "makerd: venue confirms 0 open orders" in process.text
    record = assert_invariants(bot, output=process.text)
    late = [a for a in record.actions_after(stop_ms, *NEW_RISK) if a["accepted"]]
    assert late == [], f"new risk after the stop request: {late}"


def test_a_freeze_past_the_venues_websocket_idle_timeout_reconnects_and_books_its_fills_once(
    idle_closing_venue: FaultVenue, tmp_path: Path
) -> None:
    bot, process = quoting_bot(tmp_path, idle_closing_venue)

    resumed_ms = frozen_and_quoting_again(process, idle_closing_venue, bot, side="buy")
    code = bot.stop(process)

    assert code == EXIT_OK, process.text[-4000:]
    assert "event=ws_reconnected stream=user" in process.text, "the venue never closed it"
    record = assert_invariants(bot, output=process.text)
    assert len(record.trade_ids) >= 3, "the freeze's fills were the point of the scenario"
    assert stale_prices(bot, resumed_ms) == [], process.text[-4000:]
