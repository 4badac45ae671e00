"""The exchange caps a coin's open interest mid-run: makerd keeps control, and its trading.

While a coin's open interest is at its cap, Hyperliquid refuses every order that could grow
a position. Before, makerd counted those refusals as a rejection storm: with the market
moving, five of them within ten seconds latched the kill switch (exit 80), and nothing
traded again until an operator cleared it, every coin of the account with it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tests.faults.kit import FaultVenue, LiveBot, now_ms, poll
from tests.faults.market_closed import assert_held_then_quoting_again

CAP_S = 10.0
HOLD_S = 2.0


def test_an_open_interest_cap_holds_the_coin_reduce_only_and_quoting_resumes_once_it_lifts(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue, risk={"open_interest_cap_hold_s": HOLD_S})
    process = bot.quoting()
    pause = threading.Event()
    venue.fault(sweep={"user": bot.address, "side": "sell"})  # long: something to reduce
    poll(lambda: bot.record().position > 0, timeout_s=10, what="a long position")

    capped_ms = now_ms()
    venue.fault(open_interest_cap_s=CAP_S, coin="BTC")
    for _ in range(4):  # the market moves under the cap: the ladder has to move with it
        venue.fault(jump_pct=0.2)
        pause.wait(CAP_S / 4)

    assert_held_then_quoting_again(
        bot,
        process,
        closed_ms=capped_ms,
        closed_s=CAP_S,
        hold_s=HOLD_S,
        event="open_interest_capped",
    )
