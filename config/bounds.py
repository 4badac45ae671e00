"""The range of every numeric config field, in one table.

A field's type only says "a number"; its range says which numbers mean something. Upper
bounds are generous (an operator should never meet one by accident) but finite, so a
typo such as ``1e300`` or a unit slip (milliseconds in a ``_s`` field) is refused instead
of arming a limit that can never trip or a timer that never fires. Every numeric field of
:class:`config.model.MakerdConfig` must appear here; a test walks the tree to prove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import reduce

from makerd.config.model import MakerdConfig
from makerd.protocol.instrument import PERP_MAX_DECIMALS

Number = int | float | Decimal

MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86_400
WEEK_S = 7 * DAY_S
WHOLE_PRICE_BPS = 10_000
"""10000 bps is the whole price: a distance that large would put a bid at or below zero."""
MAX_SIZE = 10**9
"""Base units; even a meme coin's position in a market maker's hands is far below this."""
MAX_USD = 10**9
MAX_PRICE_USD = 10**9
EXCHANGE_WEIGHT_PER_MINUTE = 1200
"""Hyperliquid's request-weight budget per IP and minute; ours must fit inside it."""
MAX_LEVERAGE = 100
"""Hyperliquid lists no perpetual above 50x; twice that is surely a typo."""
FEE_RATE_LIMIT = Decimal("0.01")
"""A fee rate past 1% is almost surely basis points or percent typed as a fraction."""


@dataclass(frozen=True, slots=True)
class Bound:
    """``low`` to ``high``; an open end excludes its value."""

    low: Number
    high: Number
    low_open: bool = False
    high_open: bool = False
    hint: str = ""
    """Appended to the range in the message: what a typical mistake looks like."""

    def admits(self, value: Number) -> bool:
        number = Decimal(value)
        low, high = Decimal(self.low), Decimal(self.high)
        above = number > low if self.low_open else number >= low
        below = number < high if self.high_open else number <= high
        return above and below

    def describe(self) -> str:
        if (self.low, self.high, self.low_open, self.high_open) == (0, 1, True, False):
            return "a fraction in (0, 1]"
        if not self.low_open and not self.high_open:
            return f"from {self.low} to {self.high}"
        if self.low_open and self.low == 0 and not self.high_open:
            return f"greater than 0 and at most {self.high}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"within {left}{self.low}, {self.high}{right}{self.hint}"


def _open_low(high: Number) -> Bound:
    return Bound(0, high, low_open=True)


_FRACTION = Bound(0, 1, low_open=True)
_BPS = Bound(0, WHOLE_PRICE_BPS, high_open=True)
_FEE = Bound(
    -FEE_RATE_LIMIT,
    FEE_RATE_LIMIT,
    low_open=True,
    high_open=True,
    hint=" (a fraction of notional: 1.5 bps is 0.00015)",
)

