"""Fills made in a run's first minute on a host a minute ahead of the exchange are booked.

The run's start is a host's time. The user stream's repair asked for the fills since it,
on the exchange's clock a minute after the start; and the fill tracker took a repaired
fill stamped (by the exchange) before it for history, "made before this journal kept the
account". A fill made while the stream was down in the run's first minute was lost both
ways (against the local venue: ``tests/faults/test_clock_steps.py``, three fills never
journaled; each fix alone still lost them).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.daemon.journal import Journal
from makerd.protocol.account import FillBooked, PositionReported
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.repair_horizon import RepairHorizon
from tests.kit import T0, S, fill, of_type

LEAD_NS = 60 * S
"""How far the host's clock runs ahead of the exchange's."""
MS = 1_000_000


class Clocks:
    """The exchange's clock, the host's (``LEAD_NS`` ahead, until stepped) and the
    monotonic one, all moved by the test."""

    def __init__(self) -> None:
        self.exchange_ns = T0
        self.mono_ns = 7 * S
        self.lead_ns = LEAD_NS

    def run(self, ns: int) -> None:
        self.exchange_ns += ns
        self.mono_ns += ns


def test_a_repair_before_any_fill_asks_from_the_start_on_the_exchanges_clock() -> None:
    clocks = Clocks()
    horizon = RepairHorizon(
        exchange_now_ns=lambda: clocks.exchange_ns, monotonic_ns=lambda: clocks.mono_ns
    )
    clocks.run(5 * S)
    clocks.lead_ns = 0  # NTP puts the host right: the start must not move

    since_ms = horizon.since_ms()

    assert since_ms <= T0 // MS, "the fills made since the start were not asked for"
    assert since_ms >= (T0 - 5 * S) // MS, "asked from far before the start"
    horizon.heard(T0 + 3 * S)
    assert horizon.since_ms() == (T0 + 3 * S) // MS, "from the newest fill heard"


def test_a_repaired_fill_of_the_first_minute_on_a_host_ahead_is_booked(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    started_local = T0 + LEAD_NS  # the host's time at the account's first start
    session = journal.start_session(mode="live", coin="BTC", ts_ns=started_local, account="0xab")
    tracker = tracker_of(journal, session, since_ns=started_local)
    tracker.start(started_local)
    tracker.handle(position_report(ts_exchange=T0 + S, ts_local=started_local + S + 20 * MS))
    made_in_a_stream_gap = replace(fill("t1", Side.BUY, "60000", "0.01", ts=T0 + 30 * S), late=True)

    booked = of_type(tracker.handle(made_in_a_stream_gap), FillBooked)

    assert len(booked) == 1, "taken for history: made 'before' a start a minute fast"
    assert tracker.history_ignored == 0


def test_a_restart_on_the_right_clock_books_the_fast_first_sessions_repaired_fills(
    tmp_path: Path,
) -> None:
    # The account's first session ran on a host ten minutes fast; it was killed with a fill
    # not yet journaled, and the host's clock was put right before the next start.
    fast_ns = 600 * S
    journal = Journal(tmp_path / "journal.sqlite")
    first_start = T0 + fast_ns
    first = journal.start_session(mode="live", coin="BTC", ts_ns=first_start, account="0xab")
    first_tracker = tracker_of(journal, first, since_ns=first_start)
    first_tracker.start(first_start)
    first_tracker.handle(position_report(ts_exchange=T0 + S, ts_local=first_start + S))

    second_start = T0 + 90 * S  # the right clock
    second = journal.start_session(mode="live", coin="BTC", ts_ns=second_start, account="0xab")
    since = journal.account_since_ns("0xab")
    assert since is not None
    second_tracker = tracker_of(journal, second, since_ns=since)
    second_tracker.start(second_start)
    second_tracker.handle(position_report(ts_exchange=second_start, ts_local=second_start))
    made_before_the_kill = replace(fill("t9", Side.BUY, "60000", "0.01", ts=T0 + 70 * S), late=True)

    booked = of_type(second_tracker.handle(made_before_the_kill), FillBooked)

    assert len(booked) == 1, "the first session's fill taken for history (its start read fast)"
    assert second_tracker.history_ignored == 0


def tracker_of(journal: Journal, session: int, *, since_ns: int) -> FillTrackerLogic:
    return FillTrackerLogic(
        coin="BTC",
        journal=journal,
        session_id=session,
        mark_publish_interval_ns=S,
        equity_interval_ns=S,
        account="0xab",
        responsible_since_ns=since_ns,
    )


def position_report(*, ts_exchange: int, ts_local: int) -> PositionReported:
    return PositionReported(
        coin="BTC",
        position=Decimal(0),
        average_entry=Decimal(0),
        ts_exchange=ts_exchange,
        ts_local=ts_local,
    )
