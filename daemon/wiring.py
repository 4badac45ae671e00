"""Build each role's logic from the configuration: the same objects in every runtime."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from makerd.actors.book_feed import BookFeedLogic
from makerd.actors.bracket import bracket_settings
from makerd.actors.fill_tracker import FillJournal, FillTrackerLogic
from makerd.actors.gate import TradingGate
from makerd.actors.operator_hold import PauseMemory
from makerd.actors.order_manager import OrderManagerLogic
from makerd.actors.own_order_log import OwnOrderLog
from makerd.actors.quote_sampler import QuoteSampler
from makerd.actors.quoter import QuoterEstimators, QuoterLogic, urgent_move_bps
from makerd.actors.risk_guardian import KillSwitchStore, RiskGuardianLogic, RiskStateStore
from makerd.actors.route_switch import RouteSwitch
from makerd.actors.routing import (
    ACTOR_ROLES,
    BOOK_FEED,
    FILL_TRACKER,
    ORDER_MANAGER,
    QUOTER,
    RISK_GUARDIAN,
    WATCHDOG,
    Logic,
)
from makerd.actors.watchdog import WatchdogLogic
from makerd.config.model import MakerdConfig, Mode, QuotingConfig, VolatilityEstimatorKind
from makerd.daemon.journal import Journal
from makerd.protocol.clock import Clock
from makerd.protocol.instrument import Instrument
from makerd.quoting.base import QuoteModel
from makerd.quoting.intensity import IntensitySettings, TradeIntensityEstimator
from makerd.quoting.markout import AdverseSelectionGuard, MarkoutSettings
from makerd.quoting.registry import build_model
from makerd.quoting.volatility import (
    EwmaVolatility,
    GarchVolatility,
    VolatilityBounds,
    VolatilityEstimator,
)

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependencies:
    config: MakerdConfig
    """The configuration at start; see ``current`` for what a new incarnation uses."""
    instrument: Instrument
    journal: FillJournal
    session_id: int
    latch: KillSwitchStore
    new_cloid: Callable[[], str]
    clock: Clock
    gate: TradingGate
    current: ConfigHolder | None = None
    """Set where the config can be reloaded: restarted actors take the newest one."""
    account: str | None = None
    """The venue account whose fills the journal keeps across sessions (live), or None."""
    responsible_since_ns: int = 0
    """Since when the journal keeps ``account``'s fills; older ones are history."""
    risk_store: RiskStateStore | None = None
    """Where the risk state outlives the process; the journal itself when it can."""
    pause: PauseMemory | None = None
    """The operator's pause (``makerd ctl pause``), kept across order_manager restarts."""
    books_to_risk: RouteSwitch | None = None
    """The router's route of books to the risk guardian, which turns it off while it
    ignores them (the price band off); None: every book goes to it."""


class ConfigHolder:
    """The configuration in force; replaced whole (atomically) on a successful reload."""

    def __init__(self, config: MakerdConfig) -> None:
        self._config = config

    def get(self) -> MakerdConfig:
        return self._config

    def set(self, config: MakerdConfig) -> None:
        self._config = config


def build_quote_model(config: MakerdConfig) -> QuoteModel:
    return quote_model_for(config.quoting)


def quote_model_for(quoting: QuotingConfig) -> QuoteModel:
    """The configured model; ``symmetric`` is spelled out in the quoting section itself."""
    if quoting.model != "symmetric":
        return build_model(quoting.model, quoting.params.as_dict())
    return build_model(
        "symmetric",
        {
            "levels": quoting.levels,
            "first_level_bps": quoting.first_level_bps,
            "level_spacing_bps": quoting.level_spacing_bps,
            "order_size": quoting.order_size,
            "size_decay": quoting.size_decay,
            "inventory_skew_bps": quoting.inventory_skew_bps,
            "one_sided_at": quoting.one_sided_at,
        },
    )


def quote_levels(quoting: QuotingConfig) -> int:
    """Levels per side the configured model quotes: half the order manager's bound."""
    levels = getattr(quote_model_for(quoting), "levels", None)
    return levels if isinstance(levels, int) and levels > 0 else quoting.levels


def build_estimators(config: MakerdConfig, *, started_ns: int) -> QuoterEstimators:
    """Fresh online calibration for a new quoter incarnation (nothing carried over)."""
    quoting = config.quoting
    bounds = VolatilityBounds(initial=2e-4, floor=1e-6, cap=0.05, min_samples=30)
    volatility: VolatilityEstimator
    if quoting.volatility_estimator is VolatilityEstimatorKind.GARCH:
        volatility = GarchVolatility(interval_s=1.0, bounds=bounds)
    else:
        volatility = EwmaVolatility(
            halflife_s=quoting.volatility_halflife_s, bounds=bounds, min_interval_s=0.2
        )
    intensity = TradeIntensityEstimator(
        IntensitySettings(window_s=600.0, fallback_a_per_s=1.0, fallback_kappa_per_bps=0.3),
        started_ns=started_ns,
    )
    guard = AdverseSelectionGuard(MarkoutSettings()) if quoting.adverse_selection_guard else None
    return QuoterEstimators(volatility=volatility, intensity=intensity, markout=guard)


