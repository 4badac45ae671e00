"""The matching rules of the paper venue, applied at the moment a command takes effect.

This class knows nothing about order-entry latency (see :mod:`venues.paper.exchange`):
each method is called at its effect time and returns the events it causes, stamped by
:class:`venues.paper.replies.Replies`.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from makerd.config.model import PaperConfig
from makerd.protocol.account import Liquidity, OrderFilled
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.protocol.orders import CancelReason, OrderAmendment, OrderRequest, TimeInForce, Trigger
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.paper import rules
from makerd.venues.paper.book import LocalBook
from makerd.venues.paper.checks import OrderChecks, Proposed
from makerd.venues.paper.held_books import HeldBooks, Touch, happened_ns, touch_of
from makerd.venues.paper.margin import (
    CoinMargin,
    PaperAccount,
    paper_leverage,
    paper_margin,
    position_figures,
)
from makerd.venues.paper.position import PaperPosition
from makerd.venues.paper.queue import ZERO, OwnOrders, RestingOrder
from makerd.venues.paper.queue_models import queue_estimate
from makerd.venues.paper.replies import PaperEvent, Replies
from makerd.venues.paper.triggers import (
    MODIFY_TRIGGER_TEXT,
    PendingTrigger,
    PendingTriggers,
    fired_time_in_force,
    trigger_refusal,
)

IOC_REMAINDER_REASON = CancelReason.RISK
"""The protocol has no "expired" reason; makerd sends IOC orders only to flatten (a risk act)."""

REDUCE_ONLY_CANCEL_REASON = CancelReason.RISK
"""A resting reduce-only order the venue cancels because the position it reduced is gone."""

MODIFY_REFUSED_CANCEL_REASON = CancelReason.RISK
"""The old order a refused modify took off the book: live, the stream reports it cancelled
by nobody's request, which the venue layer names RISK."""

SELF_TRADE_CANCEL_REASON = CancelReason.RISK
"""Our resting order a taker of ours reached: the venue cancels it (nobody asked, so the
live venue layer names it RISK)."""


