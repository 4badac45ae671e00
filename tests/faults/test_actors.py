"""A hung order manager, replaced by the watchdog, must not leave its ladder beside the
new incarnation's: the replacement treats what it did not place as orphans."""

from __future__ import annotations

from pathlib import Path

from tests.faults.kit import QUOTE_BOUND, FaultVenue, LiveBot, now_ms


def test_a_hung_order_manager_is_replaced_and_its_orders_do_not_double_the_ladder(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue, faults={"hang_role": "order_manager", "hang_after_s": 4.0})
    process = bot.quoting()

    process.wait_for(r"event=child_restarted role=order_manager .*kind=hung", timeout=30)
    replaced_ms = now_ms()
    bot.wait_resting(process, at_least=QUOTE_BOUND, since_ms=replaced_ms)
    record = bot.stop_cleanly(process)

    orphan_cancels = record.actions_after(replaced_ms - 1000, "cancel", "cancelByCloid")
    assert orphan_cancels, "the replacement never cancelled what the hung incarnation left"
