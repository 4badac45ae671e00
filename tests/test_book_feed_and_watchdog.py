"""book_feed validates and watches the feed; the watchdog watches the actors."""

from __future__ import annotations

import itertools

from makerd.actors.book_feed import BookFeedLogic
from makerd.actors.routing import Directed
from makerd.actors.watchdog import WatchdogLogic
from makerd.protocol.control import AllChildrenAlive, ChildUnresponsive, Ping, Pong, TimerFired
from makerd.protocol.market import (
    BookLevel,
    BookSnapshotReceived,
    BookUpdated,
    FeedMessageDropped,
    FeedRecovered,
    FeedStale,
)
from makerd.protocol.orders import ArmDeadManSwitch
from tests.kit import T0, S, d, of_type, snapshot


def feed() -> BookFeedLogic:
    return BookFeedLogic(coin="BTC", stale_after_ns=5 * S)


def test_a_valid_snapshot_becomes_a_book_update() -> None:
    out = feed().handle(snapshot("59999", "60001"))

    assert of_type(out, BookUpdated)[0].mid == d("60000")


def test_a_crossed_or_malformed_snapshot_is_counted_and_dropped() -> None:
    f = feed()
    crossed = BookSnapshotReceived(
        coin="BTC",
        bids=(BookLevel(price=d("60002"), size=d(1)),),
        asks=(BookLevel(price=d("60001"), size=d(1)),),
        ts_exchange=T0,
        ts_local=T0,
    )

    out = f.handle(crossed)

    assert of_type(out, FeedMessageDropped)[0].reason == "crossed"
    assert of_type(out, BookUpdated) == []
    assert f.books_dropped == 1


def test_an_older_block_after_a_newer_one_is_dropped() -> None:
    f = feed()
    f.handle(snapshot("59999", "60001", ts=T0 + 2 * S))

    out = f.handle(snapshot("59998", "60000", ts=T0 + S))

    assert of_type(out, FeedMessageDropped)[0].reason == "out_of_order"


def test_silence_past_the_limit_is_stale_and_fresh_data_recovers() -> None:
    f = feed()
    f.handle(snapshot("59999", "60001", ts=T0))

    assert f.handle(TimerFired(ts_local=T0 + 4 * S)) == []
    stale = f.handle(TimerFired(ts_local=T0 + 6 * S))
    recovered = f.handle(snapshot("59999", "60001", ts=T0 + 7 * S))

    assert of_type(stale, FeedStale)
    assert of_type(recovered, FeedRecovered)
    assert of_type(recovered, BookUpdated)


def test_frozen_exchange_time_is_stale_even_while_messages_arrive() -> None:
    f = feed()
    f.handle(snapshot("59999", "60001", ts=T0))
    frozen = BookSnapshotReceived(
        coin="BTC",
        bids=(BookLevel(price=d("59999"), size=d(1)),),
        asks=(BookLevel(price=d("60001"), size=d(1)),),
        ts_exchange=T0,  # the same old block, re-sent
        ts_local=T0 + 6 * S,
    )
    f.handle(frozen)

    assert of_type(f.handle(TimerFired(ts_local=T0 + 6 * S)), FeedStale)


def watchdog() -> WatchdogLogic:
    return WatchdogLogic(roles=("quoter", "order_manager"), ping_interval_ns=S, deadline_ns=3 * S)


def test_the_watchdog_pings_every_role_and_vouches_when_all_answer() -> None:
    w = watchdog()
    pings = w.start(T0)
    assert {p.to for p in pings if isinstance(p, Directed) and isinstance(p.message, Ping)} == {
        "quoter",
        "order_manager",
    }

    w.handle(Pong(role="quoter", seq=1, ts_local=T0 + S // 2))
    w.handle(Pong(role="order_manager", seq=1, ts_local=T0 + S // 2))
    out = w.handle(TimerFired(ts_local=T0 + S))

    assert of_type(out, AllChildrenAlive)


def test_a_silent_role_is_reported_once_and_the_vouching_stops() -> None:
    w = watchdog()
    w.start(T0)
    outs = {}
    for second in range(1, 6):
        w.handle(Pong(role="quoter", seq=second, ts_local=T0 + second * S))
        outs[second] = w.handle(TimerFired(ts_local=T0 + second * S))
    out_4, out_5 = outs[4], outs[5]

    unresponsive = of_type(out_4, ChildUnresponsive)
    assert [u.role for u in unresponsive] == ["order_manager"]
    assert of_type(out_4, AllChildrenAlive) == []
    assert of_type(out_5, ChildUnresponsive) == [], "reported once per incident"


def test_a_freeze_of_the_whole_process_is_no_actors_silence() -> None:
    w = watchdog()
    w.start(T0)
    w.handle(Pong(role="quoter", seq=1, ts_local=T0 + S // 2))
    w.handle(Pong(role="order_manager", seq=1, ts_local=T0 + S // 2))
    w.handle(TimerFired(ts_local=T0 + S))

    resumed = w.handle(TimerFired(ts_local=T0 + 31 * S))  # SIGSTOP for 30 s, then SIGCONT

    assert of_type(resumed, ChildUnresponsive) == []
    assert {p.to for p in resumed if isinstance(p, Directed)} == {"quoter", "order_manager"}


def test_a_role_that_stays_silent_after_a_freeze_is_still_reported() -> None:
    w = watchdog()
    w.start(T0)
    w.handle(TimerFired(ts_local=T0 + 30 * S))  # frozen 29 s past one ping interval
    ticks = {}
    for second in range(31, 35):
        w.handle(Pong(role="quoter", seq=second, ts_local=T0 + second * S))
        ticks[second] = w.handle(TimerFired(ts_local=T0 + second * S))

    assert of_type(ticks[32], ChildUnresponsive) == []
    assert [u.role for u in of_type(ticks[33], ChildUnresponsive)] == ["order_manager"]


def test_the_watchdog_rearms_the_dead_man_switch_only_while_all_answer() -> None:
    w = WatchdogLogic(
        roles=("quoter",), ping_interval_ns=S, deadline_ns=3 * S, dead_man_switch_ns=30 * S
    )
    w.start(T0)
    w.handle(Pong(role="quoter", seq=1, ts_local=T0 + S // 2))

    alive = w.handle(TimerFired(ts_local=T0 + S))
    silent = [w.handle(TimerFired(ts_local=T0 + n * S)) for n in range(2, 15)][-3:]

    armed = of_type(alive, ArmDeadManSwitch)
    assert armed[0].cancel_at_ns == T0 + 31 * S
    assert all(of_type(out, ArmDeadManSwitch) == [] for out in silent), (
        "a hung tree stops re-arming"
    )


def test_the_dead_man_switch_is_re_armed_only_when_its_last_third_is_left() -> None:
    w = WatchdogLogic(
        roles=("quoter",), ping_interval_ns=S, deadline_ns=3 * S, dead_man_switch_ns=30 * S
    )
    w.start(T0)
    arms = []
    for second in range(1, 61):
        w.handle(Pong(role="quoter", seq=second, ts_local=T0 + second * S - S // 2))
        arms += of_type(w.handle(TimerFired(ts_local=T0 + second * S)), ArmDeadManSwitch)

    armed_at = [arm.ts_local for arm in arms]
    assert armed_at == [T0 + S, T0 + 20 * S, T0 + 39 * S, T0 + 58 * S]
    left_at_rearm = [
        earlier.cancel_at_ns - later.ts_local for earlier, later in itertools.pairwise(arms)
    ]
    assert min(left_at_rearm) >= 10 * S, "a third of the horizon is left for retries"
