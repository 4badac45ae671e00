"""Books reach the risk guardian only while it reads them; its decisions stay the same.

With the price band off (the default) the guardian ignores every book: its marks come
from the fill tracker's positions. The router then stops waking its thread for each
book (on the book's path, that thread competes with the quoter for the GIL). These run
the real actors under a real supervisor, a real journal and the real latch.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pykka

from makerd.actors.basket_risk import BasketRiskLogic
from makerd.actors.fill_tracker import FillTrackerLogic
from makerd.actors.gate import TradingGate
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.actors.route_switch import RouteSwitch, books_to_risk
from makerd.actors.router import Router
from makerd.actors.routing import Logic
from makerd.config.model import MakerdConfig, OrderManagerConfig, QuotingConfig, RiskConfig
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.supervision import child_specs
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import ParametersChanged, TimerFired
from makerd.protocol.market import BookUpdated
from makerd.protocol.risk import (
    KillReason,
    KillSwitchTripped,
    RiskLimit,
    RiskStateChanged,
    TradingState,
)
from makerd.protocol.side import Side
from makerd.supervisor import Escalation, Supervisor
from tests.kit import T0, S, book, fill

WAIT_S = 5.0
DRAWDOWN = RiskConfig(max_drawdown_usd=Decimal(5), session_loss_usd=Decimal(1000))
BAND = dataclasses.replace(DRAWDOWN, price_band_pct=Decimal(1), price_band_pause_s=30.0)


class Hearing:
    """The guardian's logic, noting what reached it (a fake at the actor seam)."""

    def __init__(self, logic: RiskGuardianLogic) -> None:
        self.logic = logic
        self.heard: list[type] = []

    def handled_types(self) -> frozenset[type]:
        return self.logic.handled_types()

    def handle(self, message: object) -> list[object]:
        self.heard.append(type(message))
        return self.logic.handle(message)


class Venue:
    def submit(self, command: object) -> None:
        del command


class Tree:
    """A fill tracker and a risk guardian as makerd runs them, behind the real router."""

    def __init__(self, tmp: Path, risk: RiskConfig, *, switched: bool) -> None:
        self.journal = Journal(tmp / "journal.sqlite")
        session = self.journal.start_session(mode="sim", coin="BTC", ts_ns=1)
        self.said: list[object] = []
        self.tripped = threading.Event()
        self.halted = threading.Event()
        switch = RouteSwitch()
        self.switch = switch
        self.guardian = Hearing(
            RiskGuardianLogic(
                config=risk,
                latch=KillSwitchLatch(tmp),
                books=switch if switched else None,
            )
        )
        self.tree: list[Supervisor] = []
        self.router = Router(
            resolve=self._resolve,
            venue=Venue(),
            observer=self._observe,
            gate=TradingGate(),
            switches=books_to_risk(switch) if switched else None,
        )
        factories: dict[str, Callable[[], Logic]] = {
            "fill_tracker": lambda: FillTrackerLogic(
                coin="BTC",
                journal=self.journal,
                session_id=session,
                mark_publish_interval_ns=S,
                equity_interval_ns=3600 * S,
            ),
            "risk_guardian": lambda: self.guardian,
        }
        # The books' clock: a tracker started on today's wall clock would see them as
        # years in the past (a clock stepped back) and publish a state on every book.
        clock = ManualClock(start_ns=T0)
        specs = child_specs(MakerdConfig(), factories, router=self.router, clock=clock)
        self.supervisor = Supervisor(specs, on_escalate=_give_up)
        self.tree.append(self.supervisor)
        self.supervisor.start()

    def _resolve(self, role: str) -> pykka.ActorRef[Any] | None:
        return self.tree[0].ref(role)

    def _observe(self, message: object) -> None:
        if isinstance(message, KillSwitchTripped | RiskStateChanged):
            self.said.append(message)
        if isinstance(message, KillSwitchTripped):
            self.tripped.set()
        if isinstance(message, RiskStateChanged) and message.state is TradingState.HALTED:
            self.halted.set()

    def drained(self, role: str) -> None:
        """Wait until ``role`` handled what was sent to it before (its inbox is in order)."""
        ref = self.supervisor.ref(role)
        assert ref is not None
        ref.ask(TimerFired(ts_local=0), timeout=WAIT_S)

    def ask_guardian(self, message: object) -> None:
        ref = self.supervisor.ref("risk_guardian")
        assert ref is not None
        ref.ask(message, timeout=WAIT_S)

    def stop(self) -> None:
        self.supervisor.stop()
        self.journal.close()


def _give_up(escalation: Escalation) -> None:
    raise AssertionError(f"gave up: {escalation.reason}")


