"""The typed configuration tree. Frozen; built only by :mod:`config.loader` after validation.

Units are in the field names: ``_bps`` basis points, ``_s`` seconds, ``_ms`` milliseconds,
``_usd`` US dollars; sizes are in the coin's base units.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from enum import Enum
from pathlib import Path


class Mode(Enum):
    SIM = "sim"
    PAPER = "paper"
    LIVE = "live"


class Scenario(Enum):
    CALM = "calm"
    VOLATILE = "volatile"
    TRENDING = "trending"
    CRASH = "crash"


class QueueModel(Enum):
    """How the paper engine estimates the queue ahead of a resting order (docs/backtest.md)."""

    RISK_AVERSE = "risk_averse"
    POWER_PROB = "power_prob"


class RestartStrategy(Enum):
    ONE_FOR_ONE = "one_for_one"
    REST_FOR_ONE = "rest_for_one"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9108
    allow_non_loopback: bool = False
    """Metrics show positions, PnL and orders: serving them beyond loopback is opt-in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """The embedded synthetic market."""

    scenario: Scenario = Scenario.CALM
    seed: int = 7
    start_price: Decimal = Decimal(60000)
    sz_decimals: int = 5
    step_ms: int = 100
    correlation: float = 0.7
    """With several coins: the share of each coin's price variance that is one common factor."""
    funding_rate: Decimal = Decimal("0.0000125")
    """Paid by a long (received by a short) at each funding time, a fraction of notional."""
    funding_interval_s: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperConfig:
    """The paper matching engine (sim, paper and backtest modes)."""

    order_entry_latency_ms: int = 30
    ack_latency_ms: int = 20
    maker_fee_rate: Decimal = Decimal("0.00015")
    taker_fee_rate: Decimal = Decimal("0.00045")
    queue_model: QueueModel = QueueModel.RISK_AVERSE
    queue_power: float = 2.0
    """``power_prob`` only: the exponent n in the share of cancels taken as ahead of us."""
    account_value_usd: Decimal = Decimal(10000)
    """The modelled account's value at start, in USD (margin use is judged against it)."""
    leverage: int = 20
    """The modelled account's leverage (at most the coin's maximum): margin used is the
    position's notional over this, and an order needs its notional over this to be placed."""


@dataclass(frozen=True, slots=True)
class ModelParams:
    """Parameters of the selected quoting model, checked by the model's own registry entry.

    Written in YAML as a plain mapping (``params: {gamma: 0.05, kappa_per_bps: 0.5}``).
    """

    items: tuple[tuple[str, float | str], ...] = ()

    def as_dict(self) -> dict[str, float | str]:
        return dict(self.items)


class VolatilityEstimatorKind(Enum):
    EWMA = "ewma"
    GARCH = "garch"


