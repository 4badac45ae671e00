"""An exchange that limits, delays and refuses: fills still booked once, orders still
bounded, a stop still honest."""

from __future__ import annotations

import threading
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_KILL_SWITCH, EXIT_OK, EXIT_ORDERS_LEFT
from tests.faults.kit import (
    FaultVenue,
    LiveBot,
    assert_invariants,
    now_ms,
    poll,
)

IN_FLIGHT_MS = 100
"""An order sent just before the stop request may still be on the wire when it lands."""
NEW_RISK = ("order", "modify", "batchModify")


def test_fills_during_a_rate_limit_and_after_a_reconnect_are_booked_once(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    process = bot.quoting()
    pause = threading.Event()

    venue.fault(rate_limit_for_s=4.0, rate_limit_kind="address")
    venue.fault(sweep={"user": bot.address, "side": "buy"})
    pause.wait(6.0)  # the limit has lifted; the user stream reconnects a little later
    venue.fault(drop_stream="user")
    venue.fault(sweep={"user": bot.address, "side": "sell"})
    poll(
        lambda: len(bot.journal_trade_ids()) >= len(bot.record().trade_ids) >= 2,
        timeout_s=30,
        what="every venue fill in the journal",
    )
    bot.stop_cleanly(process)


def test_a_long_rate_limit_is_not_replayed_and_a_stop_right_after_it_sends_no_order(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    process = bot.quoting()
    pause = threading.Event()

    lifted_ms = now_ms() + 8000
    venue.fault(rate_limit_for_s=8.0, rate_limit_kind="address")
    for _ in range(3):  # the market moves while nothing may be sent: targets go stale
        venue.fault(jump_pct=0.3)
        pause.wait(2.0)

    def quoting_again() -> bool:
        return any(a["accepted"] for a in bot.record().actions_after(lifted_ms, *NEW_RISK))

    poll(quoting_again, timeout_s=30, what="new orders once the limit lifted", process=process)
    stop_ms = now_ms()
    print(f"quoting again {(stop_ms - lifted_ms) / 1000:.1f}s after the limit lifted")
    code = bot.stop(process)

    record = assert_invariants(bot, output=process.text)
    late = [a for a in record.actions_after(stop_ms + IN_FLIGHT_MS, *NEW_RISK) if a["accepted"]]
    assert late == [], f"orders reached the venue after the stop request: {late}"
    assert code in (EXIT_OK, EXIT_ORDERS_LEFT), process.text[-3000:]


def test_answers_delayed_past_the_ack_timeout_never_let_a_second_ladder_join_the_first(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    process = bot.quoting()
    pause = threading.Event()

    venue.fault(delay_exchange_s=6.0, delay_info_s=1.0, delay_for_s=12.0)
    for _ in range(4):
        venue.fault(jump_pct=0.2)
        pause.wait(2.0)
    pause.wait(10.0)  # the delay lifts; every answer it held back arrives
    bot.wait_resting(process, at_least=2)
    bot.stop_cleanly(process)


def test_a_run_of_refused_actions_trips_the_kill_switch_and_the_exit_says_what_rests(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    process = bot.quoting()

    venue.fault(reject_next=20)  # a refusal makerd files as "other"
    venue.fault(jump_pct=0.3)  # makes every order move: each move is refused
    code = process.finish(timeout=90)
    bot.exits.append(code)

    record = assert_invariants(bot, output=process.text)
    assert "rejection_storm" in process.text, process.text[-3000:]
    assert code in (EXIT_KILL_SWITCH, EXIT_ORDERS_LEFT), process.text[-3000:]
    if code == EXIT_KILL_SWITCH:
        assert "venue confirms 0 open orders" in process.text
        assert record.open_orders == 0
    else:
        assert "could not confirm that no order is left open" in process.text


def test_a_refused_dead_man_rearm_is_retried_at_once(venue: FaultVenue, tmp_path: Path) -> None:
    # A 6 s horizon is re-armed about every 3 s (once a third of it plus a ping is left), not
    # every ~6 s: the refusal comes sooner, and the retry has a shorter window to land in.
    bot = LiveBot(tmp_path, venue, watchdog={"dead_man_switch_s": 6.0})
    process = bot.start()
    bot.wait_resting(process)
    poll(
        lambda: any(a["type"] == "scheduleCancel" for a in bot.record().actions),
        timeout_s=20,
        what="the dead-man switch armed",
    )

    armed_ms = now_ms()
    venue.fault(reject_next=1, reject_action_type="scheduleCancel")

    def rearmed_after_refusal() -> bool:
        arms = bot.record().actions_after(armed_ms, "scheduleCancel")
        refused = [i for i, a in enumerate(arms) if not a["accepted"]]
        return bool(refused) and any(a["accepted"] for a in arms[refused[0] + 1 :])

    took_s = poll(
        rearmed_after_refusal, timeout_s=30, what="a re-arm after the refused one", process=process
    )
    bot.stop_cleanly(process)

    assert "dead_man_switch" in process.text
    print(f"re-armed {took_s:.1f}s after the refusal was armed")
