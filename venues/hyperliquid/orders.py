"""Venue commands → signed ``/exchange`` actions → protocol events.

Placement is one batched ``order`` action (post-only Alo unless the request says
otherwise, each order with its cloid); amendments are one ``batchModify`` addressed by
cloid, so the exchange's new oid for the order comes back as :class:`OrderModified`;
cancels go by cloid; ``CancelAll`` and a stop's ``SweepOrders`` cancel by oid whatever
the venue lists as open, known to makerd or not (:mod:`.sweep`). Every item's answer
becomes one event, and each fact is reported once even when the user stream reports it
too (see :mod:`.state`).

A request whose answer was lost emits nothing definitive: the orders stay in whatever
state makerd gave them, and ``settle`` asks the venue for the truth.

New risk passes the trading gate at the moment it is sent, not only when it was
decided: a command already on its way when a stop is requested is refused here. The
dead-man switch is re-armed until it holds (see :class:`DeadManSwitch`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from makerd.protocol.instrument import Instrument, OrderRuleError
from makerd.protocol.orders import (
    ACTION_TTL_NS,
    ArmDeadManSwitch,
    CancelAll,
    CancelOrders,
    ModifyOrders,
    OrderAccepted,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
    RequestAccountSnapshot,
    RequestMargin,
    SweepOrders,
    VenueCommand,
    closes,
)
from makerd.protocol.rejections import RejectReason
from makerd.venues.base import OpenGate, OrderGate
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.cancel_answers import cancel_outcomes
from makerd.venues.hyperliquid.dead_man import DeadManSwitch
from makerd.venues.hyperliquid.errors import (
    ExchangeResponse,
    FilledOnArrival,
    ItemRejected,
    ItemStatus,
    Resting,
    VenueError,
    answered_items,
    per_item,
)
from makerd.venues.hyperliquid.exchange_clock import ExchangeClock
from makerd.venues.hyperliquid.lifetimes import ActionLifetime, LifetimeClock
from makerd.venues.hyperliquid.modify_answers import modify_outcome, modify_rejected
from makerd.venues.hyperliquid.rate_budget import Priority
from makerd.venues.hyperliquid.refusals import broken_rule, coin_halted, gate_closed
from makerd.venues.hyperliquid.requests import SignedSender
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.sweep import OrderSweeper
from makerd.venues.hyperliquid.unsettled import UnsettledActions
from makerd.venues.hyperliquid.wire import (
    BatchModifyAction,
    ModifyWire,
    cancel_by_cloid_action,
    order_wire,
)

log = logging.getLogger("makerd.venue.orders")
Emit = Callable[[object], None]
_NS_PER_MS: Final = 1_000_000
_NS_PER_S: Final = 1_000_000_000


class OrderGateway:
    """Executes venue commands on the I/O loop; one coroutine per command."""

    def __init__(
        self,
        *,
        sender: SignedSender,
        instrument: Instrument,
        legs: OrderLegs,
        queries: AccountQueries,
        emit: Emit,
        settle: Callable[[], None],
        now_ns: Callable[[], int],
        gate: OrderGate | None = None,
        dead_man_max_failures: int = 3,
        others: Sequence[Instrument] = (),
    ) -> None:
        """``others``: the instruments of the process's other coins, when it quotes several;
        one action then carries any of them (an order's coin picks its asset id)."""
        self._sender = sender
        self._gate = gate = gate or OpenGate()
        self.exchange_clock = ExchangeClock()
        self.dead_man = DeadManSwitch(
            sender=sender,
            gate=gate,
            emit=emit,
            now_ns=now_ns,
            max_failures=dead_man_max_failures,
            exchange_ns=self.exchange_clock.exchange_ns,
        )
        self._instrument = instrument
        self._instruments = {i.coin: i for i in (instrument, *others)}
        self._legs = legs
        self._queries = queries
        self._emit = emit
        self._settle = settle
        self._now_ns = now_ns
        self._lifetimes = LifetimeClock(time.monotonic_ns)
        self.unsettled = UnsettledActions(monotonic_ns=time.monotonic_ns)
        self._sweeper = OrderSweeper(
            sender=sender,
            instruments=self._instruments,
            legs=legs,
            queries=queries,
            unsettled=self.unsettled,
            emit=emit,
            now_ns=now_ns,
            priority=self._truth_priority,
        )

    def exchange_now_ns(self) -> int:
        """The exchange's time now, as this host reads it (:class:`ExchangeClock`)."""
        return self.exchange_clock.exchange_ns(self._now_ns())

    async def execute(self, command: VenueCommand) -> None:
        if isinstance(command, PlaceOrders):
            await self._place(command)
        elif isinstance(command, ModifyOrders):
            await self._modify(command)
        elif isinstance(command, CancelOrders):
            await self._cancel(command)
        elif isinstance(command, CancelAll):
            await self._sweeper.cancel_all(command)
        elif isinstance(command, SweepOrders):
            await self._sweeper.sweep(command)
        elif isinstance(command, RequestAccountSnapshot):
            await self.report_account(command.coin, again=command.again)
        elif isinstance(command, RequestMargin) and not self._gate.closed:
            # Stopping, only the sweep's questions matter; a poll would spend into a limit.
            self._emit(await self._queries.margin(tuple(self._instruments)))
        elif isinstance(command, ArmDeadManSwitch):
            await self.dead_man.arm(command)

    def _instrument_of(self, coin: str) -> Instrument:
        instrument = self._instruments.get(coin)
        if instrument is None:
            raise OrderRuleError("coin", f"{coin} is not a coin this process quotes")
        return instrument

    def _instrument_of_cloid(self, cloid: str) -> Instrument:
        """The instrument of the order a cloid names (the first coin's if it is unknown:
        the exchange then answers that no such order rests, as for one coin)."""
        request = self._legs.request_of(cloid)
        known = None if request is None else self._instruments.get(request.coin)
        return known or self._instrument

    async def report_account(self, coin: str, *, again: bool = False) -> None:
        """Open orders then position, as the order_manager and fill_tracker expect; nothing
        when the same question still waits for budget, or is asked ``again`` while its
        answer is on its way (that answer serves this one too)."""
        mark = self.unsettled.mark()
        snapshot = await self._queries.fresh_snapshot(
            coin, priority=self._truth_priority(), again=again
        )
        if snapshot is not None:
            self.exchange_clock.observe(snapshot.position)
            report = snapshot.open_orders
            unsettled = self.unsettled.orders_at(coin, report.ts_local, mark)
            self._emit(replace(report, unsettled_orders=unsettled))
            self._emit(snapshot.position)

    async def _send_new_risk(
        self,
        action: Mapping[str, object],
        *,
        coins: Sequence[str],
        decided_ns: int,
        lifetime: ActionLifetime,
        priority: Priority = Priority.TRADE,
    ) -> ExchangeResponse | None:
        """Send with ``expiresAfter`` (``lifetime``'s, as the exchange's time), unsettled
        until its answer comes or, if the answer is lost, its lifetime is over."""
        expires_ns = lifetime.expires_ns
        token = self.unsettled.sent(coins=coins, lifetime=lifetime)
        response: ExchangeResponse | None = None
        try:
            response = await self._sender.send(
                action,
                items=len(coins),
                priority=priority,
                expires_after_ms=self.exchange_clock.exchange_ns(expires_ns) // _NS_PER_MS,
                decided_ns=decided_ns,
            )
        finally:
            if response is None:
                self.unsettled.lost(token)
            else:
                self.unsettled.answered(token)
        return response

    def _truth_priority(self) -> Priority:
        """Once the gate is closed (a stop, a kill), asking what rests is removing risk:
        it may spend the whole budget, like a cancel, ahead of repairs and audits."""
        return Priority.CANCEL if self._gate.closed else Priority.QUERY

    async def _place(self, command: PlaceOrders) -> None:
        # Order by order: a command may merge several coins' (a stop's closing order with
        # a quote decided before the stop), and each is judged on its own.
        legal: list[OrderRequest] = []
        wires = []
        # One time for every refusal of this command: one answer, however many orders.
        refused_at = self._now_ns()
        self._legs.forget_lapsed(refused_at)
        for order in command.orders:
            if not self._gate.allows_order(order):
                self._rejected(order, gate_closed(), refused_at)
                continue
            if self._gate.coin_halted(order.coin):
                self._rejected(order, coin_halted(order.coin), refused_at)
                continue
            try:
                wires.append(order_wire(order, self._instrument_of(order.coin)))
            except OrderRuleError as error:
                self._reject_locally(order, error, refused_at)
                continue
            self._legs.placing(order)
            legal.append(order)
        if not legal:
            return
        action = {"type": "order", "orders": wires, "grouping": "na"}
        coins = [order.coin for order in legal]
        # A flatten's closing orders remove risk: like a cancel, they may spend the reserve.
        priority = Priority.CANCEL if all(map(closes, legal)) else Priority.TRADE
        lifetime = self._lifetimes.start(command.ts_local + ACTION_TTL_NS)
        response = await self._send_new_risk(
            action, coins=coins, decided_ns=command.ts_local, lifetime=lifetime, priority=priority
        )
        # The orders no answer speaks for: the venue may place them until the action expires.
        answered = answered_items(response, len(legal))
        self._legs.placement_in_doubt((o.cloid for o in legal[answered:]), until=lifetime)
        if response is None:
            return
        now = self._now_ns()
        if response.error is not None:
            for order in legal:
                self._rejected(order, response.error, now)
            return
        for order, status in zip(legal, per_item(response.statuses, len(legal)), strict=False):
            self._on_placed(order, status, now)
        if answered < len(legal):
            self._settle()

    def _on_placed(self, order: OrderRequest, status: ItemStatus, now: int) -> None:
        if isinstance(status, Resting | FilledOnArrival):
            if self._legs.opened(order.cloid, status.oid, heard_ns=now):
                self._emit(
                    OrderAccepted(
                        cloid=order.cloid,
                        venue_order_id=status.oid,
                        coin=order.coin,
                        side=order.side,
                        price=order.price,
                        size=order.size,
                        ts_exchange=now,
                        ts_local=now,
                    )
                )
        elif isinstance(status, ItemRejected):
            self._rejected(order, status.error, now)

    def _rejected(self, order: OrderRequest, error: VenueError, now: int) -> None:
        if self._legs.finished(order.cloid):
            self._emit(
                OrderRejected(
                    cloid=order.cloid,
                    reason=error.reason,
                    message=error.message,
                    ts_exchange=now,
                    ts_local=now,
                    retry_after_ns=round(error.retry_after_s * _NS_PER_S),
                    coin=order.coin,
                )
            )

    def _reject_locally(self, order: OrderRequest, error: OrderRuleError, now: int) -> None:
        log.error(
            "event=order_refused_locally cloid=%s rule=%s detail=%r",
            order.cloid,
            error.reason,
            error.detail,
        )
        self._rejected(order, broken_rule(error), now)

    async def _modify(self, command: ModifyOrders) -> None:
        if not self._gate.allows(command):
            for change in command.amendments:
                self._modify_rejected(change.cloid, RejectReason.STOPPING, gate_closed().message)
            return
        targets: list[tuple[str, OrderRequest]] = []
        modifies: list[ModifyWire] = []
        for change in command.amendments:
            original = self._legs.request_of(change.cloid)
            if original is None or self._legs.oid_of(change.cloid) is None:
                self._modify_rejected(change.cloid, RejectReason.UNKNOWN_ORDER, "not resting")
                continue
            if self._gate.coin_halted(original.coin):
                message = coin_halted(original.coin).message
                self._modify_rejected(change.cloid, RejectReason.STOPPING, message)
                continue
            # As a new plain order: a modify never carries a trigger over.
            amended = replace(original, price=change.price, size=change.size, trigger=None)
            try:
                # Checked and built once: the wire that passed the rules is the one sent.
                wire = order_wire(amended, self._instrument_of(amended.coin))
            except OrderRuleError as error:
                refusal = broken_rule(error)
                self._modify_rejected(change.cloid, refusal.reason, refusal.message)
                continue
            targets.append((change.cloid, amended))
            modifies.append({"oid": change.cloid, "order": wire})
        if not targets:
            return
        replaced = [self._legs.modify_started(cloid) for cloid, _ in targets]
        action: BatchModifyAction = {"type": "batchModify", "modifies": modifies}
        coins = [amended.coin for _, amended in targets]
        lifetime = self._lifetimes.start(command.ts_local + ACTION_TTL_NS)
        response = await self._send_new_risk(
            action, coins=coins, decided_ns=command.ts_local, lifetime=lifetime
        )
        # The modifies no answer speaks for stay on their way while the venue may run them.
        answered = answered_items(response, len(targets))
        for index, ((cloid, _), oid) in enumerate(zip(targets, replaced, strict=True)):
            self._legs.modify_finished(
                cloid, oid, lost_until=None if index < answered else lifetime
            )
        if response is None:
            return
        statuses = () if response.error is not None else per_item(response.statuses, len(targets))
        for index, (_, amended) in enumerate(targets):
            status = statuses[index] if index < len(statuses) else None
            events, ask = modify_outcome(
                amended, status, response.error, self._legs, now_ns=self._now_ns()
            )
            for event in events:
                self._emit(event)
            if ask:
                self._settle()

    def _modify_rejected(self, cloid: str, reason: RejectReason, message: str) -> None:
        self._emit(modify_rejected(cloid, reason, message, now_ns=self._now_ns()))

    async def _cancel(self, command: CancelOrders) -> None:
        for cloid in command.cloids:
            self._legs.cancel_requested(cloid, command.reason)
        action = cancel_by_cloid_action((self._instrument_of_cloid(c), c) for c in command.cloids)
        response = await self._sender.send(
            action, items=len(command.cloids), priority=Priority.CANCEL, decided_ns=command.ts_local
        )
        if response is None:
            return
        outcomes = cancel_outcomes(
            command, response, finished=self._legs.finished, now_ns=self._now_ns()
        )
        for event in outcomes:
            self._emit(event)
