"""Someone other than makerd acts on the account makerd trades, during a run.

A trader acts by hand on the account makerd quotes (a taker trade, a resting order, a
cancel or a modify of one of makerd's orders, the dead-man switch) through an agent
wallet of the same account, as traders do: its nonces are its own, so its actions never
collide with makerd's. The venue, not makerd, is the witness: every fill journaled once,
the journal's position the venue's, makerd's orders bounded, and a stop that exits 0
leaves nothing resting on makerd's coin.
"""

from __future__ import annotations

import json
import random
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from hyperliquid.utils.types import Cloid

from makerd.daemon.exit_codes import EXIT_KILL_SWITCH, EXIT_OK
from tests.faults.kit import (
    DEAD_MAN_S,
    OPEN_ORDER_BOUND,
    QUOTE_BOUND,
    FaultVenue,
    LiveBot,
    assert_invariants,
    now_ms,
    poll,
)
from tests.faults.trader import Trader
from tests.processes import MakerdProcess


def quoting_beside_a_trader(
    venue: FaultVenue, tmp_path: Path
) -> tuple[LiveBot, Trader, MakerdProcess]:
    """A bot quoting BTC, and a trader on its account (approved before makerd started)."""
    bot = LiveBot(tmp_path, venue)
    trader = Trader(bot)
    return bot, trader, bot.quoting()


def wait_cancelled(trader: Trader, oid: int, process: MakerdProcess, what: str) -> None:
    """Until the BTC order ``oid`` rests no more (within 20 s: before makerd's first audit,
    which comes at least 28 s after the start's clean listing)."""
    poll(lambda: oid not in trader.resting_oids("BTC"), timeout_s=20, what=what, process=process)


