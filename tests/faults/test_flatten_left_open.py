"""A stop that flattens and cannot close the position says so wherever an operator looks:
the exit code, the log, the stop's output, the journal's stop row; and it gives up after a
bounded number of closing orders, never looping on a refusal."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from makerd.actors.operator_hold import MAX_FLATTEN_ORDERS
from makerd.daemon.exit_codes import EXIT_KILL_SWITCH, EXIT_POSITION_LEFT
from tests.faults.kit import FaultVenue, LiveBot, now_ms, poll
from tests.processes import MakerdProcess

OPEN_POSITION = r"pos=-?0\.0*[1-9]"
NO_MATCH = "Order could not immediately match against any resting orders."


def paused_and_short(bot: LiveBot, venue: FaultVenue) -> MakerdProcess:
    """makerd quoting, then short at the venue and paused: it sends nothing of its own."""
    process = bot.quoting()
    venue.fault(sweep={"user": bot.address, "side": "buy"})  # a taker lifts every ask: short
    poll(lambda: bot.record().position != 0, timeout_s=10, what="a short position at the venue")
    process.wait_for(OPEN_POSITION)
    bot.pause()
    return process


def stop_rows(state: Path) -> list[str]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        rows = db.execute("SELECT detail FROM order_events WHERE event = 'stopped'")
        return [str(detail) for (detail,) in rows]


def assert_said_left_open(bot: LiveBot, process: MakerdProcess, coin: str) -> None:
    """The stop's output and the journal's stop row name the venue's open ``coin``."""
    position = bot.record().positions.get(coin, Decimal(0))
    assert position != Decimal(0), f"the faults were meant to leave {coin} open"
    left = f"position left open: {coin} {position}"
    assert f"makerd: {left} (" in process.text, process.text[-3000:]
    assert any(row.endswith(f"; {left}") for row in stop_rows(bot.state)), stop_rows(bot.state)


def test_a_stop_whose_every_closing_order_is_refused_exits_saying_the_position_left_open(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue, risk={"flatten_on_stop": True})
    process = paused_and_short(bot, venue)
    armed_ms = now_ms()
    # Nothing on the other side of the book: every closing IOC comes back unfilled.
    venue.fault(reject_next=50, reject_action_type="order", reject_text=NO_MATCH)

    code = bot.stop(process)

    assert_said_left_open(bot, process, "BTC")
    assert code == EXIT_POSITION_LEFT, process.text[-3000:]
    record = bot.record()
    closing = record.actions_after(armed_ms, "order")
    assert 1 <= len(closing) <= MAX_FLATTEN_ORDERS, f"closing orders sent: {closing}"
    # It said when it stopped trying, and the stop stopped waiting then: before, the stop
    # sat out 85 % of stop_timeout_s after the last closing order had been refused.
    assert "event=flatten_gave_up coin=BTC position=-" in process.text, process.text[-3000:]
    assert "event=flat_wait_ended reason=gave_up still_open=1" in process.text
    assert record.open_orders == 0


def test_of_two_coins_the_one_a_fast_market_kept_open_is_the_one_said_left_open(
    venue: FaultVenue, tmp_path: Path
) -> None:
    eth = {"coin": "ETH", "quoting": {"order_size": 0.01}}
    bot = LiveBot(tmp_path, venue, coin=None, coins=["BTC", eth], risk={"flatten_on_stop": True})
    process = bot.start()

    def resting_on_both() -> bool:
        return all(bot.record().open_by_coin.get(coin, 0) >= 1 for coin in ("BTC", "ETH"))

    poll(resting_on_both, timeout_s=40, what="orders resting on both coins", process=process)
    venue.fault(sweep={"user": bot.address, "side": "buy"})  # short on both coins
    poll(
        lambda: all(bot.record().positions.get(coin, 0) != 0 for coin in ("BTC", "ETH")),
        timeout_s=10,
        what="a short position on both coins",
    )
    bot.pause()
    # ETH runs 10 % away while makerd hears no book: each closing IOC's limit (2 % past
    # the last mark it heard) is below every ETH ask, so none fills; BTC did not move.
    venue.fault(freeze_feed_s=60)
    venue.fault(jump_pct=10, coin="ETH")

    code = bot.stop(process)

    assert bot.record().positions["BTC"] == Decimal(0), process.text[-3000:]
    assert_said_left_open(bot, process, "ETH")
    assert code == EXIT_POSITION_LEFT


def test_an_unrealized_loss_kill_whose_closing_orders_all_fail_says_the_position_left_open(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # The kill switch for an unrealized loss closes the position even without
    # flatten_on_kill (the position is the loss). Before, the stop then neither waited for
    # it to close nor said it had not: exit 80 and nothing about the open position.
    risk = {"max_unrealized_loss_usd": 2, "flatten_on_kill": False}
    bot = LiveBot(tmp_path, venue, risk=risk)
    process = paused_and_short(bot, venue)
    venue.fault(reject_next=50, reject_action_type="order", reject_text=NO_MATCH)
    venue.fault(jump_pct=3, coin="BTC")  # against the short: the loss passes 2 USD

    process.wait_for(r"event=kill_switch_tripped reason=unrealized_loss")
    code = process.finish()
    bot.exits.append(code)

    assert_said_left_open(bot, process, "BTC")
    assert code == EXIT_KILL_SWITCH


def test_a_stop_during_an_operators_flatten_that_could_not_close_says_the_position_left_open(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # No flatten_on_stop: the operator asked for the flatten. Before, the stop neither
    # waited for it nor said that its closing order had been refused: exit 0, and nothing
    # about the short position the venue still held.
    bot = LiveBot(tmp_path, venue)
    process = paused_and_short(bot, venue)
    venue.fault(reject_next=50, reject_action_type="order", reject_text=NO_MATCH)
    flatten = bot.ctl("flatten")
    assert "reduce-only IOC buy" in flatten.stdout, flatten.stdout + flatten.stderr

    code = bot.stop(process)

    assert_said_left_open(bot, process, "BTC")
    assert code == EXIT_POSITION_LEFT
