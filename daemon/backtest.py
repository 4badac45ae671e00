"""Run the actors' logic against a stepped venue on a simulated clock (no threads).

The same factories build the same state machines as a live run; only the runtime
differs. :func:`run_simulated` drives them against the embedded sim (tests, model
comparisons); :mod:`makerd.replay` against recorded market data. The result depends
only on the inputs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import ClassVar, Protocol

from makerd.actors.coin_addressing import PerCoinLogic
from makerd.actors.driver import DeterministicDriver
from makerd.actors.gate import TradingGate
from makerd.actors.own_order_log import OwnOrderLog
from makerd.actors.routing import FILL_TRACKER, QUOTER, Logic
from makerd.config.coins import COIN_SEPARATOR
from makerd.config.model import MakerdConfig
from makerd.daemon.basket import Basket
from makerd.daemon.basket_wiring import basket_factories
from makerd.daemon.cloids import CoinCloids
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.report import SessionSummary, summarize, summary_to_json
from makerd.daemon.session_settings import record_settings
from makerd.daemon.wiring import Dependencies, logic_factories
from makerd.protocol.account import FillBooked
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import QuoteCycleCompleted
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import CancelOrders, ModifyOrders, PlaceOrders
from makerd.protocol.risk import KillSwitchTripped, PersistedRisk
from makerd.venues.base import SteppedVenue
from makerd.venues.sim.venue import SimVenue, sim_instrument

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
SIM_EPOCH_NS = 1_700_000_000 * NS_PER_S
JOURNAL_WRITES_PER_COMMIT = 1000
"""Rows a simulated or replayed session journals per transaction (see ``group_writes``)."""


@dataclass(slots=True)
class SimCounters:
    fills: int = 0
    quote_cycles: int = 0
    places: int = 0
    modifies: int = 0
    cancels: int = 0
    halted: bool = False
    places_after_halt: int = 0

    watched: ClassVar[frozenset[type]] = frozenset(
        {
            KillSwitchTripped,
            FillBooked,
            QuoteCycleCompleted,
            PlaceOrders,
            ModifyOrders,
            CancelOrders,
        }
    )
    """What it counts: the driver spares it every other message (most are books)."""

    def __call__(self, message: object) -> None:
        if isinstance(message, KillSwitchTripped):
            self.halted = True
        elif isinstance(message, FillBooked):
            self.fills += 1
        elif isinstance(message, QuoteCycleCompleted):
            self.quote_cycles += 1
        elif isinstance(message, PlaceOrders):
            self.places += len(message.orders)
            if self.halted:
                self.places_after_halt += len(message.orders)
        elif isinstance(message, ModifyOrders):
            self.modifies += len(message.amendments)
        elif isinstance(message, CancelOrders):
            self.cancels += len(message.cloids)


class PaperBackedVenue(SteppedVenue, Protocol):
    """A stepped venue whose fills come from paper exchanges (sim, replay)."""

    @property
    def open_order_count(self) -> int:
        """How many of our orders it holds (every coin's)."""
        ...

    def journal_as(self, session_id: int) -> None:
        """Mint trade ids for this journal session: unique in a journal of several."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRun:
    """A session the deterministic driver ran, and what it left in the journal."""

    session_id: int
    summary: SessionSummary
    counters: SimCounters
    tracked_positions: dict[str, Decimal]
    """Each coin's position as the fill tracker booked it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimResult:
    summary: SessionSummary
    counters: SimCounters
    venue_position: Decimal
    venue_open_orders: int
    tracked_position: Decimal
    widening_mean: float
    """The markout guard's spread factor, sampled once a simulated second, averaged."""
    widening_final: float


def run_simulated(
    config: MakerdConfig,
    *,
    seconds: float,
    state_dir: Path,
    watch: Callable[[object], None] | None = None,
) -> SimResult:
    """Run the actor system on the sim for ``seconds``; ``watch`` sees every routed message."""
    clock = ManualClock(SIM_EPOCH_NS)
    instrument = sim_instrument(config.sim, config.coin)
    venue = SimVenue(instrument, sim=config.sim, paper=config.paper, start_ns=clock.now_ns())
    widening: list[float] = []
    run = run_session(
        config,
        instruments=(instrument,),
        venue=venue,
        clock=clock,
        state_dir=state_dir,
        drive=lambda driver: widening.extend(_run_sampling_the_guard(driver, seconds)),
        end_reason="duration",
        watch=watch,
    )
    return SimResult(
        summary=run.summary,
        counters=run.counters,
        venue_position=venue.exchange.position,
        venue_open_orders=venue.exchange.open_order_count,
        tracked_position=run.tracked_positions[instrument.coin],
        widening_mean=statistics.fmean(widening) if widening else 1.0,
        widening_final=widening[-1] if widening else 1.0,
    )


def _run_sampling_the_guard(driver: DeterministicDriver, seconds: float) -> list[float]:
    """Run for ``seconds``, reading the markout guard's spread factor once a second."""
    samples: list[float] = []
    quoter = driver.logics[QUOTER]
    for _ in range(math.ceil(seconds)):
        driver.run_for(int(min(1.0, seconds - len(samples)) * NS_PER_S))
        samples.append(quoter.spread_widening)  # type: ignore[attr-defined]
    return samples


def run_session(
    config: MakerdConfig,
    *,
    instruments: tuple[Instrument, ...],
    venue: PaperBackedVenue,
    clock: ManualClock,
    state_dir: Path,
    drive: Callable[[DeterministicDriver], str | None],
    end_reason: str,
    watch: Callable[[object], None] | None = None,
    latency_statement: str | None = None,
    keep_own_orders: bool = False,
    persist_risk: bool = True,
    coins_join_with_data: bool = False,
) -> SessionRun:
    """Build the live state machines around ``venue`` and let ``drive`` run them.

    ``drive`` returns why it stopped early, or None for ``end_reason``.
    ``instruments``: one coin's, or each coin's of a several-coin run, which gets the very
    machines a live run of those coins builds (:mod:`daemon.basket_wiring`), addressed per
    coin as live addresses them; its ``venue`` must route client ids by their coin's lane
    (:func:`daemon.cloids.coin_of_lane`). ``watch`` sees every message routed to the
    observer, or only the types of its ``watched`` if it has one.
    ``latency_statement`` states the latency when it is not the config's constants;
    ``keep_own_orders`` journals every change of our orders (table ``own_orders``), as a
    live session that records does. ``persist_risk`` False keeps the kill switch's latch
    and the risk guardian's state for this run only (:class:`RunOnlyRisk`).
    ``coins_join_with_data``: with several coins, each coin's own actors start with its
    first event (a replay), as its own replay's do.

    The session is journaled as a ``backtest`` session, exactly as a live run journals
    its own (fills, equity, the ``stopped`` row with the venue's open orders and why, the
    summary), in ``state_dir/journal.sqlite``.
    """
    journal = Journal(state_dir / "journal.sqlite")
    # This run alone writes the journal: a commit per row costs more than the row itself.
    journal.group_writes(JOURNAL_WRITES_PER_COMMIT)
    gate = TradingGate()
    run_only = RunOnlyRisk()
    coins = tuple(instrument.coin for instrument in instruments)
    try:
        session_id = journal.start_session(
            mode="backtest", coin=COIN_SEPARATOR.join(coins), ts_ns=clock.now_ns()
        )
        record_settings(journal, session_id, config, mode="backtest", latency=latency_statement)
        venue.journal_as(session_id)
        # The session id as the run prefix: the same inputs give the same client ids.
        basket = Basket(coins=coins, cloids=CoinCloids(coins, run_prefix=session_id))
        deps = Dependencies(
            config=config,
            instrument=instruments[0],
            journal=journal,
            session_id=session_id,
            latch=KillSwitchLatch(state_dir) if persist_risk else run_only,
            new_cloid=basket.cloids.factories[coins[0]],
            clock=clock,
            gate=gate,
            risk_store=None if persist_risk else run_only,
        )
        factories = (
            basket_factories(deps, instruments=instruments, cloids=basket.cloids)
            if basket.several
            else logic_factories(deps)
        )
        logics = {role: build() for role, build in factories.items()}
        counters = SimCounters()
        own_log = (
            OwnOrderLog(journal=journal.own_orders, session_id=session_id)
            if keep_own_orders
            else None
        )
        observers: list[Callable[[object], None]] = [counters]
        if watch is not None:
            observers.append(watch)
        if own_log is not None:
            observers.append(lambda message: own_log.observe((message,)))
        driver = DeterministicDriver(
            logics=logics,
            venue=venue,
            clock=clock,
            step_ns=config.sim.step_ms * NS_PER_MS,
            timer_interval_ns=100 * NS_PER_MS,
            observer=_all(observers),
            observed=_watched(observers),
            gate=gate,
            addressing=basket.addressing(),
            join_with_data=coins if coins_join_with_data and basket.several else (),
        )
        driver.start()
        end_reason = drive(driver) or end_reason
        driver.stop()
        if own_log is not None:
            own_log.flush()
        tracked = _tracked_positions(logics[FILL_TRACKER], coins)
        journal.record_order_event(
            session_id,
            ts_ns=clock.now_ns(),
            cloid="*",
            event="stopped",
            detail=f"venue_open_orders={venue.open_order_count} reason={end_reason}",
        )
        ended_ns = clock.now_ns()
        summary = summarize(journal, session_id, ended_ns=ended_ns)
        journal.end_session(session_id, ts_ns=ended_ns, summary_json=summary_to_json(summary))
        return SessionRun(
            session_id=session_id,
            summary=summary,
            counters=counters,
            tracked_positions=tracked,
        )
    finally:
        journal.close()


class RunOnlyRisk:
    """A kill-switch latch and a risk-state store that last as long as the run.

    A backtest's trip and losses are simulated. Written to its state directory (which may
    be a live bot's, to compare sessions in one journal) they latched that bot's kill
    switch and left it a simulated day's loss and peak equity to load at its next start.
    """

    def __init__(self) -> None:
        self.tripped: tuple[str, str, int] | None = None
        self._risk: PersistedRisk | None = None

    def trip(self, *, reason: str, detail: str, ts_ns: int) -> None:
        self.tripped = (reason, detail, ts_ns)

    def load_risk_state(self) -> PersistedRisk | None:
        return self._risk

    def save_risk_state(self, state: PersistedRisk) -> None:
        self._risk = state


def _tracked_positions(fill_tracker: Logic, coins: tuple[str, ...]) -> dict[str, Decimal]:
    """Each coin's booked position: one ledger, or one per coin behind one fill tracker."""
    if isinstance(fill_tracker, PerCoinLogic):
        ledgers = {coin: fill_tracker.logics[coin] for coin in coins}
    else:
        ledgers = {coins[0]: fill_tracker}
    return {coin: ledger.ledger.position for coin, ledger in ledgers.items()}  # type: ignore[attr-defined]


def _watched(observers: list[Callable[[object], None]]) -> frozenset[type] | None:
    """The message types any of ``observers`` acts on, if each says (``watched``); else None:
    one that does not say sees every message routed to the observer."""
    watched: frozenset[type] = frozenset()
    for observer in observers:
        types: frozenset[type] | None = getattr(observer, "watched", None)
        if types is None:
            return None
        watched |= types
    return watched


def _all(observers: list[Callable[[object], None]]) -> Callable[[object], None]:
    if len(observers) == 1:
        return observers[0]

    def observe(message: object) -> None:
        for observer in observers:
            observer(message)

    return observe
