"""Cancelling whatever the venue lists as open, known to makerd or not.

``CancelAll`` lists one coin's orders and cancels them by oid, and once more after the
placements that were on its way at the listing have settled: one may land just after it.
For a halted coin (``until_gone``) it is asked again until every cancel is confirmed.
``SweepOrders`` (a stop's question, asked until every coin reads 0) does the same for
several coins at once with one listing and one cancel action per perp dex, then reports
what each coin still has (what was listed, less what the venue confirmed cancelled, plus
what may still come to rest) and its position, read after the cancels. A stop asking
coin by coin spent four times the request budget, and on an account whose budget the
session had already spent it ran out of time before it could confirm.

One sweep runs at a time. A stop asks again when an answer is slow, and with the budget
spent every answer is slow: each question started its own listings, they queued for the
same refill, and none reached its cancel before the stop's deadline. A question asked
while a sweep waits its turn is answered by it (its listing leaves after both were
asked); one asked after that listing left is answered by one more round when it ends.

A round the exchange refuses for its rate limit (a listing or position read answered
HTTP 429, a cancel refused) is asked again by the sweep itself once the request budget's
backoff ends, or after 2 s if that is sooner, still one round at a time. It used to wait
for the stop's next question, 4 s later for a backoff of under a second: a quarter of the
stop's deadline. And the backoff doubles while refusals go on (4-8 s after 3.5-7 s of
them): paced by it alone, a stop in a 429 lasting 8 s found the limit's end only after
its 12 s, and exited 82 with the venue answering again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import (
    ACTION_TTL_NS,
    CLOCK_SKEW_NS,
    NS_PER_S,
    CancelAll,
    CancelReason,
    OpenOrder,
    OrderCancelled,
    SweepOrders,
)
from makerd.protocol.rejections import RejectReason
from makerd.venues.hyperliquid.account_queries import AccountQueries, by_dex
from makerd.venues.hyperliquid.errors import FeedParseError, ItemRejected
from makerd.venues.hyperliquid.rate_budget import Priority
from makerd.venues.hyperliquid.requests import SignedSender
from makerd.venues.hyperliquid.rest import RateLimitedError, RequestLostError
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.unsettled import UnsettledActions
from makerd.venues.hyperliquid.wire import cancel_action

log = logging.getLogger("makerd.venue.orders")
_SETTLE_POLL_S: Final = 0.1
_SETTLE_LIMIT_S: Final = (ACTION_TTL_NS + CLOCK_SKEW_NS) / NS_PER_S + 6.0
"""A placement's answer times out after 5 s; unanswered, it can take effect until it
expires (plus the skew allowed). Past this nothing of it can still come to rest."""
_RETRY_FIRST_S: Final = 1.0
_RETRY_MAX_S: Final = 8.0
"""A cancel-all asked until it is done waits 1 s, doubling to 8 s, between attempts."""
_SWEEP_RETRY_MAX_S: Final = 2.0
"""A stop's refused round is asked again after the budget's backoff, but at most this
long after: a limit's end is found within 2 s (a sixth of the stop's 12 s) however long it
lasted. A round is a listing (weight 20), a cancel and a position read (2): six rounds in
a stop that the limit never lets through, not one a second into it."""
_QUERY_ERRORS: Final = (RequestLostError, RateLimitedError, FeedParseError)


class OrderSweeper:
    """Lists a coin's (or several coins') open orders and cancels every one by oid."""

    def __init__(
        self,
        *,
        sender: SignedSender,
        instruments: Mapping[str, Instrument],
        legs: OrderLegs,
        queries: AccountQueries,
        unsettled: UnsettledActions,
        emit: Callable[[object], None],
        now_ns: Callable[[], int],
        priority: Callable[[], Priority],
    ) -> None:
        """``priority``: the listing's request priority now (a closed gate raises it)."""
        self._sender = sender
        self._instruments = instruments
        self._legs = legs
        self._queries = queries
        self._unsettled = unsettled
        self._emit = emit
        self._now_ns = now_ns
        self._priority = priority
        self._sweep_asked: set[str] = set()
        """Coins a stop asked about that no sweep has listed since."""
        self._sweeping = False
        self.sweeps_joined = 0
        """Stop questions answered by a sweep already under way."""

    async def cancel_all(self, command: CancelAll) -> None:
        """Cancel what the venue lists for the coin; if placements were on their way when
        it was listed (one may land just after), wait until they settle and do it again.
        The wait is bounded by the time such a placement can still take effect.

        With ``until_gone`` a listing lost or refused, or a cancel the venue did not
        confirm, is asked again with backoff until every cancel is confirmed: a halted
        coin has no order_manager left to ask again, and its orders would rest unmanaged.
        """
        if command.coin not in self._instruments:
            return
        backoff_s = _RETRY_FIRST_S
        while True:
            try:
                if await self._cancel_all_once(command) or not command.until_gone:
                    return
                failure: object = "a cancel not confirmed"
            except _QUERY_ERRORS as error:
                if not command.until_gone:
                    raise
                failure = error
            log.warning(
                "event=cancel_all_retry coin=%s retry_in_s=%.1f error=%r",
                command.coin,
                backoff_s,
                failure,
            )
            await asyncio.sleep(backoff_s)
            backoff_s = min(2 * backoff_s, _RETRY_MAX_S)

    async def _cancel_all_once(self, command: CancelAll) -> bool:
        """One cancel-all; True when the venue confirmed the cancel of everything listed."""
        coin = command.coin
        mark = self._unsettled.mark()
        done = await self._list_and_cancel(command)
        if self._unsettled.in_flight_at(coin, mark) == 0:
            return done
        deadline = time.monotonic() + _SETTLE_LIMIT_S
        while self._unsettled.still_in_doubt(coin, mark, self._now_ns()):
            if time.monotonic() >= deadline:
                log.warning("event=cancel_all_unsettled coin=%s", coin)
                break
            await asyncio.sleep(_SETTLE_POLL_S)
        return await self._list_and_cancel(command) and done

    async def _list_and_cancel(self, command: CancelAll) -> bool:
        """True when the venue confirmed the cancel of every order it listed (or none),
        but those the command spares."""
        snapshot = await self._queries.snapshot(command.coin, priority=self._priority())
        spared = frozenset(command.sparing)
        listed = [
            order
            for order in snapshot.open_orders.orders
            if (order.cloid or self._legs.cloid_of(order.venue_order_id)) not in spared
        ]
        gone, _ = await self._cancel_listed(listed, command.reason)  # refused: not confirmed
        return len(gone) == len(listed)

    async def sweep(self, command: SweepOrders) -> None:
        """List, cancel and report every coin asked about, one round at a time, until no
        question is left that a round's listing did not follow."""
        self._sweep_asked.update(coin for coin in command.coins if coin in self._instruments)
        if self._sweeping:
            self.sweeps_joined += 1
            return
        self._sweeping = True
        try:
            while self._sweep_asked:
                await self._queries.wait_turn(priority=self._priority())
                coins = sorted(self._sweep_asked)
                self._sweep_asked.clear()
                backoff_s = await self._sweep_once(coins, command.reason)
                if backoff_s is not None:
                    # The refused coins are asked again: the listing may spend the whole
                    # budget (a closed gate), which ignores the backoff, so this sleep is
                    # what keeps a 429 that keeps coming from being asked at once.
                    await asyncio.sleep(min(backoff_s, _SWEEP_RETRY_MAX_S))
        finally:
            # A round that failed otherwise (a lost answer) leaves its coins to the
            # stop's next question.
            self._sweeping = False

    async def _sweep_once(self, coins: Sequence[str], reason: CancelReason) -> float | None:
        """One round; the budget's backoff if the exchange refused part of it for its rate
        limit (the coins it left unconfirmed are asked again), else None."""
        # Perp dex by perp dex: a coin is reported once its own dex is listed, cancelled
        # and read. On a spent budget each listing waits seconds for the refill, and the
        # main dex's coins once waited for the builder dex's listing past the stop's end.
        groups = by_dex(coins)
        for index, members in enumerate(groups):
            try:
                backoff_s = await self._sweep_dex(members, reason)
            except RateLimitedError as refused:
                backoff_s = refused.retry_after_s
            if backoff_s is not None:
                unconfirmed = [coin for group in groups[index:] for coin in group]
                self._sweep_asked.update(unconfirmed)
                log.warning(
                    "event=sweep_rate_limited coins=%s retry_in_s=%.1f",
                    ",".join(unconfirmed),
                    backoff_s,
                )
                return backoff_s
        return None

    async def _sweep_dex(self, coins: Sequence[str], reason: CancelReason) -> float | None:
        """List, cancel, read and report; the backoff if the cancel was rate limited."""
        mark = self._unsettled.mark()
        reports = await self._queries.open_orders_of(coins, priority=self._priority())
        listed = [order for coin in coins for order in reports[coin].orders]
        gone, backoff_s = await self._cancel_listed(listed, reason)
        # Read after the cancels: once no order rests, the position it shows is final, and
        # the stop waits until the booked fills agree with it.
        positions = await self._queries.positions_of(coins, priority=self._priority())
        for coin in coins:
            report = reports[coin]
            self._emit(
                replace(
                    report,
                    orders=tuple(o for o in report.orders if o.venue_order_id not in gone),
                    unsettled_orders=self._unsettled.orders_at(coin, report.ts_local, mark),
                )
            )
            self._emit(positions[coin])
        return backoff_s

    async def _cancel_listed(
        self, resting: Sequence[OpenOrder], reason: CancelReason
    ) -> tuple[frozenset[int], float | None]:
        """Cancel ``resting`` in one action: the oids whose cancel the venue confirmed, and
        the budget's backoff if the exchange refused it for its rate limit."""
        if not resting:
            return frozenset(), None
        for order in resting:
            if order.cloid is not None:
                self._legs.cancel_requested(order.cloid, reason)
        action = cancel_action((self._instruments[o.coin], o.venue_order_id) for o in resting)
        response = await self._sender.send(action, items=len(resting), priority=Priority.CANCEL)
        if response is None:
            return frozenset(), None
        if response.error is not None:
            log.error("event=cancel_all_refused message=%r", response.error.message)
            limited = response.error.reason is RejectReason.RATE_LIMITED
            return frozenset(), response.error.retry_after_s if limited else None
        now = self._now_ns()
        log.info("event=cancel_all reason=%s orders=%d", reason.value, len(resting))
        gone: set[int] = set()
        for order, status in zip(resting, response.statuses, strict=False):
            if isinstance(status, ItemRejected):
                if status.error.reason is RejectReason.UNKNOWN_ORDER:
                    # "Already canceled, or filled": gone, by the venue's word. A cancel
                    # by cloid that overtook this one left it listed, and a stop swept
                    # every coin once more for it. Its own answer or fill says how it ended.
                    gone.add(order.venue_order_id)
                continue
            gone.add(order.venue_order_id)
            cloid = order.cloid or self._legs.cloid_of(order.venue_order_id)
            if cloid is not None and self._legs.finished(cloid):
                self._emit(
                    OrderCancelled(cloid=cloid, reason=reason, ts_exchange=now, ts_local=now)
                )
        return frozenset(gone), None
