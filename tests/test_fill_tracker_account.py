"""A live account's fills are booked exactly once across restarts, downtime and repairs.

The journal is a real SQLite file; each "run" is a new session and a new tracker on it,
as after a kill -9 and a restart.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.report import summarize
from makerd.protocol.account import (
    FillBooked,
    FillsRepaired,
    FundingPaid,
    PositionChanged,
    PositionMismatch,
    PositionReported,
    RepairFills,
    funding_key,
)
from makerd.protocol.side import Side
from tests.kit import T0, S, d, fill, of_type

ACCOUNT = "http://127.0.0.1:1 0xabc"


def run(journal: Journal, *, at: int) -> tuple[FillTrackerLogic, list[object]]:
    """A new makerd run on the journal: a session for the account and a fresh tracker."""
    session = journal.start_session(mode="live", coin="BTC", ts_ns=at, account=ACCOUNT)
    since = journal.account_since_ns(ACCOUNT)
    assert since is not None
    tracker = FillTrackerLogic(
        coin="BTC",
        journal=journal,
        session_id=session,
        mark_publish_interval_ns=S,
        equity_interval_ns=S,
        account=ACCOUNT,
        responsible_since_ns=since,
    )
    return tracker, tracker.start(at)


def venue_position(size: str, *, at: int, entry: str = "60000") -> PositionReported:
    return PositionReported(
        coin="BTC", position=d(size), average_entry=d(entry), ts_exchange=at, ts_local=at
    )


def repaired(at: int) -> FillsRepaired:
    return FillsRepaired(coin="BTC", through_ns=at, fills_found=0, ts_local=at)


def test_fills_made_while_makerd_was_down_are_asked_for_and_booked_late(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    first, _ = run(journal, at=T0)
    first.handle(fill("t1", Side.BUY, "60000", "0.002", ts=T0 + S))

    second, started = run(journal, at=T0 + 20 * S)
    repair = of_type(started, RepairFills)
    gap = [fill(f"g{n}", Side.SELL, "60010", "0.001", ts=T0 + (5 + n) * S) for n in range(3)]
    booked = [second.handle(replace(f, late=True)) for f in gap]

    assert repair
    assert repair[0].since_ns == T0 + S, "repairs from the last booked fill"
    assert all(of_type(out, FillBooked) for out in booked)
    assert second.ledger.position == d("-0.001")
    assert [f.late for f in journal.account_fills(ACCOUNT, "BTC")] == [False, True, True, True]


def test_the_first_snapshot_after_a_restart_books_what_was_missed_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    first, _ = run(journal, at=T0)
    first.handle(fill("t1", Side.BUY, "60000", "0.002", ts=T0 + S))

    second, _ = run(journal, at=T0 + 20 * S)
    snapshot = [fill("t1", Side.BUY, "60000", "0.002", ts=T0 + S)]
    snapshot += [fill("t2", Side.BUY, "60000", "0.002", ts=T0 + 10 * S)]
    for f in snapshot:
        second.handle(f)
    for f in snapshot:  # and the repair finds them again
        second.handle(replace(f, late=True))

    assert second.ledger.position == d("0.004")
    assert len(journal.account_fills(ACCOUNT, "BTC")) == 2


def test_fills_from_before_the_journal_existed_are_history_not_ours(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)

    # Such a fill comes in a repair or a connection's opening snapshot: late.
    out = tracker.handle(replace(fill("old", Side.BUY, "50000", "1", ts=T0 - 3600 * S), late=True))

    assert out == []
    assert tracker.history_ignored == 1
    assert journal.account_fills(ACCOUNT, "BTC") == []


def test_a_report_that_crosses_a_fill_in_flight_is_no_mismatch(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)
    tracker.handle(fill("t1", Side.BUY, "60000", "0.002", ts=T0 + S))
    tracker.handle(fill("t2", Side.BUY, "60000", "0.002", ts=T0 + 3 * S))

    # The venue's position was read at T0+2s: after t1, before t2.
    out = tracker.handle(venue_position("0.002", at=T0 + 2 * S))

    assert out == []
    assert tracker.ledger.position == d("0.004")


def test_a_mismatch_asks_for_fills_first_and_late_fills_are_not_counted_twice(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)
    tracker.handle(fill("t1", Side.BUY, "60000", "0.005", ts=T0 + S))

    # Two fills are missing (their pushes were lost); the venue already counts them.
    first = tracker.handle(venue_position("0.015", at=T0 + 10 * S))
    tracker.handle(replace(fill("t2", Side.BUY, "60000", "0.005", ts=T0 + 4 * S), late=True))
    tracker.handle(replace(fill("t3", Side.BUY, "60000", "0.005", ts=T0 + 6 * S), late=True))
    tracker.handle(repaired(T0 + 11 * S))
    after = tracker.handle(venue_position("0.015", at=T0 + 11 * S))

    assert [m.action for m in of_type(first, PositionMismatch)] == ["repair"]
    assert of_type(first, RepairFills)
    assert after == []
    assert tracker.ledger.position == d("0.015"), "never 0.025: no adjustment, no double count"
    assert tracker.adjustments == 0


def test_a_mismatch_that_survives_a_repair_is_booked_as_an_adjustment_once(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)

    tracker.handle(venue_position("0.010", at=T0 + S))  # a position opened before the journal
    waiting = tracker.handle(venue_position("0.010", at=T0 + 2 * S))
    tracker.handle(repaired(T0 + 3 * S))
    adjusted = tracker.handle(venue_position("0.010", at=T0 + 3 * S))
    again = tracker.handle(venue_position("0.010", at=T0 + 4 * S))

    assert waiting == []
    assert [m.action for m in of_type(adjusted, PositionMismatch)] == ["adjusted"]
    assert of_type(adjusted, PositionChanged)[0].position == d("0.010")
    assert again == []
    reborn, _ = run(journal, at=T0 + 60 * S)
    assert reborn.ledger.position == d("0.010"), "the adjustment is journaled, not re-derived"
    assert summarize(journal, 1).final_position == d("0.010"), "the summary shows it too"


def test_a_repair_that_read_the_fills_before_the_report_adjusts_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)
    tracker.handle(fill("t1", Side.BUY, "60000", "0.002", ts=T0 + S))
    in_flight = fill("t2", Side.BUY, "60000", "0.002", ts=T0 + 9 * S)

    # The venue counts t2 (made at 9 s), whose push has not landed yet.
    first = tracker.handle(venue_position("0.004", at=T0 + 10 * S))
    # A repair completes, but it read the fills at 8 s: it cannot have seen t2.
    tracker.handle(repaired(T0 + 8 * S))
    second = tracker.handle(venue_position("0.004", at=T0 + 11 * S))
    tracker.handle(in_flight)
    tracker.handle(repaired(T0 + 12 * S))  # the repair asked for again: nothing new
    settled = tracker.handle(venue_position("0.004", at=T0 + 12 * S))

    assert [m.action for m in of_type(first, PositionMismatch)] == ["repair"]
    assert [m.action for m in of_type(second, PositionMismatch)] == ["repair"], "not adjusted"
    assert settled == []
    assert tracker.adjustments == 0, "an adjustment for a fill in flight, and one to undo it"
    assert tracker.ledger.position == d("0.004")


def test_a_fill_in_the_reports_own_millisecond_may_be_on_either_side(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)
    tracker.handle(fill("t1", Side.BUY, "60000", "0.002", ts=T0 + S))
    tracker.handle(fill("t2", Side.BUY, "60000", "0.002", ts=T0 + 5 * S))

    before = tracker.handle(venue_position("0.002", at=T0 + 5 * S))
    after = tracker.handle(venue_position("0.004", at=T0 + 5 * S))

    assert before == []
    assert after == []


def funding(amount: str, *, hour: int, at: int) -> FundingPaid:
    return FundingPaid(
        coin="BTC", amount=d(amount), rate=d("0.0000125"), position=d("0.010"),
        key=funding_key("BTC", hour * 3_600_000), ts_exchange=at, ts_local=at,
    )  # fmt: skip


def test_a_funding_payment_is_booked_once_across_pushes_repairs_and_restarts(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)

    pushed = tracker.handle(funding("-0.0075", hour=1, at=T0 + S))
    replayed = tracker.handle(funding("-0.0075", hour=1, at=T0 + 2 * S))  # the stream's snapshot
    reborn, started = run(journal, at=T0 + 60 * S)
    repaired_again = reborn.handle(funding("-0.0075", hour=1, at=T0 + 61 * S))  # a repair query
    next_hour = reborn.handle(funding("0.0025", hour=2, at=T0 + 62 * S))

    assert of_type(pushed, PositionChanged)[0].funding == d("-0.0075")
    assert replayed == []
    assert repaired_again == []
    assert of_type(started, PositionChanged)[0].funding == d("-0.0075"), "rebuilt from the journal"
    assert of_type(next_hour, PositionChanged)[0].total_pnl == d("-0.0050")
    assert reborn.ledger.funding == d("-0.0050")


def test_the_risk_limits_count_each_sessions_pnl_once_across_restarts(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    for n in range(3):  # three runs of the same account, each losing 1 USD on a round trip
        at = T0 + n * 100 * S
        tracker, started = run(journal, at=at)
        risk = RiskGuardianLogic(
            config=RiskConfig(), latch=KillSwitchLatch(tmp_path), store=journal
        )
        published = [
            *started,
            *tracker.handle(fill(f"b{n}", Side.BUY, "60000", "0.01", ts=at + S)),
            *tracker.handle(fill(f"s{n}", Side.SELL, "59900", "0.01", ts=at + 2 * S)),
        ]
        for update in of_type(published, PositionChanged):
            risk.handle(update)

    assert tracker.ledger.total_at(d(0)) == d(-3), "the account's ledger holds every run"
    assert risk.account.equity == d(-3), "not -6: earlier runs counted once, not again"
    assert risk.account.day_pnl == d(-3)