@dataclass(frozen=True, slots=True, kw_only=True)
class QuotingConfig:
    """``model: symmetric`` reads the ladder fields below; other models read ``params``."""

    model: str = "symmetric"
    params: ModelParams = field(default_factory=ModelParams)
    volatility_estimator: VolatilityEstimatorKind = VolatilityEstimatorKind.EWMA
    volatility_halflife_s: float = 60.0
    adverse_selection_guard: bool = True
    session_s: float = 0.0
    """Trading-session length for finite-horizon models, aligned to UTC (86400 = sessions
    end at 00:00 UTC); 0 = no sessions (24/7, the stationary form)."""
    levels: int = 3
    first_level_bps: Decimal = Decimal(3)
    level_spacing_bps: Decimal = Decimal(3)
    order_size: Decimal = Decimal("0.002")
    size_decay: Decimal = Decimal(1)
    inventory_skew_bps: Decimal = Decimal(4)
    one_sided_at: Decimal = Decimal("0.8")
    refresh_interval_ms: int = 250
    bracket_take_profit_bps: Decimal = Decimal(0)
    bracket_stop_loss_bps: Decimal = Decimal(0)
    bracket_limit_slippage_bps: Decimal = Decimal(50)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderManagerConfig:
    price_tolerance_bps: Decimal = Decimal(2)
    size_tolerance: Decimal = Decimal("0.25")
    max_order_age_s: float = 60.0
    max_orders_per_batch: int = 20
    queue_hold_s: float = 5.0
    queue_hold_factor: Decimal = Decimal(2)
    """How many times ``price_tolerance_bps`` an order *ahead* of its level (closer to the
    mid than wanted) may drift once it held its price ``queue_hold_s``; 1 = never widened,
    so such an order is moved before it nears the mid however long it rested."""
    behind_tolerance_factor: Decimal = Decimal(2)
    """How many times ``price_tolerance_bps`` an order *behind* its level (further from the
    mid: safer than wanted) may drift before it is moved up: moving it buys a better price
    with a request and the order's queue place."""
    depth_tolerance: Decimal = Decimal("0.5")
    """Fraction of a level's distance from the ladder's centre its order may drift, when
    more than ``price_tolerance_bps`` (deep levels, a ladder the markout guard widened)."""
    budget_low_water_requests: int = 2000
    """Below this many requests left in the exchange's address budget, refresh less."""
    budget_tolerance_factor: Decimal = Decimal(3)
    """How much wider the price tolerance and maximum order age are while the budget is low."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskConfig:
    max_position: Decimal = Decimal("0.05")
    reduce_only_at: Decimal = Decimal("0.8")
    max_drawdown_usd: Decimal = Decimal(300)
    session_loss_usd: Decimal = Decimal(200)
    max_losing_round_trips: int = 0
    stale_feed_halt_s: float = 60.0
    flatten_on_kill: bool = False
    max_position_usd: Decimal = Decimal(0)
    """Largest absolute position's notional at the mark, in USD (0 = only the coin limit)."""
    daily_loss_usd: Decimal = Decimal(400)
    """Loss of one UTC day, across restarts (the day's PnL is kept in the journal)."""
    loss_soft_at: Decimal = Decimal("0.8")
    """Fraction of a loss limit (drawdown, session, daily) at which quoting turns reduce-only."""
    flatten_on_stop: bool = False
    """A normal stop (SIGTERM, the end of --duration) also closes the position."""
    rejection_storm_count: int = 5
    """Rejections for one reason within ``rejection_storm_window_s`` that trip the kill switch
    (post-only crosses, rate limits and refusals while stopping do not count; one answer
    counts once, however many orders it refused)."""
    rejection_storm_window_s: float = 10.0
    margin_soft_at: Decimal = Decimal("0.7")
    """Share of the account value used as margin at which quoting turns reduce-only."""
    margin_hard_at: Decimal = Decimal("0.9")
    """Share of the account value used as margin that trips the kill switch."""
    margin_poll_s: float = 5.0
    """Seconds between questions to the venue about the account's margin."""
    price_band_pct: Decimal = Decimal(0)
    """A mid move of more than this percentage within ``price_band_window_s`` pauses quoting
    for ``price_band_pause_s`` (0 = off)."""
    price_band_window_s: float = 10.0
    price_band_pause_s: float = 30.0
    open_interest_cap_hold_s: float = 30.0
    """Seconds a coin quotes reduce-only after the exchange refused one of its orders for
    the coin's open-interest cap (then its whole ladder is tried again)."""
    market_halt_hold_s: float = 60.0
    """Seconds a coin stays halted, its orders cancelled, after the exchange refused one
    of its orders as the coin's trading is halted (then its whole ladder is tried again)."""
    max_unrealized_loss_usd: Decimal = Decimal(0)
    """Unrealized loss of the open position that closes it (reduce-only IOC) and trips the
    kill switch (0 = off)."""
    max_gross_usd: Decimal = Decimal(0)
    """Sum over coins of each position's notional at its mark, in USD (0 = no limit)."""
    max_net_usd: Decimal = Decimal(0)
    """Absolute sum over coins of the signed notionals, in USD (0 = no limit)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedConfig:
    stale_after_s: float = 5.0
    record_dir: Path | None = None
    """Paper and live: record the market stream here (docs/recording.md); None = off."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorConfig:
    strategy: RestartStrategy = RestartStrategy.ONE_FOR_ONE
    max_restarts: int = 5
    period_s: float = 3600.0
    shutdown_timeout_s: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchdogConfig:
    ping_interval_s: float = 1.0
    deadline_s: float = 3.0
    dead_man_switch_s: float = 30.0
    """Venue-side cancel-all horizon, re-armed while every actor answers (0 = off)."""


class Network(Enum):
    MAINNET = "mainnet"
    TESTNET = "testnet"


