"""The quoter emits legal, skewed quotes and pulls them when it must."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from makerd.actors.quoter import QuoterLogic, urgent_move_bps
from makerd.config.model import MakerdConfig, OrderManagerConfig
from makerd.daemon.wiring import build_estimators
from makerd.protocol.control import ParametersChanged, TimerFired
from makerd.protocol.market import FeedStale
from makerd.protocol.orders import QuoteLevelsRefused, QuoteTarget
from makerd.protocol.risk import RiskStateChanged, TradingState
from makerd.quoting.base import QuoteInputs, RawLadder
from makerd.quoting.symmetric import SymmetricLadder
from tests.kit import BTC, MS, STALE_AFTER_NS, T0, S, book, d, of_type, position


def quoter(max_position_usd: Decimal = Decimal(0), **ladder: float) -> QuoterLogic:
    params: dict[str, float] = {
        "levels": 3,
        "first_level_bps": 3.0,
        "level_spacing_bps": 2.0,
        "order_size": 0.002,
        "inventory_skew_bps": 4.0,
    }
    params.update(ladder)
    model = SymmetricLadder(**params)  # type: ignore[arg-type]
    return QuoterLogic(
        instrument=BTC,
        model=model,
        estimators=build_estimators(MakerdConfig(), started_ns=T0),
        max_position=Decimal("0.05"),
        min_requote_interval_ns=0,
        stale_after_ns=STALE_AFTER_NS,
        max_position_usd=max_position_usd,
    )


def only_target(messages: list[object]) -> QuoteTarget:
    targets = of_type(messages, QuoteTarget)
    assert len(targets) == 1
    return targets[0]


def test_quotes_are_legal_and_never_cross_the_book() -> None:
    q = quoter()

    t = only_target(q.handle(book("59999", "60001")))

    assert len(t.bids) == 3
    assert len(t.asks) == 3
    for level in (*t.bids, *t.asks):
        assert BTC.is_valid_price(level.price)
        assert BTC.is_valid_size(level.size)
        assert level.price * level.size >= BTC.min_notional
    assert t.bids[0].price < d("60001")
    assert t.asks[0].price > d("59999")
    assert t.bids[0].price < t.asks[0].price


def test_long_inventory_shifts_quotes_down_and_shrinks_bids() -> None:
    flat = only_target(quoter().handle(book("59999", "60001")))
    q = quoter()
    q.handle(book("59999", "60001"))

    long = only_target(q.handle(position("0.03")))

    assert long.asks[0].price < flat.asks[0].price, "cheaper asks to shed inventory"
    assert long.bids[0].price < flat.bids[0].price
    assert long.bids[0].size <= flat.bids[0].size


def test_past_the_one_sided_threshold_only_the_reducing_side_is_quoted() -> None:
    q = quoter(one_sided_at=0.8)
    q.handle(book("59999", "60001"))

    t = only_target(q.handle(position("0.045")))

    assert t.bids == ()
    assert t.asks


def test_a_usd_limit_tighter_than_the_base_one_is_what_the_skew_leans_against() -> None:
    """0.03 BTC is 60 % of the 0.05 limit, but 90 % of a 2000 USD limit at 60000: past
    the one-sided threshold, where the guardian would soon turn the coin reduce-only."""
    by_size = quoter(one_sided_at=0.8)
    by_size.handle(book("59999", "60001"))
    by_usd = quoter(one_sided_at=0.8, max_position_usd=Decimal(2000))
    by_usd.handle(book("59999", "60001"))

    assert only_target(by_size.handle(position("0.03"))).bids, "60 %: both sides quoted"
    assert only_target(by_usd.handle(position("0.03"))).bids == ()


def test_a_reloaded_usd_limit_takes_effect_on_the_skew() -> None:
    q = quoter(one_sided_at=0.8)
    q.handle(book("59999", "60001"))
    q.handle(position("0.03"))
    config = MakerdConfig()
    risk = dataclasses.replace(config.risk, max_position_usd=Decimal(2000))

    t = only_target(
        q.handle(
            ParametersChanged(
                quoting=config.quoting,
                order_manager=config.order_manager,
                risk=risk,
                ts_local=T0,
            )
        )
    )

    assert t.bids == (), "bound by the reloaded USD limit"


def test_reduce_only_state_quotes_no_more_than_the_position() -> None:
    q = quoter()
    q.handle(book("59999", "60001"))
    q.handle(position("0.003"))

    t = only_target(
        q.handle(RiskStateChanged(state=TradingState.REDUCE_ONLY, reason="x", ts_local=T0))
    )

    assert t.bids == ()
    assert sum(level.size for level in t.asks) <= d("0.003")


def test_halted_or_stale_means_an_empty_target() -> None:
    q = quoter()
    q.handle(book("59999", "60001"))

    stale = only_target(
        q.handle(FeedStale(coin="BTC", silent_for_ns=6 * S, ts_exchange=T0, ts_local=T0 + 6 * S))
    )
    halted = only_target(
        q.handle(RiskStateChanged(state=TradingState.HALTED, reason="x", ts_local=T0 + 7 * S))
    )

    assert (stale.bids, stale.asks) == ((), ())
    assert (halted.bids, halted.asks) == ((), ())


def test_a_timer_after_a_freeze_prices_nothing_from_the_book_held_before_it() -> None:
    q = quoter()
    q.handle(book("59999", "60001"))

    resumed = only_target(q.handle(TimerFired(ts_local=T0 + STALE_AFTER_NS + S)))

    assert (resumed.bids, resumed.asks) == ((), ())


def throttled_quoter(urgent_move: Decimal | None = None) -> QuoterLogic:
    """One level, requoting at most every 250 ms (unless the mid moved by ``urgent_move``)."""
    return QuoterLogic(
        instrument=BTC,
        model=SymmetricLadder(levels=1, first_level_bps=3, level_spacing_bps=1, order_size=0.002),
        estimators=build_estimators(MakerdConfig(), started_ns=T0),
        max_position=Decimal("0.05"),
        min_requote_interval_ns=250 * MS,
        stale_after_ns=STALE_AFTER_NS,
        urgent_move_bps=urgent_move,
    )


def test_requotes_are_throttled_by_the_minimum_interval() -> None:
    q = throttled_quoter()

    first = q.handle(book("59999", "60001", ts=T0 + 300 * MS))
    second = q.handle(book("59998", "60000", ts=T0 + 400 * MS))
    third = q.handle(book("59998", "60000", ts=T0 + 600 * MS))

    assert len(of_type(first, QuoteTarget)) == 1
    assert second == []
    assert len(of_type(third, QuoteTarget)) == 1


def test_a_book_that_moved_beyond_every_orders_slack_is_quoted_at_once() -> None:
    q = throttled_quoter(urgent_move_bps(OrderManagerConfig()))  # 2 bps x 2
    q.handle(book("59999", "60001", ts=T0 + 300 * MS))  # mid 60000

    wiggle = q.handle(book("59980", "59982", ts=T0 + 320 * MS))  # 3 bps: waits
    jump = q.handle(book("59819", "59821", ts=T0 + 340 * MS))  # 30 bps: at once

    assert wiggle == []
    [target] = of_type(jump, QuoteTarget)
    assert target.bids[0].price < d("59820")
    assert target.book_ts_local == T0 + 340 * MS


def test_a_level_whose_size_rounds_to_zero_lots_is_refused_and_reported() -> None:
    q = quoter(order_size=0.000004)  # below BTC's lot of 0.00001

    out = q.handle(book("59999", "60001"))

    refused = of_type(out, QuoteLevelsRefused)
    assert refused
    assert set(refused[0].reasons) == {"size_zero"}
    assert only_target(out).bids == ()


class _RecordingModel:
    """A model that quotes nothing and remembers what it was shown."""

    def __init__(self) -> None:
        self.seen: list[QuoteInputs] = []

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        self.seen.append(inputs)
        return RawLadder(bids=(), asks=())


def test_a_session_length_gives_finite_horizon_models_the_time_left_in_the_utc_session() -> None:
    model = _RecordingModel()
    q = QuoterLogic(
        instrument=BTC,
        model=model,
        estimators=build_estimators(MakerdConfig(), started_ns=T0),
        max_position=Decimal("0.05"),
        min_requote_interval_ns=0,
        stale_after_ns=STALE_AFTER_NS,
        session_s=3600.0,
    )
    # T0 is 1_700_000_000 s after the epoch: 1_700_000_000 % 3600 = 800 s into the hour.
    q.handle(book("59999", "60001", ts=T0))

    assert model.seen[-1].time_remaining_s == 2800.0


def test_without_sessions_models_get_no_time_remaining() -> None:
    model = _RecordingModel()
    q = QuoterLogic(
        instrument=BTC,
        model=model,
        estimators=build_estimators(MakerdConfig(), started_ns=T0),
        max_position=Decimal("0.05"),
        min_requote_interval_ns=0,
        stale_after_ns=STALE_AFTER_NS,
    )

    q.handle(book("59999", "60001", ts=T0))

    assert model.seen[-1].time_remaining_s is None