def logic_factories(deps: Dependencies) -> dict[str, Callable[[], Logic]]:
    """One factory per role; each call builds a fresh state machine (a new incarnation)."""
    holder = deps.current or ConfigHolder(deps.config)
    return {
        FILL_TRACKER: lambda: fill_tracker_for(deps, deps.instrument),
        RISK_GUARDIAN: lambda: risk_guardian_for(
            deps, books=deps.books_to_risk, coin=deps.instrument.coin
        ),
        **coin_logic_factories(
            deps,
            instrument=deps.instrument,
            quoting=lambda: holder.get().coin_quoting(deps.instrument.coin),
            new_cloid=deps.new_cloid,
        ),
        WATCHDOG: lambda: watchdog_for(
            deps.config, tuple(role for role in ACTOR_ROLES if role != WATCHDOG)
        ),
    }


def coin_logic_factories(
    deps: Dependencies,
    *,
    instrument: Instrument,
    quoting: Callable[[], QuotingConfig],
    new_cloid: Callable[[], str],
) -> dict[str, Callable[[], Logic]]:
    """The market-facing roles of one coin (``quoting``: that coin's section, newest)."""
    holder = deps.current or ConfigHolder(deps.config)
    pause = deps.pause or PauseMemory()
    stale_after_ns = int(deps.config.feed.stale_after_s * NS_PER_S)  # needs a restart
    return {
        ORDER_MANAGER: lambda: OrderManagerLogic(
            instrument=instrument,
            config=holder.get().order_manager,
            new_cloid=new_cloid,
            gate=deps.gate,
            bracket=bracket_settings(quoting()),
            max_quote_orders=2 * quote_levels(quoting()),
            pause=pause,
            own_order_log=_own_order_log(deps),
        ),
        QUOTER: lambda: QuoterLogic(
            instrument=instrument,
            model=quote_model_for(quoting()),
            estimators=build_estimators(
                dataclasses.replace(holder.get(), quoting=quoting()), started_ns=deps.clock.now_ns()
            ),
            max_position=holder.get().coin_risk(instrument.coin).max_position,
            max_position_usd=holder.get().coin_risk(instrument.coin).max_position_usd,
            min_requote_interval_ns=quoting().refresh_interval_ms * NS_PER_MS,
            stale_after_ns=stale_after_ns,
            rebuild_model=quote_model_for,
            session_s=quoting().session_s,
            sampler=_quote_sampler(deps),
            urgent_move_bps=urgent_move_bps(holder.get().order_manager),
        ),
        BOOK_FEED: lambda: BookFeedLogic(coin=instrument.coin, stale_after_ns=stale_after_ns),
    }


def fill_tracker_for(deps: Dependencies, instrument: Instrument) -> FillTrackerLogic:
    return FillTrackerLogic(
        coin=instrument.coin,
        lot=instrument.lot,
        journal=deps.journal,
        session_id=deps.session_id,
        mark_publish_interval_ns=NS_PER_S,
        equity_interval_ns=NS_PER_S,
        account=deps.account,
        responsible_since_ns=deps.responsible_since_ns,
    )


def risk_guardian_for(
    deps: Dependencies, *, books: RouteSwitch | None = None, coin: str | None = None
) -> RiskGuardianLogic:
    """``books``: the switch of the books' route to it, when it is the actor reading them;
    ``coin``: the one coin it judges, by that coin's own limits (None: the account's)."""
    holder = deps.current or ConfigHolder(deps.config)
    current = holder.get()
    risk_store = deps.risk_store
    if risk_store is None and isinstance(deps.journal, Journal):
        risk_store = deps.journal
    return RiskGuardianLogic(
        config=current.risk if coin is None else current.coin_risk(coin),
        latch=deps.latch,
        gate=deps.gate,
        store=risk_store,
        books=books,
    )


def watchdog_for(config: MakerdConfig, watched: tuple[str, ...]) -> WatchdogLogic:
    watchdog = config.watchdog
    return WatchdogLogic(
        roles=watched,
        ping_interval_ns=int(watchdog.ping_interval_s * NS_PER_S),
        deadline_ns=int(watchdog.deadline_s * NS_PER_S),
        dead_man_switch_ns=int(watchdog.dead_man_switch_s * NS_PER_S),
    )


def _quote_sampler(deps: Dependencies) -> QuoteSampler | None:
    """Samples for the report, kept where the journal is a real one (not a test's fake)."""
    if not isinstance(deps.journal, Journal):
        return None
    return QuoteSampler(journal=deps.journal.report_tables, session_id=deps.session_id)


def keeps_own_orders(config: MakerdConfig) -> bool:
    """A live or paper run that records its market journals its orders' changes (a live
    run's replay takes them out of the recording; both give the queue wait)."""
    return config.mode in {Mode.LIVE, Mode.PAPER} and config.feed.record_dir is not None


def _own_order_log(deps: Dependencies) -> OwnOrderLog | None:
    """Our orders' changes, kept while a live or paper run records (a replay of a live run
    takes us out; paper orders never reach the venue, so its recording holds none of them).
    """
    if not keeps_own_orders(deps.config) or not isinstance(deps.journal, Journal):
        return None
    return OwnOrderLog(journal=deps.journal.own_orders, session_id=deps.session_id)
