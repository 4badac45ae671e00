"""A fill that is booked is announced exactly once, even when the write right after it fails.

The fill tracker runs as it does in makerd: a pykka actor under a real supervisor, on a
real SQLite journal. The journal refuses one write, the first state of the ledger that
carries the fill (a trigger raising as a full or failing disk would), so the fill is on
disk and the state after it is not.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pykka

from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.actors.gate import TradingGate
from makerd.actors.router import Router
from makerd.config.model import MakerdConfig
from makerd.daemon.journal import Journal
from makerd.daemon.supervision import child_specs
from makerd.protocol.account import FillBooked
from makerd.protocol.clock import WallClock
from makerd.protocol.side import Side
from makerd.supervisor import Escalation, RestartRecord, Supervisor
from tests.kit import S, fill

WAIT_S = 5.0
REFUSE_THE_FIRST_STATE_WITH_A_POSITION = """
CREATE TABLE refused (n INTEGER);
CREATE TRIGGER refuse_once BEFORE INSERT ON equity
WHEN CAST(NEW.position AS REAL) != 0 AND NOT EXISTS (SELECT 1 FROM refused)
BEGIN
    INSERT INTO refused VALUES (1);
    SELECT RAISE(FAIL, 'disk I/O error');
END;
"""


class Venue:
    """The venue port: the fill tracker's repair request goes nowhere here."""

    def submit(self, command: object) -> None:
        del command


def test_a_fill_whose_equity_write_failed_is_announced_once_and_the_tracker_restarts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path)
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=1)
    with sqlite3.connect(path) as db:
        db.executescript(REFUSE_THE_FIRST_STATE_WITH_A_POSITION)
    announced: list[FillBooked] = []
    restarted = threading.Event()
    tree: list[Supervisor] = []

    def observe(message: object) -> None:
        if isinstance(message, FillBooked):
            announced.append(message)

    def on_restart(record: RestartRecord) -> None:
        restarted.set()

    def tracker() -> FillTrackerLogic:
        return FillTrackerLogic(
            coin="BTC",
            journal=journal,
            session_id=session,
            mark_publish_interval_ns=S,
            equity_interval_ns=3600 * S,
        )

    def give_up(escalation: Escalation) -> None:
        raise AssertionError(f"gave up: {escalation.reason}")

    def resolve(role: str) -> pykka.ActorRef[Any] | None:
        return tree[0].ref(role)  # the supervisor is built on the router: found at send time

    router = Router(resolve=resolve, venue=Venue(), observer=observe, gate=TradingGate())
    specs = child_specs(MakerdConfig(), {"fill_tracker": tracker}, router=router, clock=WallClock())
    supervisor = Supervisor(specs, on_escalate=give_up, on_restart=on_restart)
    tree.append(supervisor)
    supervisor.start()
    booked = fill("T1", Side.BUY, "60000", "0.002")
    try:
        router.tell("fill_tracker", booked)
        assert restarted.wait(WAIT_S), "the failed equity write did not crash the tracker"
        assert supervisor.wait_until_idle(WAIT_S)
        again = supervisor.ref("fill_tracker")
        assert again is not None
        again.ask(booked, timeout=WAIT_S)  # the same fill again (a snapshot, a repair)
    finally:
        supervisor.stop()
        journal.close()

    assert [message.fill.trade_id for message in announced] == ["T1"]
    with sqlite3.connect(path) as db:
        states = db.execute("SELECT position FROM equity ORDER BY rowid").fetchall()
    assert states[-1] == ("0.002",), "the restarted tracker journals the state after the fill"
