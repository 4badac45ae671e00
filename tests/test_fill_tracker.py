"""fill_tracker books every fill exactly once, in a real SQLite journal."""

from __future__ import annotations

import logging
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.actors.ledger import Ledger
from makerd.daemon.journal import Journal
from makerd.daemon.report import summarize
from makerd.protocol.account import FillBooked, PositionChanged
from makerd.protocol.side import Side
from tests.kit import T0, S, book, d, fill, of_type


def tracker(journal: Journal, session_id: int, lot: Decimal | None = None) -> FillTrackerLogic:
    logic = FillTrackerLogic(
        coin="BTC",
        journal=journal,
        session_id=session_id,
        mark_publish_interval_ns=S,
        equity_interval_ns=S,
        lot=lot,
    )
    logic.start(T0)
    return logic


def test_a_duplicate_trade_id_is_booked_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    ft = tracker(journal, session)

    first = ft.handle(fill("t1", Side.BUY, "60000", "0.002", fee="0.018"))
    second = ft.handle(fill("t1", Side.BUY, "60000", "0.002", fee="0.018"))

    assert len(of_type(first, FillBooked)) == 1
    assert second == []
    assert ft.ledger.position == d("0.002")
    assert len(journal.fills(session)) == 1


def test_a_restarted_tracker_rebuilds_the_position_and_ignores_replays(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    ft = tracker(journal, session)
    ft.handle(fill("t1", Side.BUY, "60000", "0.004"))
    ft.handle(fill("t2", Side.SELL, "60100", "0.001"))

    reborn = tracker(journal, session)  # a new incarnation after a crash
    replay = reborn.handle(fill("t2", Side.SELL, "60100", "0.001"))

    assert replay == []
    assert reborn.ledger.position == d("0.003")
    assert reborn.ledger.realized_pnl == d("0.1")  # 0.001 * (60100 - 60000)


def test_realized_and_unrealized_pnl_follow_average_cost() -> None:
    ledger = Ledger()
    ledger.apply(fill("a", Side.BUY, "100", "2"))
    ledger.apply(fill("b", Side.BUY, "110", "2"))  # average entry (200 + 220) / 4 = 105
    realized = ledger.apply(fill("c", Side.SELL, "120", "3"))  # closes 3 at 120 - 105

    assert ledger.average_entry == d("105")
    assert realized == d("45")
    assert ledger.position == d("1")
    assert ledger.unrealized_at(d("100")) == d("-5")


def test_a_fill_that_flips_the_position_opens_at_its_own_price() -> None:
    ledger = Ledger()
    ledger.apply(fill("a", Side.BUY, "100", "1"))
    realized = ledger.apply(fill("b", Side.SELL, "90", "3"))

    assert realized == d("-10")
    assert ledger.position == d("-2")
    assert ledger.average_entry == d("90")


def test_marks_publish_position_changes_at_most_once_per_interval(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    ft = tracker(journal, journal.start_session(mode="sim", coin="BTC", ts_ns=T0))

    first = ft.handle(book("59999", "60001", ts=T0 + S))
    soon = ft.handle(book("59998", "60000", ts=T0 + S + 100_000_000))

    assert len(of_type(first, PositionChanged)) == 1
    assert soon == []


def test_every_published_state_is_journaled_so_the_report_sees_what_the_risk_guardian_saw(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    ft = tracker(journal, session)
    published = ft.handle(book("59999", "60001", ts=T0 + S))
    published += ft.handle(fill("t1", Side.BUY, "60000", "0.01", fee="0.1", ts=T0 + S + 1))
    published += ft.handle(book("59899", "59901", ts=T0 + 2 * S))  # −1 unrealized
    # A flatten: sold at 59900 right after that mark, before any later book or timer.
    published += ft.handle(fill("t2", Side.SELL, "59900", "0.01", fee="0.1", ts=T0 + 2 * S + 1))

    totals = [m.total_pnl for m in of_type(published, PositionChanged)]
    journaled = [s.total_pnl for s in journal.equity(session)]

    assert journaled[1:] == totals, "the same figures, in the same order"
    assert journal.equity(session)[-1].unrealized == 0
    assert summarize(journal, session).total_pnl_usd == d("-1.2"), "the loss once, and two fees"
    assert summarize(journal, session).max_drawdown_usd == d("1.2")


@settings(max_examples=40, deadline=None)
@given(
    fills=st.lists(
        st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 50), st.integers(1, 9)),
        min_size=1,
        max_size=25,
    ),
    seed=st.integers(0, 1000),
)
def test_shuffled_and_duplicated_fills_give_the_venue_position(
    tmp_path_factory: object, fills: list[tuple[Side, int, int]], seed: int
) -> None:
    journal = Journal(tmp_path_factory.mktemp("ledger") / "j.sqlite")  # type: ignore[attr-defined]
    ft = tracker(journal, journal.start_session(mode="sim", coin="BTC", ts_ns=T0))
    stream = [
        fill(f"t{i}", side, str(59000 + 10 * px), f"0.00{lots}")
        for i, (side, px, lots) in enumerate(fills)
    ]
    venue_position = sum((f.size * f.side.sign for f in stream), d(0))
    delivered = stream + random.Random(seed).choices(stream, k=len(stream))
    random.Random(seed).shuffle(delivered)

    for message in delivered:
        ft.handle(message)

    assert ft.ledger.position == venue_position
    assert len(journal.fills()) == len(stream)


def test_a_fill_off_the_lot_grid_is_booked_as_reported_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    session = journal.start_session(mode="live", coin="BTC", ts_ns=T0)
    logic = tracker(journal, session, lot=d("0.00001"))

    with caplog.at_level(logging.WARNING, logger="makerd"):
        on_grid = logic.handle(fill("BTC:1", Side.BUY, "60000", "0.002"))
        off_grid = logic.handle(fill("BTC:2", Side.BUY, "60000", "0.0000000000001"))

    assert len(of_type(on_grid, FillBooked)) == 1
    assert len(of_type(off_grid, FillBooked)) == 1
    assert logic.ledger.position == d("0.0020000000001"), "the venue's size, not a rounded one"
    said = [r.getMessage() for r in caplog.records if "fill_off_lot_grid" in r.getMessage()]
    assert len(said) == 1
    assert "trade_id=BTC:2" in said[0]
    assert logic.off_grid_booked == 1
    flags = [booked.off_lot_grid for booked in of_type([*on_grid, *off_grid], FillBooked)]
    assert flags == [False, True], "the observer counts it (makerd_fills_off_lot_grid_total)"