class OrderTransport(Enum):
    """How signed order actions reach the exchange."""

    WEBSOCKET = "websocket"
    """The WebSocket ``post`` channel while it is connected, HTTP while it is not."""
    HTTP = "http"
    """``POST /exchange`` only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HyperliquidConfig:
    """The exchange connection (live and paper modes).

    ``network`` decides the signing domain; ``api_url`` only where requests go (a custom
    URL, such as ``makerd venue``, still signs for ``network``).
    """

    network: Network = Network.TESTNET
    api_url: str | None = None
    account_address: str | None = None
    vault_address: str | None = None
    key_file: Path | None = None
    reconnect_max_backoff_s: float = 30.0
    request_weight_per_minute: int = 600
    """Our own IP budget: half of the exchange's 1200 per minute."""
    start_retry_s: float = 60.0
    """How long an unreachable, slow or rate-limiting venue is retried at start before
    makerd exits 75 (temporary failure: the service manager starts it again)."""
    dead_man_max_failures: int = 3
    """Failed re-arms of the exchange's dead-man switch in a row before quotes are pulled."""
    order_transport: OrderTransport = OrderTransport.WEBSOCKET
    """The post channel hands an action to its socket in a fraction of HTTP's time; ``http``
    is the way back should an exchange or proxy treat WebSocket posts differently."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultsConfig:
    """Deliberate failures, for tests and drills only; all off by default."""

    crash_role: str | None = None
    crash_every_s: float = 0.0
    hang_role: str | None = None
    hang_after_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CoinRisk:
    """A coin's own values of the risk keys judged on each coin alone; None: the top-level
    ``risk`` section's. A position limit is in the coin's base units, so coins of very
    different prices need their own; the account-wide limits have no per-coin form."""

    max_position: Decimal | None = None
    max_position_usd: Decimal | None = None
    reduce_only_at: Decimal | None = None

    def over(self, risk: RiskConfig) -> RiskConfig:
        """``risk`` with this coin's own values in place of the section's."""
        own = {name: getattr(self, name) for name in COIN_RISK_KEYS}
        return replace(risk, **{name: value for name, value in own.items() if value is not None})


COIN_RISK_KEYS = tuple(own.name for own in fields(CoinRisk))
"""The risk keys a coin may set for itself (``coins[i].risk``): the limits judged per coin."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CoinSpec:
    """One quoted coin, the quoting section it uses (the top-level one plus its overrides)
    and its own risk limits (over the top-level section's)."""

    coin: str
    quoting: QuotingConfig = field(default_factory=QuotingConfig)
    risk: CoinRisk = field(default_factory=CoinRisk)


@dataclass(frozen=True, slots=True, kw_only=True)
class MakerdConfig:
    mode: Mode = Mode.SIM
    coin: str = "BTC"
    """The first (or only) coin; ``coins`` lists every coin when there are several."""
    coins: tuple[CoinSpec, ...] = ()
    """Empty: one coin, ``coin`` with the top-level ``quoting``."""
    state_dir: Path = Path("var")
    status_interval_s: float = 5.0
    stop_timeout_s: float = 20.0
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    paper: PaperConfig = field(default_factory=PaperConfig)
    quoting: QuotingConfig = field(default_factory=QuotingConfig)
    order_manager: OrderManagerConfig = field(default_factory=OrderManagerConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    supervisor: SupervisorConfig = field(default_factory=SupervisorConfig)
    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)
    hyperliquid: HyperliquidConfig = field(default_factory=HyperliquidConfig)
    faults: FaultsConfig = field(default_factory=FaultsConfig)

    def coin_specs(self) -> tuple[CoinSpec, ...]:
        """Every quoted coin, in the order given; one when ``coins`` is empty."""
        return self.coins or (CoinSpec(coin=self.coin, quoting=self.quoting),)

    def coin_quoting(self, coin: str) -> QuotingConfig:
        """``coin``'s quoting section: its entry's (the top-level one if it is not listed)."""
        for spec in self.coin_specs():
            if spec.coin == coin:
                return spec.quoting
        return self.quoting

    def coin_risk(self, coin: str) -> RiskConfig:
        """The risk section ``coin`` is judged by: the top-level one with the coin's own
        limits over it (the top-level one for a coin not listed)."""
        for spec in self.coin_specs():
            if spec.coin == coin:
                return spec.risk.over(self.risk)
        return self.risk

    def risk_in_force(self) -> RiskConfig:
        """The one coin's limits (its entry's over the section); with several coins the
        top-level section, the account's (each coin's own: :meth:`coin_risk`)."""
        specs = self.coin_specs()
        return self.coin_risk(specs[0].coin) if len(specs) == 1 else self.risk
