"""A step back of the host's wall clock does not stretch the actors' waits by its length.

The actors time their waits by the wall clock their messages carry: the quoter's refresh
interval, the fill tracker's mark and equity publishing, the risk guardian's margin
poll, the order manager's pending timeout, its retries and audits of the venue, its
rate-limit pause, the price band's pause, a flatten's settling time, and the adapter's
hold on a fill that names no known order. Each compared "now" with when the wait began,
so after a step back (NTP putting a fast clock right, a VM's clock corrected) the wait
ran on until the clock came back to where it had been: a minute's step held every quote
refresh, every published mark (the loss limit judged a minute-old mark), every retry of
a dirty venue view (no new quotes) and every margin poll for that minute.

A wait whose start lies ahead of "now" now ends (``protocol.clock.still_waiting``): the
clock stepped back, and how long has passed can no longer be told. Each test starts a
wait, steps the clock back, and checks that the wait ends within its own length.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from makerd.actors.exposure import RateLimitPause
from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.actors.operator_hold import FLATTEN_SETTLE_NS, ClosingStep, OperatorHold
from makerd.actors.order_state import OrderTable
from makerd.actors.price_band import BandSettings, PriceBand
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.actors.venue_truth import TruthTiming, VenueTruth
from makerd.config.model import RiskConfig
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.account import PositionChanged
from makerd.protocol.clock import still_waiting
from makerd.protocol.control import TimerFired
from makerd.protocol.orders import (
    ModifyOrders,
    OrderRequest,
    OrderStatus,
    PlaceOrders,
    QuoteTarget,
    RequestMargin,
)
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.pending_fills import PendingFills
from makerd.venues.hyperliquid.state import OrderLegs
from tests.kit import MS, T0, S, book, d, fill, of_type, target
from tests.test_order_manager import accept_all, manager
from tests.test_quoter import throttled_quoter

STEP_NS = 60 * S
"""How far back the host's clock is put: a minute, as an NTP correction may."""
TICK_NS = 100 * MS


def ticks_after_the_step(before_ns: int, until_ns: int) -> range:
    """The ticker's stamps from the step (taken just after ``before_ns``) to ``until_ns``
    after it, on the stepped-back clock."""
    start = before_ns - STEP_NS + TICK_NS
    return range(start, start + until_ns, TICK_NS)


def test_still_waiting_ends_a_wait_whose_start_is_ahead_of_the_clock() -> None:
    assert still_waiting(T0 + 100, T0, 200)
    assert not still_waiting(T0 + 200, T0, 200)
    assert still_waiting(T0 - 500 * MS, T0, 200), "stamps a little out of order: no step"
    assert not still_waiting(T0 - 2 * S, T0, 200), "the clock stepped back past the start"


def test_the_quoter_requotes_on_its_interval_after_a_step_back() -> None:
    quoter = throttled_quoter()  # requotes at most every 250 ms
    quoter.handle(book("59999", "60001", ts=T0 + 300 * MS))

    targets = [
        at
        for at in ticks_after_the_step(T0 + 300 * MS, 1 * S)
        if of_type(quoter.handle(TimerFired(ts_local=at)), QuoteTarget)
    ]

    assert targets, "no requote for the step's length"
    assert len(targets) <= 4, "still throttled to one a 250 ms"
    assert targets[0] == T0 + 300 * MS - STEP_NS + TICK_NS


def test_the_fill_tracker_publishes_marks_after_a_step_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    tracker = FillTrackerLogic(
        coin="BTC",
        journal=journal,
        session_id=journal.start_session(mode="live", coin="BTC", ts_ns=T0),
        mark_publish_interval_ns=S,
        equity_interval_ns=S,
    )
    tracker.start(T0)
    [first] = of_type(tracker.handle(book("59999", "60001", ts=T0 + 2 * S)), PositionChanged)

    published = [
        changed
        for at in ticks_after_the_step(T0 + 2 * S, 3 * S)
        for changed in of_type(tracker.handle(book("61999", "62001", ts=at)), PositionChanged)
    ]

    assert published, "the risk guardian judged a mark a minute old"
    assert 2 <= len(published) <= 4, "one a second, as before the step"
    assert published[0].mark == d("62000")
    assert all(changed.ts_local >= first.ts_local for changed in published), (
        "the journal's equity rows stay in the order they were published"
    )


def test_the_risk_guardian_polls_margin_after_a_step_back(tmp_path: Path) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(margin_poll_s=5.0), latch=KillSwitchLatch(tmp_path))
    assert of_type(risk.handle(TimerFired(ts_local=T0)), RequestMargin)

    polls = [
        at
        for at in ticks_after_the_step(T0, 6 * S)
        if of_type(risk.handle(TimerFired(ts_local=at)), RequestMargin)
    ]

    assert polls, "no margin poll for the step's length"
    assert len(polls) <= 2


