"""The account's own stream: ``orderUpdates`` and ``userFills``, with gap repair.

The exchange replays nothing after a reconnect, so each (re)connection first pauses
the stream (frames are held back, nothing new is emitted), fetches the fills since the
last one seen and the open orders and position, emits what was missed (the journal
dedups fills by trade id; this stream dedups too), then replays the held frames and
resumes. The first ``userFills`` message of a connection is a snapshot: on the first
connection it is history from before this run and is never booked; after a reconnect
its unseen fills are exactly what gap repair is for.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from protocol.account import OrderFilled
from protocol.market import FeedMessageDropped
from protocol.orders import (
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderStatus,
    RejectReason,
)
from venues.hyperliquid.account_queries import AccountQueries
from venues.hyperliquid.errors import FeedParseError
from venues.hyperliquid.parse import (
    OrderStatusReported,
    parse_order_updates,
    parse_user_fills_message,
)
from venues.hyperliquid.rest import RateLimitedError, RequestLostError
from venues.hyperliquid.state import OrderLegs
from venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy

log = logging.getLogger("makerd.venue.user")
_NS_PER_MS: Final = 1_000_000
_REMEMBERED_TRADES: Final = 20_000


class UserStream:
    """orderUpdates + userFills for ``user``, turned into protocol events."""

    def __init__(
        self,
        *,
        ws_url: str,
        coin: str,
        queries: AccountQueries,
        legs: OrderLegs,
        emit: Callable[[object], None],
        emit_fill: Callable[[OrderFilled], None],
        spawn_repair: Callable[[int], None],
        policy: ReconnectPolicy,
        now_ns: Callable[[], int],
    ) -> None:
        self._coin = coin
        self._queries = queries
        self._legs = legs
        self._emit = emit
        self._emit_fill = emit_fill
        self._now_ns = now_ns
        self._paused = True
        self._held: list[tuple[str, object, int]] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._last_fill_ms = now_ns() // _NS_PER_MS
        self._history_skipped = False
        self.fills_repaired = 0
        self.repairs = 0
        self.socket = ReconnectingSocket(
            name="user",
            url=ws_url,
            subscriptions=(
                {"type": "orderUpdates", "user": queries.user},
                {"type": "userFills", "user": queries.user},
            ),
            on_frame=self._on_frame,
            on_connected=self._on_connected,
            on_malformed=lambda reason, ts: self._drop("ws", reason, ts),
            policy=policy,
            now_ns=now_ns,
            on_state=emit,
        )
        self._spawn_repair = spawn_repair

    async def run(self) -> None:
        await self.socket.run()

    def _on_connected(self, connection: int) -> None:
        self._paused = True
        self._held = []
        self._spawn_repair(connection)

    async def repair(self, connection: int) -> None:
        """Fetch what the stream may have missed, emit it, then resume the stream."""
        try:
            if connection > 1:
                now = self._now_ns()
                for fill in await self._queries.fills_since(self._last_fill_ms, now_ns=now):
                    if fill.coin == self._coin and self._is_new(fill):
                        self.fills_repaired += 1
                        self._emit_fill(fill)
            snapshot = await self._queries.snapshot(self._coin, now_ns=self._now_ns())
            self._emit(snapshot.open_orders)
            self._emit(snapshot.position)
            self.repairs += 1
            log.info(
                "event=gap_repaired connection=%d fills_repaired=%d open_orders=%d",
                connection,
                self.fills_repaired,
                len(snapshot.open_orders.orders),
            )
        except (RequestLostError, RateLimitedError, FeedParseError) as error:
            # Resume anyway: a stalled stream is worse, and the order_manager's own
            # snapshot requests settle whatever this missed.
            log.warning("event=gap_repair_failed connection=%d error=%r", connection, error)
        finally:
            self._paused = False
            held, self._held = self._held, []
            for channel, data, ts_local in held:
                self._process(channel, data, ts_local)

    def _on_frame(self, channel: str, data: object, ts_local: int) -> None:
        if self._paused:
            self._held.append((channel, data, ts_local))
            return
        self._process(channel, data, ts_local)

    def _process(self, channel: str, data: object, ts_local: int) -> None:
        try:
            if channel == "userFills":
                self._on_fills(data, ts_local)
            elif channel == "orderUpdates":
                for report in parse_order_updates(data, ts_local=ts_local):
                    if report.coin == self._coin and report.cloid is not None:
                        self._on_order_update(report, report.cloid)
        except FeedParseError as error:
            self._drop(channel, error.reason, ts_local)

    def _on_fills(self, data: object, ts_local: int) -> None:
        message = parse_user_fills_message(data, ts_local=ts_local)
        if message.is_snapshot and not self._history_skipped:
            self._history_skipped = True
            for fill in message.fills:
                self._remember(fill)  # history from before this run: never booked here
            return
        for fill in message.fills:
            if fill.coin == self._coin and self._is_new(fill):
                self._emit_fill(fill)

    def _on_order_update(self, report: OrderStatusReported, cloid: str) -> None:
        legs, now = self._legs, report.ts_local
        if report.status is OrderStatus.OPEN:
            new_leg = legs.is_new_leg(cloid, report.venue_order_id)
            if legs.request_of(cloid) is None or not legs.opened(cloid, report.venue_order_id):
                return  # not an order of this run, or already reported
            if new_leg:
                self._emit(
                    OrderModified(
                        cloid=cloid,
                        venue_order_id=report.venue_order_id,
                        price=report.price,
                        size=report.size,
                        ts_exchange=report.ts_exchange,
                        ts_local=now,
                    )
                )
            else:
                self._emit(
                    OrderAccepted(
                        cloid=cloid,
                        venue_order_id=report.venue_order_id,
                        coin=report.coin,
                        side=report.side,
                        price=report.price,
                        size=report.size,
                        ts_exchange=report.ts_exchange,
                        ts_local=now,
                    )
                )
            return
        if legs.is_old_leg(cloid, report.venue_order_id):
            return  # the leg a modify replaced: the order itself lives on
        if report.status is OrderStatus.CANCELLED:
            reason = legs.cancel_reason(cloid)
            if legs.finished(cloid):
                self._emit(
                    OrderCancelled(
                        cloid=cloid, reason=reason, ts_exchange=report.ts_exchange, ts_local=now
                    )
                )
        elif report.status is OrderStatus.FILLED:
            legs.finished(cloid)  # the fills themselves come from userFills
        elif report.status is OrderStatus.REJECTED and legs.finished(cloid):
            self._emit(
                OrderRejected(
                    cloid=cloid,
                    reason=report.reject_reason or RejectReason.OTHER,
                    message=report.venue_status,
                    ts_exchange=report.ts_exchange,
                    ts_local=now,
                )
            )

    def _is_new(self, fill: OrderFilled) -> bool:
        if fill.trade_id in self._seen:
            return False
        self._remember(fill)
        return True

    def _remember(self, fill: OrderFilled) -> None:
        self._seen[fill.trade_id] = None
        if len(self._seen) > _REMEMBERED_TRADES:
            self._seen.popitem(last=False)
        self._last_fill_ms = max(self._last_fill_ms, fill.ts_exchange // _NS_PER_MS)

    def _drop(self, channel: str, reason: str, ts_local: int) -> None:
        self._emit(FeedMessageDropped(channel=channel, reason=reason, ts_local=ts_local))