BOUNDS: dict[str, Bound] = {
    "status_interval_s": _open_low(DAY_S),
    "stop_timeout_s": _open_low(HOUR_S),
    "metrics.port": Bound(0, 65535),
    "sim.seed": Bound(0, 2**64 - 1),
    "sim.start_price": _open_low(MAX_PRICE_USD),
    "sim.sz_decimals": Bound(0, PERP_MAX_DECIMALS),
    "sim.step_ms": Bound(1, MINUTE_S * 1000),
    "sim.correlation": Bound(0, 1, high_open=True),
    # Hyperliquid caps funding at 4% an hour; more is a typo, not a market.
    "sim.funding_rate": Bound(Decimal("-0.04"), Decimal("0.04")),
    "sim.funding_interval_s": Bound(1, DAY_S),
    "paper.order_entry_latency_ms": Bound(0, MINUTE_S * 1000),
    "paper.ack_latency_ms": Bound(0, MINUTE_S * 1000),
    "paper.maker_fee_rate": _FEE,
    "paper.taker_fee_rate": _FEE,
    "paper.queue_power": Bound(0, 10, low_open=True),
    "paper.account_value_usd": _open_low(MAX_USD),
    "paper.leverage": Bound(1, MAX_LEVERAGE),
    "quoting.volatility_halflife_s": _open_low(WEEK_S),
    "quoting.session_s": Bound(0, WEEK_S),
    "quoting.levels": Bound(1, 20),
    "quoting.first_level_bps": Bound(0, WHOLE_PRICE_BPS, low_open=True, high_open=True),
    "quoting.level_spacing_bps": _BPS,
    "quoting.order_size": _open_low(MAX_SIZE),
    "quoting.size_decay": _FRACTION,
    "quoting.inventory_skew_bps": _BPS,
    "quoting.one_sided_at": _FRACTION,
    "quoting.refresh_interval_ms": Bound(1, HOUR_S * 1000),
    "quoting.bracket_take_profit_bps": _BPS,
    "quoting.bracket_stop_loss_bps": _BPS,
    "quoting.bracket_limit_slippage_bps": _BPS,
    "order_manager.price_tolerance_bps": _BPS,
    "order_manager.size_tolerance": Bound(0, 1, high_open=True),
    "order_manager.max_order_age_s": _open_low(DAY_S),
    "order_manager.max_orders_per_batch": Bound(1, 1000),
    "order_manager.queue_hold_s": Bound(0, DAY_S),
    "order_manager.queue_hold_factor": Bound(1, 100),
    "order_manager.behind_tolerance_factor": Bound(1, 100),
    "order_manager.depth_tolerance": Bound(0, 1, high_open=True),
    "order_manager.budget_low_water_requests": Bound(0, 10**7),
    "order_manager.budget_tolerance_factor": Bound(1, 100),
    "risk.max_position": _open_low(MAX_SIZE),
    "risk.reduce_only_at": _FRACTION,
    "risk.max_drawdown_usd": _open_low(MAX_USD),
    "risk.session_loss_usd": _open_low(MAX_USD),
    "risk.max_losing_round_trips": Bound(0, 10**6),
    "risk.max_position_usd": Bound(0, MAX_USD),
    "risk.daily_loss_usd": _open_low(MAX_USD),
    "risk.loss_soft_at": _FRACTION,
    "risk.rejection_storm_count": Bound(1, 10**6),
    "risk.rejection_storm_window_s": _open_low(DAY_S),
    "risk.max_gross_usd": Bound(0, MAX_USD),
    "risk.max_net_usd": Bound(0, MAX_USD),
    "risk.stale_feed_halt_s": _open_low(DAY_S),
    "risk.margin_soft_at": _FRACTION,
    "risk.margin_hard_at": _FRACTION,
    "risk.margin_poll_s": _open_low(HOUR_S),
    "risk.price_band_pct": Bound(0, 100, high_open=True),
    "risk.price_band_window_s": _open_low(HOUR_S),
    "risk.price_band_pause_s": _open_low(DAY_S),
    "risk.open_interest_cap_hold_s": _open_low(DAY_S),
    "risk.market_halt_hold_s": _open_low(DAY_S),
    "risk.max_unrealized_loss_usd": Bound(0, MAX_USD),
    "feed.stale_after_s": _open_low(HOUR_S),
    "supervisor.max_restarts": Bound(0, 1000),
    "supervisor.period_s": _open_low(WEEK_S),
    "supervisor.shutdown_timeout_s": _open_low(10 * MINUTE_S),
    "watchdog.ping_interval_s": _open_low(MINUTE_S),
    "watchdog.deadline_s": _open_low(10 * MINUTE_S),
    "watchdog.dead_man_switch_s": Bound(0, HOUR_S),
    "hyperliquid.reconnect_max_backoff_s": _open_low(HOUR_S),
    "hyperliquid.request_weight_per_minute": Bound(1, EXCHANGE_WEIGHT_PER_MINUTE),
    # Zero gives up at the first failure; past an hour a unit's own restart does better.
    "hyperliquid.start_retry_s": Bound(0, HOUR_S),
    "hyperliquid.dead_man_max_failures": Bound(1, 1000),
    "faults.crash_every_s": Bound(0, WEEK_S),
    "faults.hang_after_s": Bound(0, WEEK_S),
}


def value_at(config: MakerdConfig, path: str) -> object:
    """The field at a dotted ``path`` (``risk.max_position``)."""
    return reduce(getattr, path.split("."), config)


def bound_problems(config: MakerdConfig) -> list[str]:
    """One ``path: problem`` line per field outside its bound."""
    problems = []
    for path, bound in BOUNDS.items():
        value = value_at(config, path)
        assert isinstance(value, int | float | Decimal), path
        if not bound.admits(value):
            problems.append(f"{path}: must be {bound.describe()}, got {value}")
    return problems