def a_fall_after_a_buy(tree: Tree, start_ns: int) -> list[object]:
    """0.01 BTC bought at 60000, then books down to a 59000 mid: 10 USD drawn down.

    On the wall clock's time (the fill tracker stamps its states with it) from
    ``start_ns``; each book waits for the one before it to reach the guardian."""
    tree.router.tell("fill_tracker", fill("T1", Side.BUY, "60000", "0.01", ts=start_ns))
    for second, (bid, ask) in enumerate((("59999", "60001"), ("59749", "59751"))):
        tree.router.dispatch(book(bid, ask, ts=start_ns + (second + 1) * S))
        tree.drained("fill_tracker")
        tree.drained("risk_guardian")
    tree.router.dispatch(book("58999", "59001", ts=start_ns + 3 * S))
    assert tree.tripped.wait(WAIT_S), "the drawdown did not trip the kill switch"
    return tree.said


def test_with_the_band_off_a_drawdown_trips_on_the_same_book_and_the_guardian_reads_none(
    tmp_path: Path,
) -> None:
    every_book = Tree(tmp_path / "routed", DRAWDOWN, switched=False)
    switched = Tree(tmp_path / "switched", DRAWDOWN, switched=True)
    start = time.time_ns() + 60 * S  # after any state the trackers stamp as they start
    try:
        decided_with_books = a_fall_after_a_buy(every_book, start)
        decided = a_fall_after_a_buy(switched, start)
    finally:
        every_book.stop()
        switched.stop()

    assert decided == decided_with_books
    tripped = [m for m in decided if isinstance(m, KillSwitchTripped)]
    assert [(t.reason.value, t.ts_local) for t in tripped] == [("max_drawdown", start + 3 * S)]
    assert BookUpdated in every_book.guardian.heard
    assert BookUpdated not in switched.guardian.heard


def test_a_reload_that_turns_the_band_on_pauses_quoting_on_the_next_jump(tmp_path: Path) -> None:
    tree = Tree(tmp_path, DRAWDOWN, switched=True)
    reloaded = ParametersChanged(
        quoting=QuotingConfig(), order_manager=OrderManagerConfig(), risk=BAND, ts_local=T0
    )
    try:
        tree.router.dispatch(book("59999", "60001", ts=T0))
        tree.ask_guardian(reloaded)
        tree.router.dispatch(book("59999", "60001", ts=T0 + S))
        tree.ask_guardian(TimerFired(ts_local=T0 + S))
        tree.router.dispatch(book("60999", "61001", ts=T0 + 2 * S))  # 1.7 % in a second
        assert tree.halted.wait(WAIT_S), "the reloaded band did not pause quoting"
    finally:
        tree.stop()

    paused = [m for m in tree.said if isinstance(m, RiskStateChanged)]
    assert [(m.state, m.limits) for m in paused] == [(TradingState.HALTED, (RiskLimit.PRICE_BAND,))]
    assert tree.guardian.heard.count(BookUpdated) == 2, "the books after the reload, none before"


def test_a_guardian_asks_for_books_only_while_its_band_is_on_and_it_has_not_tripped(
    tmp_path: Path,
) -> None:
    switch = RouteSwitch()
    guardian = RiskGuardianLogic(config=BAND, latch=KillSwitchLatch(tmp_path), books=switch)
    on_at_start = switch.on
    guardian.handle(
        ParametersChanged(
            quoting=QuotingConfig(), order_manager=OrderManagerConfig(), risk=DRAWDOWN, ts_local=T0
        )
    )
    off_after_reload = not switch.on
    guardian.handle(
        ParametersChanged(
            quoting=QuotingConfig(), order_manager=OrderManagerConfig(), risk=BAND, ts_local=T0
        )
    )
    guardian.trip(KillReason.MAX_DRAWDOWN, "a test's trip", T0)

    assert (on_at_start, off_after_reload, switch.on) == (True, True, False)


def test_a_basket_keeps_reading_books_until_a_pause_left_by_a_reload_has_ended(
    tmp_path: Path,
) -> None:
    switch = RouteSwitch()
    account = RiskGuardianLogic(config=BAND, latch=KillSwitchLatch(tmp_path))
    risk = BasketRiskLogic(config=BAND, coins=("BTC",), account=account, books=switch)
    risk.handle(book("59999", "60001", ts=T0))
    risk.handle(book("60999", "61001", ts=T0 + S))  # paused for 30 s
    risk.handle(
        ParametersChanged(
            quoting=QuotingConfig(), order_manager=OrderManagerConfig(), risk=DRAWDOWN, ts_local=T0
        )
    )
    during_the_pause = switch.on
    ended = risk.handle(TimerFired(ts_local=T0 + 32 * S))

    assert during_the_pause, "a book may still end the pause the band left"
    assert [(m.coin, m.state) for m in ended if isinstance(m, RiskStateChanged)] == [
        ("BTC", TradingState.NORMAL)
    ]
    assert not switch.on