class MatchingEngine:
    """Our orders against the public book: queue, fills, fees, position."""

    def __init__(self, instrument: Instrument, config: PaperConfig, *, id_prefix: str) -> None:
        self._instrument = instrument
        self._config = config
        self._base_id_prefix = self._id_prefix = id_prefix
        self._replies = Replies(coin=instrument.coin, ack_ns=config.ack_latency_ms * 1_000_000)
        self.book = LocalBook()
        self.held = HeldBooks()
        """Books a replay hands over when they happened, before their receipt: a post-only
        order is judged against the one the exchange held when it arrived."""
        self.orders = OwnOrders(queue_estimate(config, instrument.lot))
        self.triggers = PendingTriggers()
        self.position = PaperPosition()
        self.fees_paid = ZERO
        self.funding = ZERO
        """Funding received (negative: paid) since start."""
        self._leverage = paper_leverage(config, instrument)
        self.checks = OrderChecks(
            instrument,
            book=self.book,
            orders=self.orders,
            position=self.position,
            account=PaperAccount(config.account_value_usd),
            leverage=self._leverage,
        )
        self.checks.account.join(self)
        self._priorities = itertools.count()
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)

    def journal_as(self, session_id: int) -> None:
        """Mint trade ids for journal session ``session_id`` from here on (before any fill).

        A journal keeps one fill per trade id, across its sessions: two backtests of one
        recording journaled in one file must not mint the same ids, or the second one's
        fills would be dropped as already booked.
        """
        self._id_prefix = f"s{session_id}-{self._base_id_prefix}"

    def join_account(self, account: PaperAccount) -> None:
        """Trade for ``account``, shared with other coins' engines (before any order)."""
        self.checks.account = account
        account.join(self)

    def coin_margin(self) -> CoinMargin:
        """This coin's part of the account, at the book's mid."""
        pnl, used = position_figures(
            position=self.position,
            costs=self.fees_paid - self.funding,
            mark=self.checks.mid(),
            leverage=self._leverage,
        )
        reserved = sum((o.price * o.size for o in self.orders if not o.reduce_only), ZERO)
        return CoinMargin(pnl=pnl, position_margin=used, order_margin=reserved / self._leverage)

    # --- commands (called at their effect time) ---

    def place(self, request: OrderRequest, at_ns: int) -> list[PaperEvent]:
        if request.trigger is not None:
            return self._place_trigger(request, request.trigger, at_ns)
        refusal = self._placement_refusal(request, at_ns)
        if refusal is not None:
            rejected = self._replies.rejected(request.cloid, refusal, at_ns)
            if refusal[0] is not RejectReason.IOC_NO_MATCH:
                return [rejected]
            # The venue matched it first: our own orders it reached expired on the way.
            expired = self.orders.expire_reached(request.side, request.price, request.size, [])
            return [rejected, *self._self_trade_cancels(expired, at_ns)]
        order = self._new_order(request, request.tif, at_ns)
        return [self._replies.accepted(order, at_ns), *self._execute(order, at_ns)]

    def _place_trigger(
        self, request: OrderRequest, trigger: Trigger, at_ns: int
    ) -> list[PaperEvent]:
        """Accept a TP/SL order to wait off the book until the mark reaches its trigger."""
        reducible = self.position.reducible_by(request.side)
        refusal = self._identity_refusal(request) or trigger_refusal(
            self._instrument, request, trigger, reducible
        )
        if refusal is not None:
            return [self._replies.rejected(request.cloid, refusal, at_ns)]
        order = self._new_order(request, fired_time_in_force(trigger), at_ns)
        self.triggers.add(PendingTrigger(order=order, trigger=trigger))
        return [self._replies.accepted(order, at_ns)]

    def modify(self, amendment: OrderAmendment, at_ns: int) -> list[PaperEvent]:
        if amendment.cloid in self.triggers:
            untouchable = (RejectReason.OTHER, MODIFY_TRIGGER_TEXT)
            return [self._replies.modify_rejected(amendment.cloid, untouchable, at_ns)]
        order = self.orders.get(amendment.cloid)
        if order is None:
            missing = (RejectReason.UNKNOWN_ORDER, rules.MODIFY_MISSING_TEXT)
            return [self._replies.modify_rejected(amendment.cloid, missing, at_ns)]
        refusal = self.checks.refusal(
            Proposed(
                side=order.side,
                price=amendment.price,
                size=amendment.size,
                tif=order.tif,
                reduce_only=order.reduce_only,
                replacing=order,
                public_touch=self._held_touch(order.tif, at_ns),
            )
        )
        if refusal is not None:
            return self._refused_modify(order, refusal, at_ns)
        size = self._clip_reduce_only(order.side, amendment.size, order.reduce_only)
        order.venue_order_id = next(self._order_ids)
        # Cancel-and-replace: the new order joins the back of its level, even when only its
        # size shrank (it has a new oid at the venue).
        self.orders.remove(order.cloid)
        order.price, order.size = amendment.price, size
        order.priority, order.effective_ns = next(self._priorities), at_ns
        return [self._replies.modified(order, at_ns), *self._execute(order, at_ns)]

    def _refused_modify(
        self, order: RestingOrder, refusal: rules.Rejection, at_ns: int
    ) -> list[PaperEvent]:
        """A modify is cancel-and-replace at the venue: the old order is gone by the time
        the new one is refused. A tick, lot or notional refusal never reaches the venue (the
        live order path refuses it before sending), so that order rests as it did."""
        rejected = self._replies.modify_rejected(order.cloid, refusal, at_ns)
        if refusal[0] in rules.REFUSED_BEFORE_SENDING:
            return [rejected]
        self.orders.remove(order.cloid)
        return [rejected, self._replies.cancelled(order.cloid, MODIFY_REFUSED_CANCEL_REASON, at_ns)]

    def cancel(self, cloid: str, reason: CancelReason, at_ns: int) -> list[PaperEvent]:
        if self.orders.remove(cloid) is None and self.triggers.remove(cloid) is None:
            return [self._replies.cancel_rejected(cloid, at_ns)]
        return [self._replies.cancelled(cloid, reason, at_ns)]

    def cancel_all(
        self, coin: str, reason: CancelReason, at_ns: int, *, sparing: tuple[str, ...] = ()
    ) -> list[PaperEvent]:
        """Cancel every resting order of ``coin`` but those ``sparing`` names."""
        if coin != self._instrument.coin:
            return []
        resting = [order for order in self.open_orders() if order.cloid not in sparing]
        return [event for order in resting for event in self.cancel(order.cloid, reason, at_ns)]

    def cancel_everything(self, reason: CancelReason, at_ns: int) -> list[PaperEvent]:
        """Every resting order and waiting trigger cancelled (the dead-man switch fired)."""
        return self.cancel_all(self._instrument.coin, reason, at_ns)

    def report(self, coin: str, at_ns: int) -> list[PaperEvent]:
        if coin != self._instrument.coin:
            return self._replies.account(coin, [], ZERO, ZERO, at_ns)
        position = self.position
        orders = self.open_orders()
        return self._replies.account(coin, orders, position.size, position.average_entry, at_ns)

    def margin(self, at_ns: int) -> list[PaperEvent]:
        return [
            paper_margin(
                position=self.position,
                costs=self.fees_paid - self.funding,
                mid=self.checks.mid(),
                config=self._config,
                leverage=self._leverage,
                at_ns=at_ns,
                delivered_ns=at_ns + self._replies.ack_ns,
            )
        ]

    def open_orders(self) -> list[RestingOrder]:
        """Every order the venue holds for us: resting ones, then un-fired triggers."""
        return [*self.orders, *(pending.order for pending in self.triggers)]

    # --- market data ---

    def on_book(self, snapshot: BookSnapshotReceived) -> list[PaperEvent]:
        if snapshot.coin != self._instrument.coin:
            return []
        self.book.replace(snapshot)
        happened = happened_ns(snapshot)
        self.held.forget_before(happened)
        fills = self.orders.fills_from_book(
            self.book.best(Side.BUY), self.book.best(Side.SELL), self.book.displayed_at, happened
        )
        events = self._maker_fills(fills, snapshot.ts_exchange, snapshot.ts_local)
        return events + self._fire_triggers(snapshot.ts_local)

    def on_trade(self, trade: TradePrinted) -> list[PaperEvent]:
        if trade.coin != self._instrument.coin:
            return []
        fills = self.orders.fills_from_trade(
            trade.side, trade.price, trade.size, happened_ns(trade)
        )
        return self._maker_fills(fills, trade.ts_exchange, trade.ts_local)

    # --- internals ---

    def _new_order(self, request: OrderRequest, tif: TimeInForce, at_ns: int) -> RestingOrder:
        return RestingOrder(
            cloid=request.cloid,
            venue_order_id=next(self._order_ids),
            side=request.side,
            price=request.price,
            size=self._clip_reduce_only(request.side, request.size, request.reduce_only),
            tif=tif,
            reduce_only=request.reduce_only,
            queue_ahead=ZERO,
            priority=next(self._priorities),
            effective_ns=at_ns,
        )

    def _fire_triggers(self, at_ns: int) -> list[PaperEvent]:
        """Execute every trigger the new mark (the snapshot's mid) has reached."""
        if not self.triggers:  # nearly every book: no mark to compute
            return []
        best_bid, best_ask = self.book.best(Side.BUY), self.book.best(Side.SELL)
        if best_bid is None or best_ask is None:
            return []
        events: list[PaperEvent] = []
        for pending in self.triggers.fire((best_bid + best_ask) / 2):
            order = pending.order
            order.size = min(order.size, self.position.reducible_by(order.side))
            if order.size <= 0:
                reason = REDUCE_ONLY_CANCEL_REASON
                events.append(self._replies.cancelled(order.cloid, reason, at_ns))
                continue
            order.priority, order.effective_ns = next(self._priorities), at_ns
            events += self._execute(order, at_ns)
        return events

    def _placement_refusal(self, request: OrderRequest, at_ns: int) -> rules.Rejection | None:
        return self._identity_refusal(request) or self.checks.refusal(
            Proposed(
                side=request.side,
                price=request.price,
                size=request.size,
                tif=request.tif,
                reduce_only=request.reduce_only,
                public_touch=self._held_touch(request.tif, at_ns),
            )
        )

    def _held_touch(self, tif: TimeInForce, at_ns: int) -> Touch | None:
        """For a post-only order arriving at ``at_ns``: the touch of the book the exchange
        held then, when a replay handed over one newer than the book received (None: the
        received book is the one, as in paper mode)."""
        if tif is not TimeInForce.POST_ONLY:
            return None
        held, shown = self.held.at(at_ns), self.book.shown
        if held is None or (shown is not None and happened_ns(held) <= happened_ns(shown)):
            return None
        return touch_of(held)

    def _identity_refusal(self, request: OrderRequest) -> rules.Rejection | None:
        if request.coin != self._instrument.coin:
            return RejectReason.OTHER, f"Unknown asset {request.coin}."
        if request.cloid in self.orders or request.cloid in self.triggers:
            return RejectReason.OTHER, rules.DUPLICATE_CLOID_TEXT
        return None

    def _clip_reduce_only(self, side: Side, size: Decimal, reduce_only: bool) -> Decimal:
        return min(size, self.position.reducible_by(side)) if reduce_only else size

    def _execute(self, order: RestingOrder, at_ns: int) -> list[PaperEvent]:
        """Take what crosses (as taker), then rest the remainder or cancel an IOC's."""
        # A post-only order never takes: it was judged against the book the exchange held
        # at its arrival, which the received book (older) may show it crossing.
        post_only = order.tif is TimeInForce.POST_ONLY
        taken = [] if post_only else self.book.take(order.side, order.price, order.size)
        expired = self.orders.expire_reached(order.side, order.price, order.size, taken)
        events = self._self_trade_cancels(expired, at_ns)
        for price, size in taken:
            events += self._fill(order, price, size, Liquidity.TAKER, (at_ns, at_ns))
        if order.size <= 0:
            return events
        if order.tif is TimeInForce.IMMEDIATE_OR_CANCEL:
            events.append(self._replies.cancelled(order.cloid, IOC_REMAINDER_REASON, at_ns))
            return events
        displayed = self.book.displayed_at(order.side, order.price)
        shown = displayed or ZERO
        order.queue_ahead = shown + self.orders.own_size_at(order.side, order.price)
        order.level_shown, order.traded_at_level = displayed, ZERO
        self.orders.add(order)
        return events

    def _self_trade_cancels(self, expired: list[RestingOrder], at_ns: int) -> list[PaperEvent]:
        reason = SELF_TRADE_CANCEL_REASON
        return [self._replies.cancelled(own.cloid, reason, at_ns) for own in expired]

    def _maker_fills(
        self, fills: list[tuple[RestingOrder, Decimal]], ts_exchange: int, ts_local: int
    ) -> list[PaperEvent]:
        events: list[PaperEvent] = []
        for order, size in fills:
            events += self._fill(order, order.price, size, Liquidity.MAKER, (ts_exchange, ts_local))
            if order.size <= 0:
                self.orders.remove(order.cloid)
            elif order.reduce_only and self.position.reducible_by(order.side) <= 0:
                self.orders.remove(order.cloid)
                reason = REDUCE_ONLY_CANCEL_REASON
                events.append(self._replies.cancelled(order.cloid, reason, ts_local))
        return events

    def _fill(
        self,
        order: RestingOrder,
        price: Decimal,
        size: Decimal,
        liquidity: Liquidity,
        stamps: tuple[int, int],
    ) -> list[PaperEvent]:
        """Book one fill of ``order``; ``stamps`` is (ts_exchange, local time it happened)."""
        if order.reduce_only:
            size = min(size, self.position.reducible_by(order.side))
        if size <= 0:
            return []
        is_maker = liquidity is Liquidity.MAKER
        rate = self._config.maker_fee_rate if is_maker else self._config.taker_fee_rate
        fee = price * size * rate
        self.position.apply(order.side, price, size)
        self.fees_paid += fee
        order.size -= size
        ts_exchange, happened_ns = stamps
        return [
            OrderFilled(
                trade_id=f"{self._id_prefix}-{next(self._trade_ids)}",
                cloid=order.cloid,
                venue_order_id=order.venue_order_id,
                coin=self._instrument.coin,
                side=order.side,
                price=price,
                size=size,
                fee=fee,
                liquidity=liquidity,
                ts_exchange=ts_exchange,
                ts_local=happened_ns + self._replies.ack_ns,
            )
        ]
