"""One coin's view of what the actors are doing: metrics, the status line, readiness.

Messages addressed to the observer arrive on whichever thread sent them; everything
here is quick, lock-protected and never blocks an actor. What the process does about
them (a kill switch, a hung child, an operator's answer) is not decided here: see
:mod:`daemon.process_inbox`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from makerd.daemon.ack_latencies import AckLatencyLog, AckTimer
from makerd.daemon.heard_orders import HeardOrders
from makerd.daemon.metrics import Metrics
from makerd.daemon.status_snapshot import StatusSnapshot, asked_no_earlier
from makerd.protocol.account import FillBooked, PositionChanged, PositionMismatch, PositionReported
from makerd.protocol.clock import Clock
from makerd.protocol.control import (
    AllChildrenAlive,
    FlattenGaveUp,
    OperatorCommandApplied,
    QuoteCycleCompleted,
)
from makerd.protocol.market import (
    BookUpdated,
    FeedMessageDropped,
    FeedRecovered,
    FeedStale,
    VenueConnectionChanged,
)
from makerd.protocol.order_actions import ActionKind
from makerd.protocol.orders import (
    CancelAll,
    CancelOrders,
    CancelRejected,
    DeadManSwitchArmed,
    DeadManSwitchLost,
    ModifyOrders,
    ModifyRejected,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderStateChanged,
    PlaceOrders,
    QuoteLevelsRefused,
    QuoteTarget,
)
from makerd.protocol.risk import (
    KillSwitchTripped,
    MarginReported,
    RiskLimit,
    RiskStateChanged,
    TradingState,
)
from makerd.protocol.side import Side

NS_PER_S = 1_000_000_000
RULE_LOG_INTERVAL_NS = 60 * NS_PER_S
_RULE_METRIC = {
    "below_tick": "tick",
    "size_zero": "size_zero",
    "below_min_notional": "min_notional",
}
log = logging.getLogger("makerd.quotes")
Handler = Callable[[Any], None]


class Observer:
    def __init__(
        self,
        *,
        metrics: Metrics,
        clock: Clock,
        paused: bool = False,
        coin: str = "",
        ack_log: AckLatencyLog | None = None,
    ) -> None:
        """``ack_log`` keeps each action's measured acknowledgement latency for the journal
        (the primary observer writes it out at each all-alive report)."""
        self._metrics = metrics
        self._clock = clock
        self._lock = threading.Lock()
        self._status = StatusSnapshot(paused=paused)
        metrics.operator_paused.set(1 if paused else 0)  # a pause kept from the last run
        self.first_cycle = threading.Event()
        self._last_rule_log_ns: dict[str, int] = {}
        self._acks = AckTimer(coin=coin)
        self._ack_log = ack_log
        self._dead_man_armed: bool | None = None
        self._heard = HeardOrders(clock)
        self._books_counted = metrics.feed_messages_total.labels(channel="l2Book")
        # Looked up once: each target and order change passes here on the quoting path.
        self._quotes_sent = {s: metrics.quotes_sent_total.labels(side=_side(s)) for s in Side}
        self._open_gauges = {s: metrics.open_orders.labels(side=_side(s)) for s in Side}
        self._handlers = self._by_type()

    def snapshot(self) -> StatusSnapshot:
        with self._lock:
            copy = StatusSnapshot(**{k: getattr(self._status, k) for k in StatusSnapshot.__slots__})
            copy.open_by_cloid = dict(self._status.open_by_cloid)
            return copy

    def count_restart(self) -> None:
        with self._lock:
            self._status.restarts += 1

    def venue_open_orders_since(self, asked_ns: int, asked_mono_ns: int | None) -> int | None:
        """The venue's count from a report asked at or after (``asked_ns``, ``asked_mono_ns``)."""
        with self._lock:
            status = self._status
            if status.venue_open_orders is None or not status.listed_since(asked_ns, asked_mono_ns):
                return None
            return status.venue_open_orders

    def venue_position_since(self, since_ns: int) -> Decimal | None:
        """The venue's position from a report that arrived at or after ``since_ns``."""
        with self._lock:
            if self._status.venue_position_ns < since_ns:
                return None
            return self._status.venue_position

    def __call__(self, message: object) -> None:
        handler = self._handlers.get(type(message))
        if handler is not None:
            with self._lock:
                handler(message)
        if isinstance(message, AllChildrenAlive) and self._ack_log is not None:
            # Outside the lock, on the watchdog's thread: off the path of orders and answers.
            self._ack_log.flush()

    def _by_type(self) -> dict[type, Handler]:
        metrics = self._metrics
        return {
            BookUpdated: self._on_book,
            QuoteTarget: self._on_target,
            QuoteCycleCompleted: self._on_cycle,
            PlaceOrders: self._on_place,
            ModifyOrders: self._on_modify,
            CancelOrders: self._on_cancel,
            CancelAll: lambda m: metrics.orders_cancelled_total.labels(reason=m.reason.value).inc(),
            OrderAccepted: self._on_accepted,
            OrderRejected: self._on_rejected,
            OrderModified: self._answer_handler(ActionKind.MODIFY),
            ModifyRejected: self._refusal_handler(ActionKind.MODIFY),
            OrderCancelled: self._on_cancelled,
            CancelRejected: self._refusal_handler(ActionKind.CANCEL),
            OrderStateChanged: self._on_order_state,
            QuoteLevelsRefused: self._on_levels_refused,
            OpenOrdersReported: self._on_venue_orders,
            FillBooked: self._on_fill,
            PositionChanged: self._on_position,
            PositionReported: self._on_venue_position,
            RiskStateChanged: self._on_risk_state,
            MarginReported: lambda m: metrics.control.margin_use_ratio.set(float(m.use)),
            FeedStale: lambda _: self._set_feed_stale(stale=True),
            FeedRecovered: lambda _: self._set_feed_stale(stale=False),
            VenueConnectionChanged: self._on_connection,
            FeedMessageDropped: lambda m: metrics.feed_messages_dropped_total.labels(
                stream=m.stream, reason=m.reason
            ).inc(),
            PositionMismatch: lambda m: metrics.control.position_mismatches_total.labels(
                action=m.action
            ).inc(),
            DeadManSwitchArmed: self._on_dead_man_armed,
            DeadManSwitchLost: self._on_dead_man_lost,
            OperatorCommandApplied: self._on_operator_applied,
            FlattenGaveUp: self._on_flatten_gave_up,
            AllChildrenAlive: lambda m: metrics.watchdog_last_ping_timestamp_seconds.set(
                m.ts_local / NS_PER_S
            ),
            KillSwitchTripped: self._on_tripped,
        }

    def _on_operator_applied(self, applied: OperatorCommandApplied) -> None:
        self._status.paused = applied.paused
        self._metrics.operator_paused.set(1 if applied.paused else 0)

    def _on_flatten_gave_up(self, gave_up: FlattenGaveUp) -> None:
        self._status.flatten_gave_up_ns = gave_up.ts_local

    def _on_dead_man_armed(self, _: DeadManSwitchArmed) -> None:
        self._dead_man_armed = True
        self._metrics.control.dead_man_switch_armed.set(1)

    def _on_dead_man_lost(self, _: DeadManSwitchLost) -> None:
        # One loss per streak of failures: the gateway reports every failure past the limit.
        if self._dead_man_armed is not False:
            self._metrics.control.dead_man_switch_lost_total.inc()
        self._dead_man_armed = False
        self._metrics.control.dead_man_switch_armed.set(0)

    def _on_book(self, book: BookUpdated) -> None:
        # On the book_feed's thread, every book, while the quoter waits for the GIL: the
        # mid is worked out once and the labelled counter is looked up once.
        mid = self._status.mid = book.mid
        if mid is not None:
            self._metrics.mid_price_usd.set(float(mid))
        self._books_counted.inc()
        self._metrics.feed_last_message_timestamp_seconds.set(book.ts_local / NS_PER_S)

    def _on_cycle(self, cycle: QuoteCycleCompleted) -> None:
        if cycle.commands_sent:
            # Logic stamps messages with the book's time; the real delay is measured here.
            latency = (self._clock.now_ns() - cycle.book_ts_local) / NS_PER_S
            self._metrics.tick_to_quote_seconds.observe(max(latency, 0.0))
        # A cycle on a dirty view places nothing: the previous run's orders may still rest.
        if cycle.reconciled:
            self.first_cycle.set()

    def _on_levels_refused(self, refused: QuoteLevelsRefused) -> None:
        for reason in refused.reasons:
            self._metrics.order_rule_errors_total.labels(
                reason=_RULE_METRIC.get(reason, "other")
            ).inc()
            last = self._last_rule_log_ns.get(reason, 0)
            if refused.ts_local - last >= RULE_LOG_INTERVAL_NS:
                self._last_rule_log_ns[reason] = refused.ts_local
                log.warning(
                    "event=quote_level_refused coin=%s reason=%s note=%r",
                    refused.coin,
                    reason,
                    "the exchange's rules refused a model level (logged once a minute per reason)",
                )

    def _on_place(self, command: PlaceOrders) -> None:
        for order in command.orders:
            self._metrics.orders_placed_total.labels(side=_side(order.side)).inc()
        cloids = (order.cloid for order in command.orders)
        self._acks.sent(ActionKind.PLACE, cloids, self._clock.now_ns())

    def _on_modify(self, command: ModifyOrders) -> None:
        self._metrics.orders_modified_total.inc(len(command.amendments))
        cloids = (change.cloid for change in command.amendments)
        self._acks.sent(ActionKind.MODIFY, cloids, self._clock.now_ns())

    def _on_cancel(self, command: CancelOrders) -> None:
        self._metrics.orders_cancelled_total.labels(reason=command.reason.value).inc(
            len(command.cloids)
        )
        self._acks.sent(ActionKind.CANCEL, command.cloids, self._clock.now_ns())

    def _on_accepted(self, accepted: OrderAccepted) -> None:
        self._heard.answered(accepted.cloid)
        latency = self._answered(ActionKind.PLACE, accepted.cloid)
        if latency is not None:
            self._metrics.order_ack_latency_seconds.observe(latency / NS_PER_S)

    def _on_rejected(self, rejected: OrderRejected) -> None:
        self._metrics.orders_rejected_total.labels(reason=rejected.reason.value).inc()
        self._acks.refused(ActionKind.PLACE, rejected.cloid)
        self._order_gone(rejected.cloid)

    def _on_cancelled(self, cancelled: OrderCancelled) -> None:
        self._answered(ActionKind.CANCEL, cancelled.cloid)
        self._order_gone(cancelled.cloid)

    def _order_gone(self, cloid: str) -> None:
        """The venue ended the order, whichever order_manager placed it: one that died
        (restarted, or its coin halted) never says so, and its orders would count forever."""
        self._heard.forget(cloid)
        if self._status.open_by_cloid.pop(cloid, None) is not None:
            self._count_open_orders()

    def _answer_handler(self, kind: ActionKind) -> Handler:
        def on_answer(answer: OrderModified | OrderCancelled) -> None:
            self._heard.answered(answer.cloid)
            self._answered(kind, answer.cloid)

        return on_answer

    def _refusal_handler(self, kind: ActionKind) -> Handler:
        def on_refusal(refusal: ModifyRejected | CancelRejected) -> None:
            self._heard.answered(refusal.cloid)  # the order rests still, or is gone
            self._acks.refused(kind, refusal.cloid)

        return on_refusal

    def _answered(self, kind: ActionKind, cloid: str) -> int | None:
        """The action's measured latency (ns), kept for the journal; None if not sent here."""
        latency = self._acks.answered(kind, cloid, self._clock.now_ns())
        if latency is None:
            return None
        if self._ack_log is not None:
            self._ack_log.add(latency)
        return latency.latency_ns

    def _on_venue_orders(self, report: OpenOrdersReported) -> None:
        # By when it was asked, not heard (a listing asked before the stop shows nothing since).
        listed_ns = min(report.ts_exchange, report.ts_local)
        newest = (self._status.venue_report_ns, self._status.venue_report_mono_ns)
        if asked_no_earlier((listed_ns, report.asked_mono_ns), newest):
            # What the venue may hold: what it lists and what may still come to rest.
            self._status.venue_open_orders = len(report.orders) + report.unsettled_orders
            self._status.venue_report_ns = listed_ns
            self._status.venue_report_mono_ns = report.asked_mono_ns
        gone = self._heard.unlisted(report)  # filled, under an order_manager that died
        for cloid in gone:
            self._status.open_by_cloid.pop(cloid, None)
        if gone:
            self._count_open_orders()

    def _on_venue_position(self, report: PositionReported) -> None:
        # The venue's newest reading wins, by its own clock: an answer asked before the
        # stop's cancels but arriving after the read that followed them is older news.
        if report.ts_exchange >= self._status.venue_position_read_ns:
            self._status.venue_position = report.position
            self._status.venue_position_ns = report.ts_local
            self._status.venue_position_read_ns = report.ts_exchange

    def _on_risk_state(self, change: RiskStateChanged) -> None:
        self._status.state, self._status.risk_reason = change.state, change.reason
        self._status.price_band_pause = RiskLimit.PRICE_BAND in change.limits
        self._metrics.trading_state.state(change.state.value)
        if change.state is TradingState.REDUCE_ONLY:
            self._metrics.risk_limit_breaches_total.labels(limit="reduce_only").inc()
        for limit in change.limits:
            self._metrics.control.risk_soft_actions_total.labels(limit=limit.value).inc()

    def _set_feed_stale(self, *, stale: bool) -> None:
        self._status.feed_stale = stale
        self._metrics.feed_stale.set(1 if stale else 0)

    def _on_connection(self, change: VenueConnectionChanged) -> None:
        self._metrics.feed_connected.labels(stream=change.stream).set(1 if change.connected else 0)
        if not change.connected:
            self._metrics.feed_reconnects_total.labels(
                stream=change.stream, reason=change.reason
            ).inc()

    def _on_tripped(self, tripped: KillSwitchTripped) -> None:
        self._metrics.kill_switch_state.state("tripped")
        self._metrics.kill_switch_trips_total.labels(reason=tripped.reason.value).inc()
        self._metrics.risk_limit_breaches_total.labels(limit=tripped.reason.value).inc()

    def _on_target(self, target: QuoteTarget) -> None:
        if target.bids and target.asks:
            bid, ask = target.bids[0].price, target.asks[0].price
            mid = (bid + ask) / 2
            self._status.spread_bps = (ask - bid) / mid * 10_000
            self._metrics.quote_spread_ratio.set(float((ask - bid) / mid))
        self._quotes_sent[Side.BUY].inc(len(target.bids))
        self._quotes_sent[Side.SELL].inc(len(target.asks))
        if not target.bids and not target.asks:
            risk = "risk" if self._status.state is not TradingState.NORMAL else "other"
            reason = "stale_book" if self._status.feed_stale else risk
            self._metrics.quotes_skipped_total.labels(reason=reason).inc()

    def _on_order_state(self, change: OrderStateChanged) -> None:
        open_orders = self._status.open_by_cloid
        self._heard.changed(change)
        if change.status.is_terminal:
            counted = open_orders.pop(change.cloid, None) is not None
        else:
            counted = open_orders.get(change.cloid) is not change.side
            open_orders[change.cloid] = change.side
        if counted:  # most changes (a modify, an ack) leave the counts as they were
            self._count_open_orders()

    def _count_open_orders(self) -> None:
        open_orders = self._status.open_by_cloid
        self._status.open_orders = len(open_orders)
        for side, gauge in self._open_gauges.items():
            gauge.set(sum(1 for s in open_orders.values() if s is side))

    def _on_fill(self, booked: FillBooked) -> None:
        fill = booked.fill
        self._status.fills += 1
        side = _side(fill.side)
        self._metrics.fills_total.labels(side=side, liquidity=fill.liquidity.value).inc()
        self._metrics.fill_quantity_total.labels(side=side).inc(float(fill.size))
        if fill.late:
            self._metrics.control.fills_late_total.inc()
        if booked.off_lot_grid:
            self._metrics.control.fills_off_lot_grid_total.inc()
        if fill.fee > 0:
            self._metrics.fees_paid_usd_total.inc(float(fill.fee))
        elif fill.fee < 0:
            self._metrics.fee_rebates_usd_total.inc(float(-fill.fee))

    def _on_position(self, update: PositionChanged) -> None:
        status = self._status
        status.position = update.position
        status.realized_pnl = update.realized_pnl
        status.unrealized_pnl = update.unrealized_pnl
        status.fees = update.fees_paid
        status.funding = update.funding
        self._metrics.position.set(float(update.position))
        self._metrics.pnl_realized_usd.set(float(update.realized_pnl))
        self._metrics.pnl_unrealized_usd.set(float(update.unrealized_pnl))


def _side(side: Side) -> str:
    return "buy" if side is Side.BUY else "sell"
