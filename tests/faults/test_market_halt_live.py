"""The exchange halts a coin's trading mid-run: makerd stands its orders down and comes back.

While the exchange halts a coin, it refuses every order of it with "Trading is halted.".
Before, makerd counted those refusals as a rejection storm: with the market moving, five of
them within ten seconds latched the kill switch (exit 80), and nothing traded again until
an operator cleared it, every coin of the account with it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tests.faults.kit import FaultVenue, LiveBot, now_ms, poll
from tests.faults.market_closed import assert_held_then_quoting_again

HALT_S = 10.0
HOLD_S = 2.0


def test_a_halted_coin_is_held_with_no_orders_and_quoting_resumes_once_the_halt_lifts(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue, risk={"market_halt_hold_s": HOLD_S})
    process = bot.quoting()
    pause = threading.Event()

    halted_ms = now_ms()
    venue.fault(halt_s=HALT_S, coin="BTC")
    venue.fault(jump_pct=0.2)  # the ladder has to move, and every move is refused
    poll(
        lambda: bot.record().open_orders == 0,
        timeout_s=HALT_S / 2,
        what="the halted coin's orders cancelled",
        process=process,
    )
    for _ in range(3):
        pause.wait(HALT_S / 4)
        venue.fault(jump_pct=0.2)

    assert_held_then_quoting_again(
        bot, process, closed_ms=halted_ms, closed_s=HALT_S, hold_s=HOLD_S, event="market_halted"
    )
