"""Prometheus metrics for one makerd process, and the loopback HTTP endpoint serving them.

Naming follows the Prometheus conventions: the ``makerd_`` prefix, base units
(``_seconds``, ``_usd``, ``_ratio``), ``_total`` on counters, timestamps as
``_timestamp_seconds``. Every series carries ``venue`` and ``symbol``, bound once at
construction; every other label takes values from a fixed set (daemon/metric_labels.py;
listed, with meanings, in deploy/prometheus/README.md) and each known combination is
created at start, so the first increment is visible to ``rate()``. A gauge's fallback
value ``other`` is never created ahead of use: a placeholder
``makerd_actor_up{actor="other"} 0`` would make an "actor down" alert fire on a healthy bot
(a counter at 0 harms no alert, so counters keep every combination). Gauges that only mean
something once an event has set them (``makerd_feed_connected``) start with no series at all.

The registry also carries the client's process (``process_*``: CPU, memory, open file
descriptors, start time) and platform (``python_info``) collectors, and the garbage
collector's (``python_gc_*``).
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)

from makerd.daemon.metric_labels import (
    ACTORS,
    DISCONNECT_REASONS,
    FEED_CHANNELS,
    FEED_DROP_REASONS,
    FEED_STREAMS,
    KILL_SWITCH_STATES,
    LIQUIDITY,
    ORDER_RULE_ERROR_REASONS,
    OTHER,
    QUOTE_SKIP_REASONS,
    RESTART_REASONS,
    RISK_LIMITS,
    SIDES,
    LabelledMetric,
    enum_values,
)
from makerd.daemon.metrics_http import MetricsServer, serve_metrics
from makerd.protocol.orders import CancelReason
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import KillReason, RiskLimit, TradingState

__all__ = ["LabelledMetric", "Metrics", "MetricsServer", "serve_metrics"]

log = logging.getLogger(__name__)


TICK_TO_QUOTE_BUCKETS_S = (5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1)
# Hyperliquid acknowledges in roughly 0.1 to 0.5 s; the buckets resolve that range.
ORDER_ACK_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0)


@dataclass(frozen=True, slots=True)
class ControlMetrics:
    """What shows whether makerd still controls its orders and fills (docs/invariants.md),
    and how close its limits are to acting."""

    rate_budget_weight_left: Gauge
    address_requests_left: Gauge
    fills_late_total: Counter
    fills_off_lot_grid_total: Counter
    position_mismatches_total: LabelledMetric[Counter]
    dead_man_switch_armed: Gauge
    dead_man_switch_lost_total: Counter
    risk_soft_actions_total: LabelledMetric[Counter]
    """A limit turned quoting reduce-only, or paused it (``price_band``)."""
    margin_use_ratio: Gauge


class Metrics:
    """Every makerd metric, registered on ``registry`` (tests pass a fresh one each)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        venue: str,
        symbol: str,
        version: str | None = None,
        process_collectors: bool = True,
    ) -> None:
        self._registry = registry
        if process_collectors:
            _register_runtime_collectors(registry)
        self._bound = {"venue": venue, "symbol": symbol}
        counter, gauge = self._counter_family, self._gauge_family
        single_counter, single_gauge = self._counter, self._gauge
        side = {"side": SIDES}
        self.quotes_sent_total = counter(
            "makerd_quotes_sent_total", "Quote levels sent to the order manager.", side
        )
        self.quotes_skipped_total = counter(
            "makerd_quotes_skipped_total", "Quote cycles skipped.", {"reason": QUOTE_SKIP_REASONS}
        )
        self.orders_placed_total = counter(
            "makerd_orders_placed_total", "Orders sent to the venue.", side
        )
        self.config_reloads_total = counter(
            "makerd_config_reloads_total",
            "SIGHUP config re-validations, by result.",
            {"result": ("valid", "invalid")},
        )
        self.orders_modified_total = single_counter(
            "makerd_orders_modified_total", "Order amendments sent to the venue."
        )
        self.orders_cancelled_total = counter(
            "makerd_orders_cancelled_total",
            "Order cancels sent, by why.",
            {"reason": enum_values(CancelReason)},
        )
        self.orders_rejected_total = counter(
            "makerd_orders_rejected_total",
            "Orders the venue rejected.",
            {"reason": enum_values(RejectReason)},
        )
        self.order_rule_errors_total = counter(
            "makerd_order_rule_errors_total",
            "Orders refused locally by tick/lot/notional rules.",
            {"reason": ORDER_RULE_ERROR_REASONS},
        )
        self.open_orders = gauge("makerd_open_orders", "Resting orders.", side)
        self.fills_total = counter(
            "makerd_fills_total", "Fills booked.", {"side": SIDES, "liquidity": LIQUIDITY}
        )
        self.fill_quantity_total = counter(
            "makerd_fill_quantity_total", "Filled size in base-asset units.", side
        )
        self.position = single_gauge(
            "makerd_position", "Position in base-asset units; negative is short."
        )
        self.pnl_realized_usd = single_gauge(
            "makerd_pnl_realized_usd", "Realized PnL of the session, USD."
        )
        self.pnl_unrealized_usd = single_gauge(
            "makerd_pnl_unrealized_usd", "Unrealized PnL at the mark, USD."
        )
        self.fees_paid_usd_total = single_counter("makerd_fees_paid_usd_total", "Fees paid, USD.")
        self.fee_rebates_usd_total = single_counter(
            "makerd_fee_rebates_usd_total", "Maker rebates received, USD."
        )
        self.quote_spread_ratio = single_gauge(
            "makerd_quote_spread_ratio", "Quoted best ask minus best bid over their mid."
        )
        self.mid_price_usd = single_gauge("makerd_mid_price_usd", "Book mid price, USD.")
        self.feed_messages_total = counter(
            "makerd_feed_messages_total",
            "Market data messages received.",
            {"channel": FEED_CHANNELS},
        )
        self.feed_messages_dropped_total = counter(
            "makerd_feed_messages_dropped_total",
            "Venue messages dropped as invalid, by stream and reason.",
            {"stream": FEED_STREAMS, "reason": FEED_DROP_REASONS},
        )
        self.feed_last_message_timestamp_seconds = single_gauge(
            "makerd_feed_last_message_timestamp_seconds",
            "When the last book arrived, Unix seconds.",
        )
        self.feed_stale = single_gauge("makerd_feed_stale", "1 while the feed is stale, else 0.")
        # No series until a stream reports: in sim mode there is no stream, and a
        # pre-created 0 would read as "disconnected".
        self.feed_connected = gauge(
            "makerd_feed_connected",
            "1 while the venue stream is connected (live and paper modes).",
            {"stream": FEED_STREAMS},
            precreate=False,
        )
        self.feed_reconnects_total = counter(
            "makerd_feed_reconnects_total",
            "Venue stream disconnections (each is followed by a reconnect), by cause.",
            {"stream": FEED_STREAMS, "reason": DISCONNECT_REASONS},
        )
        self.actor_restarts_total = counter(
            "makerd_actor_restarts_total",
            "Actor restarts by the supervisor.",
            {"actor": ACTORS, "reason": RESTART_REASONS},
        )
        self.actor_up = gauge("makerd_actor_up", "1 while the actor is running.", {"actor": ACTORS})
        self.actor_mailbox_depth = gauge(
            "makerd_actor_mailbox_depth",
            "Messages waiting in the actor's inbox.",
            {"actor": ACTORS},
        )
        self.supervisor_intensity_exceeded_total = single_counter(
            "makerd_supervisor_intensity_exceeded_total",
            "Times the restart intensity was exceeded.",
        )
        self.kill_switch_trips_total = counter(
            "makerd_kill_switch_trips_total",
            "Kill switch trips.",
            {"reason": enum_values(KillReason)},
        )
        self.risk_limit_breaches_total = counter(
            "makerd_risk_limit_breaches_total", "Risk limits crossed.", {"limit": RISK_LIMITS}
        )
        self.control = self._control_metrics()
        self.risk_max_position = single_gauge(
            "makerd_risk_max_position",
            "risk.max_position in force: the position limit in base-asset units.",
        )
        self.risk_max_drawdown_usd = single_gauge(
            "makerd_risk_max_drawdown_usd",
            "risk.max_drawdown_usd in force: the peak-to-trough PnL that trips, USD.",
        )
        self.risk_session_loss_limit_usd = single_gauge(
            "makerd_risk_session_loss_limit_usd",
            "risk.session_loss_usd in force: the session loss that trips, USD.",
        )
        self.watchdog_last_ping_timestamp_seconds = single_gauge(
            "makerd_watchdog_last_ping_timestamp_seconds",
            "When the watchdog last found every actor alive, Unix seconds.",
        )
        self.tick_to_quote_seconds = self._histogram(
            "makerd_tick_to_quote_seconds",
            "Book update to quote commands sent.",
            TICK_TO_QUOTE_BUCKETS_S,
        )
        self.order_ack_latency_seconds = self._histogram(
            "makerd_order_ack_latency_seconds",
            "Order sent to venue acknowledgement.",
            ORDER_ACK_BUCKETS_S,
        )
        self.kill_switch_state = self._enum(
            "makerd_kill_switch_state", "Kill switch latch.", KILL_SWITCH_STATES
        )
        self.trading_state = self._enum(
            "makerd_trading_state", "Risk trading state.", enum_values(TradingState)
        )
        self.operator_paused = self._gauge(
            "makerd_operator_paused",
            "1 while an operator has paused quoting (makerd ctl pause or flatten), else 0.",
        )
        self.operator_paused.set(0)
        build = Info(
            "makerd_build", "makerd build.", labelnames=tuple(self._bound), registry=registry
        )
        build.labels(**self._bound).info({"version": version or _installed_version()})  # fmt: skip

    def _control_metrics(self) -> ControlMetrics:
        armed = self._gauge(
            "makerd_dead_man_switch_armed",
            "1 while the exchange's scheduled cancel is armed, 0 once lost (live; NaN before).",
        )
        weight_left = self._gauge(
            "makerd_rate_budget_weight_left",
            "Request weight left in makerd's own per-minute IP budget (live mode).",
        )
        address_left = self._gauge(
            "makerd_address_requests_left",
            "Requests left in the exchange's per-address budget (live mode; NaN if unknown).",
        )
        # NaN until a live venue reports (sim has neither): a 0 would read as "none left" or
        # "lost".
        for unknown_yet in (armed, weight_left, address_left):
            unknown_yet.set(math.nan)
        return ControlMetrics(
            rate_budget_weight_left=weight_left,
            address_requests_left=address_left,
            fills_late_total=self._counter(
                "makerd_fills_late_total",
                "Fills booked late: found by a repair or a snapshot after their push was missed.",
            ),
            fills_off_lot_grid_total=self._counter(
                "makerd_fills_off_lot_grid_total",
                "Fills whose size is off the coin's lot grid (booked as reported; restart makerd).",
            ),
            position_mismatches_total=self._counter_family(
                "makerd_position_mismatches_total",
                "Venue positions that differed from the booked one, by what was done.",
                {"action": ("repair", "adjusted", OTHER)},
            ),
            dead_man_switch_armed=armed,
            dead_man_switch_lost_total=self._counter(
                "makerd_dead_man_switch_lost_total",
                "Times repeated re-arm failures left the exchange's scheduled cancel unarmed.",
            ),
            risk_soft_actions_total=self._counter_family(
                "makerd_risk_soft_actions_total",
                "Times a limit turned quoting reduce-only, or paused it (price_band).",
                {"limit": enum_values(RiskLimit)},
            ),
            margin_use_ratio=self._gauge(
                "makerd_margin_use_ratio", "Margin used over account value, as last reported."
            ),
        )

    def register_recording_drops(self, dropped: Callable[[], int]) -> None:
        """``makerd_recording_dropped_lines``: only a run that records (``feed.record_dir``)."""
        self._gauge(
            "makerd_recording_dropped_lines",
            "Market-data lines not recorded because the recorder's writer fell behind, since "
            "start; each run of them is marked in the recording as a queue_full gap.",
        ).set_function(dropped)

    def register_mailbox_depth(self, actor: str, depth: Callable[[], int]) -> None:
        """Report ``depth()`` (an actor's inbox size) as its mailbox gauge at every scrape."""

        failed_before = False

        def safe_depth() -> float:
            # One failing callable must not fail the whole scrape; NaN shows "unknown".
            nonlocal failed_before
            try:
                return float(depth())
            except Exception:
                if not failed_before:
                    log.exception("mailbox depth of %s could not be read", actor)
                failed_before = True
                return math.nan

        self.actor_mailbox_depth.labels(actor=actor).set_function(safe_depth)

    def _counter(self, name: str, doc: str) -> Counter:
        family = Counter(name, doc, labelnames=tuple(self._bound), registry=self._registry)
        return family.labels(**self._bound)

    def _gauge(self, name: str, doc: str) -> Gauge:
        family = Gauge(name, doc, labelnames=tuple(self._bound), registry=self._registry)
        return family.labels(**self._bound)

    def _counter_family(
        self, name: str, doc: str, allowed: Mapping[str, tuple[str, ...]]
    ) -> LabelledMetric[Counter]:
        family = Counter(name, doc, labelnames=(*self._bound, *allowed), registry=self._registry)
        return LabelledMetric(family, self._bound, allowed)

    def _gauge_family(
        self,
        name: str,
        doc: str,
        allowed: Mapping[str, tuple[str, ...]],
        *,
        precreate: bool = True,
    ) -> LabelledMetric[Gauge]:
        family = Gauge(name, doc, labelnames=(*self._bound, *allowed), registry=self._registry)
        return LabelledMetric(
            family, self._bound, allowed, precreate=precreate, precreate_other=False
        )

    def _histogram(self, name: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
        family = Histogram(
            name, doc, labelnames=tuple(self._bound), buckets=buckets, registry=self._registry
        )
        return family.labels(**self._bound)

    def _enum(self, name: str, doc: str, states: tuple[str, ...]) -> Enum:
        family = Enum(
            name, doc, labelnames=tuple(self._bound), states=list(states), registry=self._registry
        )
        return family.labels(**self._bound)


def _register_runtime_collectors(registry: CollectorRegistry) -> None:
    """process_* (CPU, memory, fds, start time), python_info and python_gc_*."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


def _installed_version() -> str:
    try:
        return importlib.metadata.version("makerd")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
