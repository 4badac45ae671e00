"""A live start whose actors cannot start, on an account with orders still resting from a
run killed with -9: the failed start is a stop like any other, so the venue is swept until
it confirms that nothing rests, and the session ends with the failure as its reason. The
next start, on a journal that takes writes again, quotes and books what it missed."""

from __future__ import annotations

from pathlib import Path

from makerd.daemon.exit_codes import EXIT_FAILURE
from tests.faults.kit import FaultVenue, LiveBot
from tests.start_failure_kit import (
    journal_refusing_equity,
    journal_writable_again,
    last_session_end,
    printed_traceback,
)


def test_a_start_whose_actors_fail_sweeps_the_orders_a_killed_run_left(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # The dead-man switch far off: the orders are still resting when the second run starts.
    bot = LiveBot(tmp_path, venue, watchdog={"dead_man_switch_s": 120.0})
    bot.kill_9(bot.quoting())
    left_by_the_kill = bot.record().open_orders
    journal_refusing_equity(bot.state)

    second = bot.start()
    second_started_ms = bot.started_ms
    code = second.finish(timeout=60)
    bot.exits.append(code)
    socket_left = (bot.state / "control.sock").exists()
    record = bot.record()
    ended, stopped = last_session_end(bot.state)
    journal_writable_again(bot.state)
    bot.stop_cleanly(bot.quoting())  # exit 0, and the journal agrees with the venue

    assert left_by_the_kill > 0, "the killed run left nothing: the scenario is moot"
    assert code == EXIT_FAILURE, second.text[-3000:]
    assert "makerd: start failed at actors: child 'fill_tracker'" in second.text
    assert not printed_traceback(second.text), second.text[-3000:]
    assert record.open_orders == 0, f"{record.open_orders} orders left resting"
    cancels = record.actions_after(second_started_ms, "cancel", "cancelByCloid")
    assert any(action["accepted"] for action in cancels), "the venue was never swept"
    assert "makerd: venue confirms 0 open orders" in second.text
    assert not socket_left, "the control socket was left behind"
    assert ended, "the session was left open in the journal"
    assert stopped is not None
    assert "venue_open_orders=0 reason=start failed at actors" in stopped
