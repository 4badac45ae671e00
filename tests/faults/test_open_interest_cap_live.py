"""The exchange caps a coin's open interest mid-run: makerd keeps control, and its trading.

While a coin's open interest is at its cap, Hyperliquid refuses every order that could grow
a position. Before, makerd counted those refusals as a rejection storm: with the market
moving, five of them within ten seconds latched the kill switch (exit 80), and nothing
traded again until an operator cleared it, every coin of the account with it.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from tests.faults.kit import QUOTE_BOUND, FaultVenue, LiveBot, now_ms, poll

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
    lifted_ms = capped_ms + round(CAP_S * 1000)

    def full_ladder_again() -> bool:
        return now_ms() > lifted_ms and bot.record().open_orders >= QUOTE_BOUND

    what = "the full ladder after the cap"
    took_s = poll(full_ladder_again, timeout_s=CAP_S + 30, what=what, process=process)
    print(f"full ladder {took_s:.1f}s after the last jump (the cap lifted at about that time)")
    record = bot.stop_cleanly(process)  # exit 0: no kill switch, and every invariant

    assert "event=kill_switch_tripped" not in process.text
    held = re.findall(r"event=open_interest_capped coin=BTC .*", process.text)
    assert held, "the cap's refusals were never said"
    new_risk = record.actions_after(capped_ms, "order", "batchModify", "modify")
    during = [a for a in new_risk if int(str(a["time_ms"])) < lifted_ms]
    print(f"{len(held)} holds, {len(during)} order actions under the cap")
    # A refused ladder per hold at most, and the reduce-only orders a hold lets through;
    # before, the refusals came at the quoting's pace until the storm tripped.
    bound = 2 * (CAP_S / HOLD_S + 1)
    assert len(during) <= bound, f"{len(during)} order actions under a {CAP_S:g}s cap"
