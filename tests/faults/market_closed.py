"""The end of a fault that closed one coin's market a while (an open-interest cap, a halt):
quoting comes back whole once it lifts, with no kill switch, and the refused orders it cost
stay bounded by its holds."""

from __future__ import annotations

import re

from tests.faults.kit import QUOTE_BOUND, LiveBot, now_ms, poll
from tests.processes import MakerdProcess


def assert_held_then_quoting_again(
    bot: LiveBot,
    process: MakerdProcess,
    *,
    closed_ms: int,
    closed_s: float,
    hold_s: float,
    event: str,
) -> None:
    """The market closed at ``closed_ms`` for ``closed_s``: the full ladder rests again
    after it, makerd stops cleanly (exit 0, every invariant), it said ``event`` for the
    coin, and it sent at most a refused ladder and the orders a hold lets through per
    hold of ``hold_s`` while the market was closed."""
    lifted_ms = closed_ms + round(closed_s * 1000)

    def full_ladder_again() -> bool:
        return now_ms() > lifted_ms and bot.record().open_orders >= QUOTE_BOUND

    what = "the full ladder after the market opened again"
    took_s = poll(full_ladder_again, timeout_s=closed_s + 30, what=what, process=process)
    print(f"full ladder {took_s:.1f}s after the last jump (the market opened about then)")
    record = bot.stop_cleanly(process)  # exit 0: no kill switch, and every invariant

    assert "event=kill_switch_tripped" not in process.text
    held = re.findall(rf"event={event} coin=BTC .*", process.text)
    assert held, f"the refusals were never said ({event})"
    new_risk = record.actions_after(closed_ms, "order", "batchModify", "modify")
    during = [a for a in new_risk if int(str(a["time_ms"])) < lifted_ms]
    print(f"{len(held)} holds, {len(during)} order actions while the market was closed")
    # Before, the refusals came at the quoting's pace until a rejection storm tripped.
    bound = 2 * (closed_s / hold_s + 1)
    assert len(during) <= bound, f"{len(during)} order actions in {closed_s:g}s closed"