def ctl_json(bot: LiveBot, command: str) -> dict[str, Any]:
    done = bot.ctl(command)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_a_manual_order_on_makerds_coin_is_cancelled_at_once_and_one_on_another_coin_is_left(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # Before: the user stream reported the stranger at once and makerd ignored it; only
    # the minute's audit (30-90 s after the last clean listing) found and cancelled it.
    bot, trader, process = quoting_beside_a_trader(venue, tmp_path)

    btc_oid = trader.rest("BTC", buy=True)
    eth_oid = trader.rest("ETH", buy=True)

    wait_cancelled(trader, btc_oid, process, "the manual BTC order cancelled")
    bot.wait_resting(process, at_least=QUOTE_BOUND, since_ms=now_ms())
    assert process.text.count("event=orphans_found") == 1, process.text[-3000:]
    assert bot.stop(process) == EXIT_OK, process.text[-3000:]
    assert trader.resting_oids("ETH") == [eth_oid], "a one-coin makerd touched ETH"
    # The trader's ETH order rests: "0 open orders" is true of makerd's coin only, and says
    # so (before, the line read as if the account had none).
    assert "makerd: venue confirms 0 open orders for BTC\n" in process.text
    trader.exchange.cancel("ETH", eth_oid)
    record = assert_invariants(bot, output=process.text, by_hand=True)
    assert record.peak_by_coin["BTC"] <= OPEN_ORDER_BOUND + 1  # and the trader's one


def test_of_two_coins_only_the_one_the_manual_order_rests_on_cancels_it_and_only_it(
    venue: FaultVenue, tmp_path: Path
) -> None:
    eth = {"coin": "ETH", "quoting": {"order_size": 0.01}}
    bot = LiveBot(tmp_path, venue, coin=None, coins=["BTC", eth])
    trader = Trader(bot)
    process = bot.start()

    def both_ladders() -> bool:
        orders = trader.info.frontend_open_orders(bot.address)
        return all(sum(o["coin"] == c for o in orders) == QUOTE_BOUND for c in ("BTC", "ETH"))

    poll(both_ladders, timeout_s=40, what="both coins' ladders resting", process=process)
    ladders = {o["cloid"] for o in trader.info.frontend_open_orders(bot.address)}
    on_eth = trader.rest("ETH", buy=True)
    on_doge = trader.rest("DOGE", buy=True)

    poll(
        lambda: on_eth not in trader.resting_oids("ETH"),
        timeout_s=20,
        what="the manual ETH order cancelled",
        process=process,
    )
    kept = ladders & {o.get("cloid") for o in trader.info.frontend_open_orders(bot.address)}
    assert len(kept) >= 2 * QUOTE_BOUND - 2, f"{len(kept)} of {len(ladders)} kept"
    assert bot.stop(process) == EXIT_OK, process.text[-3000:]
    assert "makerd: venue confirms 0 open orders for BTC, ETH\n" in process.text
    assert trader.resting_oids("DOGE") == [on_doge], "makerd touched a coin it does not quote"
    trader.exchange.cancel("DOGE", on_doge)
    record = bot.record()
    for coin in ("BTC", "ETH"):
        journal = bot.journal_trade_ids(coin)
        assert sorted(journal) == sorted(record.trade_ids_of(coin)), f"{coin}'s fills"
        assert bot.journal_position(coin) == record.positions[coin], f"{coin}'s position"
        assert record.open_by_coin[coin] == 0, f"exit 0 with {coin} orders resting"
    assert bot.journal_adjustments() == []
    assert record.peak_by_coin["BTC"] <= OPEN_ORDER_BOUND
    assert record.peak_by_coin["ETH"] <= OPEN_ORDER_BOUND + 1  # and the trader's one


def test_cancelling_a_manual_order_leaves_makerds_own_ladder_resting(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # Before: the orphan rule cancelled the coin's whole ladder with the stranger, and the
    # coin was unquoted for about a second. makerd follows the market by modifying its
    # orders (a modify keeps the cloid): its ladder is the same cloids throughout.
    bot, trader, process = quoting_beside_a_trader(venue, tmp_path)
    ladder = trader.resting_cloids()

    stranger = trader.rest("BTC", buy=True)
    wait_cancelled(trader, stranger, process, "the manual BTC order cancelled")

    # The venue's background takers may fill one or two of them meanwhile (a filled order
    # is replaced under a new cloid); before, none of the six was left.
    kept = ladder & trader.resting_cloids()
    assert len(kept) >= QUOTE_BOUND - 2, f"{len(kept)} of {len(ladder)} kept{process.text[-3000:]}"
    assert bot.stop(process) == EXIT_OK, process.text[-3000:]
    record = assert_invariants(bot, output=process.text, by_hand=True)
    assert record.peak_by_coin["BTC"] <= OPEN_ORDER_BOUND + 1  # and the trader's one


def test_a_manual_taker_trade_is_booked_once_skews_the_quotes_and_flatten_closes_it(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot, trader, process = quoting_beside_a_trader(venue, tmp_path)

    bought = trader.take(buy=True, size=Decimal("0.03"))

    def booked() -> bool:
        return Decimal(ctl_json(bot, "status")["position"]) == bot.record().position

    poll(booked, timeout_s=15, what="makerd's position the venue's", process=process)
    assert bot.record().position >= bought - QUOTE_BOUND * Decimal("0.002")

    def skewed() -> bool:  # long: it bids less than it offers
        sizes = {"B": Decimal(0), "A": Decimal(0)}
        for order in trader.makerds_orders():
            sizes[order["side"]] += Decimal(order["sz"])
        return Decimal(0) < sizes["B"] < sizes["A"]

    poll(skewed, timeout_s=15, what="a ladder leaning to sell", process=process)
    flatten = ctl_json(bot, "flatten")
    assert flatten["flatten_order"]["side"] == "sell", flatten
    poll(lambda: bot.record().position == 0, timeout_s=15, what="flat", process=process)
    bot.stop_cleanly(process)


def test_a_manual_trade_past_the_position_limit_trips_the_kill_switch(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot, trader, process = quoting_beside_a_trader(venue, tmp_path)  # max_position 0.05

    trader.take(buy=True, size=Decimal("0.06"))

    code = process.finish(timeout=30)
    bot.exits.append(code)
    assert code == EXIT_KILL_SWITCH, process.text[-3000:]
    assert "reason=max_position" in process.text
    assert_invariants(bot, output=process.text)


def test_manual_cancels_and_modifies_of_makerds_orders_leave_only_makerds_ladder(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot, trader, process = quoting_beside_a_trader(venue, tmp_path)

    def ladder_whole_again(since_ms: int) -> None:
        bot.wait_resting(process, at_least=QUOTE_BOUND, since_ms=since_ms)

    for cancel in ("oid", "cloid"):
        order = trader.makerds_orders()[0]
        since = now_ms()
        if cancel == "oid":
            trader.exchange.cancel("BTC", order["oid"])
        else:
            trader.exchange.cancel_by_cloid("BTC", Cloid(order["cloid"]))
        ladder_whole_again(since)
    for keep_cloid in (False, True):
        # The old leg is cancelled (makerd replaces its order); the new one is a stranger
        # (no cloid, or the cloid of an order makerd has seen end).
        since = now_ms()
        leg = trader.modify(trader.makerds_orders()[0], keep_cloid=keep_cloid)
        wait_cancelled(trader, leg, process, f"a manual modify's leg (cloid kept: {keep_cloid})")
        ladder_whole_again(since)

    assert bot.stop(process) == EXIT_OK, process.text[-3000:]
    record = assert_invariants(bot, output=process.text, by_hand=True)
    # makerd's ladder and its transient margin, and the one leg the trader made at a time.
    assert record.peak_by_coin["BTC"] <= OPEN_ORDER_BOUND + 1


def test_a_dead_man_switch_the_trader_clears_is_armed_again_by_makerd(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # The exchange keeps one switch per account: the trader's clear disarms makerd's, and
    # makerd (which cannot read it back) finds out only by re-arming on its own schedule.
    bot, trader, process = quoting_beside_a_trader(venue, tmp_path)

    trader.exchange.schedule_cancel(None)
    assert venue.fault(fire_scheduled_cancel=True, user=bot.address)["fired"] == []

    def armed_again() -> bool:
        return venue.fault(fire_scheduled_cancel=True, user=bot.address)["fired"] != []

    poll(armed_again, timeout_s=DEAD_MAN_S, what="the switch armed again", process=process)
    # It fired: every order of the account cancelled; makerd quotes again.
    bot.wait_resting(process, at_least=QUOTE_BOUND, since_ms=now_ms())
    bot.stop_cleanly(process)


def test_a_trader_acting_at_random_on_the_account_costs_makerd_no_fill(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot, trader, process = quoting_beside_a_trader(venue, tmp_path)
    rng = random.Random(5)
    pause = threading.Event()  # never set: a timed wait between the trader's acts
    acts = 0
    for _ in range(30):
        act = rng.choice(("take", "rest", "cancel", "modify", "other_coin"))
        ours = trader.makerds_orders()
        if act == "take":
            trader.take(buy=rng.random() < 0.5, size=Decimal("0.003"))
        elif act == "rest":  # at the touch: it may trade at once, or be filled later
            trader.at_touch("BTC", buy=rng.random() < 0.5)
        elif act == "other_coin":
            trader.rest("ETH", buy=True)
        elif ours and act == "cancel":
            trader.exchange.cancel("BTC", rng.choice(ours)["oid"])
        elif ours:
            trader.modify(rng.choice(ours), keep_cloid=rng.random() < 0.5)
        acts += 1
        pause.wait(rng.uniform(0.1, 0.5))
    assert acts >= 20

    assert bot.stop(process) == EXIT_OK, process.text[-3000:]
    record = assert_invariants(bot, output=process.text, by_hand=True)
    assert record.open_by_coin["ETH"] > 0, "the trader's ETH orders rest through the stop"
    assert record.trade_ids_of("BTC"), "no fill at all: the scenario tested nothing"