def test_a_dirty_venue_view_is_asked_again_after_a_step_back() -> None:
    truth = VenueTruth(TruthTiming())
    truth.asked(T0)  # unanswered: it retries after 1 s, doubling to 8 s

    retries = [at for at in ticks_after_the_step(T0, 2 * S) if truth.due(at)]

    assert retries, "no new quotes until the clock came back: the view stays dirty"


def test_a_clean_venue_view_is_audited_after_a_step_back() -> None:
    truth = VenueTruth(TruthTiming(audit_interval_ns=60 * S))
    truth.asked(T0)
    truth.reported(orphans=False, in_doubt=False, now_ns=T0)
    step_ns = 10 * 60 * S  # ten minutes back: without the fix, eleven without an audit

    audits = [at for at in range(T0 - step_ns, T0 - step_ns + 90 * S, TICK_NS) if truth.due(at)]

    assert audits, "an order that slipped past every event would go unseen for the step"


def test_a_rate_limit_pause_ends_within_its_length_after_a_step_back() -> None:
    pause = RateLimitPause()
    pause.refused(T0, retry_after_ns=2 * S)
    assert pause.paused(T0 + S)

    assert not pause.paused(T0 + S - STEP_NS), "quotes held back for the step's length"
    pause.refused(T0 - STEP_NS, retry_after_ns=2 * S)
    assert pause.paused(T0 - STEP_NS + S), "a refusal after the step pauses as before"
    assert not pause.paused(T0 - STEP_NS + 2 * S)
    assert pause.pauses == 2


def test_a_price_band_pause_ends_within_its_length_after_a_step_back() -> None:
    band = PriceBand()
    settings = BandSettings(pct=Decimal("1"), window_s=10.0, pause_s=30.0)
    band.observe(d("60000"), ts_exchange=T0, ts_local=T0, settings=settings)
    why = band.observe(d("61000"), ts_exchange=T0 + S, ts_local=T0 + S, settings=settings)
    assert why is not None
    assert band.paused(T0 + 2 * S)

    assert not band.paused(T0 + 2 * S - STEP_NS), "quoting paused 90 s, not 30"


def test_a_flatten_settles_within_its_time_after_a_step_back() -> None:
    hold = OperatorHold()
    assert hold.close_on_stop() is ClosingStep.SEND
    hold.flatten_sent("0x01")

    def closing_at(now_ns: int) -> ClosingStep:
        return hold.next_closing(
            position=d("0.01"), closing_order_working=False, rate_limited=False, now_ns=now_ns
        )

    assert closing_at(T0) is ClosingStep.WAIT  # the last closing order ended: settling begins

    steps = [closing_at(at) for at in (T0 - STEP_NS, T0 - STEP_NS + FLATTEN_SETTLE_NS)]

    assert ClosingStep.SEND in steps, "the next closing order waited out the step"


def test_an_unanswered_order_is_settled_from_the_venue_after_a_step_back() -> None:
    table = OrderTable(coin="BTC")
    request = OrderRequest(
        cloid="0x" + "ab" * 16, coin="BTC", side=Side.BUY, price=d("60000"), size=d("0.01")
    )
    table.add_pending((request,), T0)

    expired = [at for at in ticks_after_the_step(T0, 6 * S) if table.expire_pending(at, 5 * S)]

    assert expired, "an order whose answer was lost stayed pending for the step's length"
    order = table.get(request.cloid)
    assert order is not None
    assert order.status is OrderStatus.UNKNOWN


def test_a_fill_of_an_unknown_order_reaches_the_position_after_a_step_back() -> None:
    held = PendingFills(hold_ns=2 * S)
    held.hold(fill("t1", Side.BUY, "60000", "0.01", ts=T0))

    released = [
        at for at in ticks_after_the_step(T0, 3 * S) if held.release(OrderLegs(), now_ns=at)
    ]

    assert released, "a fill kept from the position for the step's length"


def test_an_order_behind_its_level_is_refreshed_by_age_after_a_step_back() -> None:
    om = manager(price_tolerance_bps=Decimal(2), max_order_age_s=10.0, queue_hold_s=5.0)
    accept_all(om, of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders))
    # The target rose 3 bps: the bid is behind it, within its 2 x 2 bps while it is young.
    young = om.handle(target([("60008", "0.002")], [], ts=T0 + 1 * S))

    # Eleven seconds after the clock stepped back a minute, the order is past its 10 s
    # age; read as -49 s old, it kept its widened slack for the whole step.
    after_step = om.handle(target([("60008", "0.002")], [], ts=T0 - STEP_NS + 11 * S))

    assert of_type(young, ModifyOrders) == []
    assert [a.price for m in of_type(after_step, ModifyOrders) for a in m.amendments] == [
        d("60008")
    ]
