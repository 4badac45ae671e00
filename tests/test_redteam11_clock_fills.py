"""Red team 11: fills of a journal's first minutes on a host whose clock is ahead of the
exchange's.

A journal keeps a venue account from its first session's start, a local time; fills
stamped (by the exchange) before it were taken for history, not ours to book. On a host
60 s ahead of the exchange every fill of the first minute is stamped before that start:
makerd quoted, the venue filled 10 orders, and the journal booked none (``position
_mismatch booked=0 venue=0.008``; with the host 10 s ahead, 0.00568 booked of 0.00768).
A fill pushed live by the stream is made while makerd watches, whatever its stamp says:
only a fill found by a repair or a connection's opening snapshot can be history.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.daemon.journal import Journal
from makerd.protocol.account import FillBooked
from makerd.protocol.side import Side
from tests.kit import T0, S, d, fill, of_type
from tests.test_fill_tracker_account import ACCOUNT, run

HOST_AHEAD_NS = 60 * S


def first_session(tmp_path: Path) -> tuple[Journal, FillTrackerLogic]:
    journal = Journal(tmp_path / "journal.sqlite")
    tracker, _ = run(journal, at=T0)  # the journal begins keeping the account at T0 (local)
    return journal, tracker


def test_a_fill_pushed_live_in_the_first_minute_is_booked_on_a_host_a_minute_ahead(
    tmp_path: Path,
) -> None:
    journal, tracker = first_session(tmp_path)
    heard_ns = T0 + 5 * S
    pushed = replace(fill("t1", Side.BUY, "60000", "0.002"), ts_local=heard_ns)
    pushed = replace(pushed, ts_exchange=heard_ns - HOST_AHEAD_NS)

    out = tracker.handle(pushed)

    assert of_type(out, FillBooked)
    assert tracker.ledger.position == d("0.002")
    assert [f.trade_id for f in journal.account_fills(ACCOUNT, "BTC")] == ["t1"]
    # (A repaired fill from before the journal is still history: test_fill_tracker_account.)
