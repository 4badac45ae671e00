"""An actor's memory does not grow with the length of a run.

Operators leave ``makerd run`` running for weeks. Each test drives an actor's logic through
far more orders or fills than a warm-up and counts the items of every container reachable
from it (``tests/state_census.py``): what it keeps must be bounded by something other
than the run's length (a time window, a cap), whatever the run has done.
"""

from __future__ import annotations

from pathlib import Path

from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.daemon.journal import Journal
from makerd.protocol.account import FillBooked
from makerd.protocol.side import Side
from tests.kit import T0, S, fill, of_type
from tests.state_census import census
from tests.test_fill_tracker import tracker

FILLS = 5_000
FILL_EVERY_NS = 10 * S
"""5,000 fills ten seconds apart: 14 hours of a busy market maker."""
KEPT_BOUND = 1_000
"""The most any container of the fill tracker may hold after them: an hour of fills
(360 here: the position check keeps the last hour), not every fill of the run."""


def _after_many_fills(tmp_path: Path) -> tuple[Journal, int, FillTrackerLogic]:
    """A journal, its session, and a fill tracker that booked :data:`FILLS` fills in it."""
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    fill_tracker = tracker(journal, session)
    for n in range(FILLS):
        side = Side.BUY if n % 2 == 0 else Side.SELL
        ts = T0 + n * FILL_EVERY_NS
        fill_tracker.handle(fill(f"t{n}", side, "60000", "0.001", ts=ts))
    return journal, session, fill_tracker


def test_the_fill_tracker_keeps_no_item_per_fill_of_the_run(tmp_path: Path) -> None:
    journal, session, fill_tracker = _after_many_fills(tmp_path)

    largest = census({"fill_tracker": fill_tracker}).most_common(1)

    assert largest[0][1] <= KEPT_BOUND, f"grows with every fill: {largest}"
    assert len(journal.fills(session)) == FILLS


def test_a_fill_from_the_start_of_a_long_run_replayed_at_its_end_is_booked_once(
    tmp_path: Path,
) -> None:
    journal, session, fill_tracker = _after_many_fills(tmp_path)
    position = fill_tracker.ledger.position

    replayed = fill_tracker.handle(fill("t0", Side.BUY, "60000", "0.001", ts=T0))
    restarted = tracker(journal, session).handle(fill("t1", Side.SELL, "60000", "0.001", ts=T0))

    assert of_type(replayed, FillBooked) == []
    assert of_type(restarted, FillBooked) == []
    assert fill_tracker.ledger.position == position
    assert len(journal.fills(session)) == FILLS
