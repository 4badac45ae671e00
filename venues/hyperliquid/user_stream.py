"""The account's own stream: ``orderUpdates``, ``userFills`` and ``userFundings``, with
gap repair.

The exchange replays nothing after a reconnect, so each (re)connection first pauses
the stream (frames are held back, nothing new is emitted), fetches the fills since the
last one seen and the open orders and position, emits what was missed, then replays the
held frames and resumes. A repair that fails is retried with backoff until it succeeds
(the stream resumes after the first attempt, so live fills are not held hostage).

Which fills belong in the journal is the fill_tracker's decision (it dedups by trade id
and knows since when the journal is responsible): this stream forwards every fill it
sees, including the snapshot a connection starts with, and repairs on request
(:class:`RepairFills`) and whenever a ``userFills`` push could not be read, so a fill
is never lost because its push was bad. Fills found by a repair are marked ``late``.
Funding payments are forwarded the same way (the fill_tracker books each key once), and
every fills repair also asks for the payments since the same time, so the hours makerd
was down are booked too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, Final, Protocol

from makerd.protocol.account import (
    FillsRepaired,
    FundingPaid,
    OrderFilled,
    PositionReported,
    RepairFills,
)
from makerd.protocol.market import DropReason, FeedMessageDropped
from makerd.protocol.orders import OpenOrdersReported
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.order_reports import order_events
from makerd.venues.hyperliquid.parse import (
    OrderStatusReported,
    parse_order_updates,
    parse_user_fills_message,
)
from makerd.venues.hyperliquid.parse_funding import parse_user_fundings_message
from makerd.venues.hyperliquid.repair_horizon import RepairHorizon
from makerd.venues.hyperliquid.rest import RateLimitedError, RequestLostError
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.stream_coins import StreamCoins
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy

log = logging.getLogger("makerd.venue.user")
_NS_PER_MS: Final = 1_000_000
_REMEMBERED_TRADES: Final = 20_000
_REPAIR_FIRST_BACKOFF_S: Final = 1.0
_REPAIR_MAX_BACKOFF_S: Final = 30.0
_BAD_PUSH_REPAIR_SPACING_S: Final = 5.0
"""Least time between two repairs for unreadable fill pushes (each costs about 62 weight:
fills, funding, open orders and the position)."""
_QUERY_ERRORS: Final = (RequestLostError, RateLimitedError, FeedParseError)


class TaskSpawner(Protocol):
    """Runs a coroutine as a tracked task on the I/O loop (drained at stop)."""

    def spawn(self, coroutine: Coroutine[Any, Any, object], *, name: str) -> None: ...


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
        tasks: TaskSpawner,
        policy: ReconnectPolicy,
        now_ns: Callable[[], int],
        exchange_now_ns: Callable[[], int] | None = None,
        others: Sequence[str] = (),
    ) -> None:
        """``others``: the process's other coins, when it quotes several (one stream);
        ``exchange_now_ns``: the exchange's time now, as this host reads it (the host's
        own by default), which repairs ask for fills by."""
        self._coins = (coin, *others)
        self._queries = queries
        self._legs = legs
        self._emit = emit
        self._emit_fill = emit_fill
        self._now_ns = now_ns
        self._paused = True
        self._held: list[tuple[str, object, int]] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._stream_coins = StreamCoins(self._coins, legs)
        self._horizon = RepairHorizon(
            exchange_now_ns=exchange_now_ns or now_ns, monotonic_ns=time.monotonic_ns
        )
        self._tasks = tasks
        self._fill_repair_pending = False
        self._repairs_asked: dict[str, int] = {}
        """Coins whose fill repair was asked and has not started: coin → since (ms)."""
        self._repair_reasons: list[str] = []
        self._bad_push_owed_since_ms: int | None = None
        """Owed a repair for unreadable fill pushes: from the newest fill known at the
        first of them (a later good push must not move it past what they carried)."""
        self.fills_repaired = 0
        self.repairs = 0
        self.repair_failures = 0
        self.socket = ReconnectingSocket(
            name="user",
            url=ws_url,
            subscriptions=(
                {"type": "orderUpdates", "user": queries.user},
                {"type": "userFills", "user": queries.user},
                {"type": "userFundings", "user": queries.user},
            ),
            on_frame=self._on_frame,
            on_connected=self._on_connected,
            on_malformed=lambda reason, ts: self._drop("ws", reason, ts),
            policy=policy,
            now_ns=now_ns,
            on_state=emit,
        )

    async def run(self) -> None:
        await self.socket.run()

    def _on_connected(self, connection: int) -> None:
        self._paused = True
        self._held = []
        self._tasks.spawn(self._repair_connection(connection), name="gap-repair")

    def request_repair(self, request: RepairFills) -> None:
        """Fills since ``request.since_ns`` again (the fill_tracker asked; dedup is its job).

        Requests queued together are repaired together, from the earliest time asked: the
        fills query lists the whole account, so one serves every coin (three coins
        starting asked three times, about 62 weight each).
        """
        since_ms = request.since_ns // _NS_PER_MS
        first = not self._repairs_asked
        earlier = self._repairs_asked.get(request.coin, since_ms)
        self._repairs_asked[request.coin] = min(since_ms, earlier)
        if request.reason not in self._repair_reasons:
            self._repair_reasons.append(request.reason)
        if first:
            self._tasks.spawn(self._repair_asked(), name="fill-repair")

    async def _repair_asked(self) -> None:
        await asyncio.sleep(0)  # the requests already queued on this loop join this one
        asked, self._repairs_asked = self._repairs_asked, {}
        reasons, self._repair_reasons = self._repair_reasons, []
        await self._repair_until_done(min(asked.values()), ",".join(reasons), coins=tuple(asked))

    async def _repair_connection(self, connection: int) -> None:
        """Fetch what the stream may have missed, emit it, then resume the stream."""
        since_ms = self._horizon.since_ms() if connection > 1 else None
        try:
            await self._repair_once(since_ms, reason=f"connection {connection}")
        except _QUERY_ERRORS as error:
            # Resume the stream anyway (a stalled stream is worse) and keep repairing.
            self._repair_failed(f"connection {connection}", error)
            self._tasks.spawn(
                self._repair_until_done(since_ms, f"connection {connection}"), name="gap-repair"
            )
        finally:
            self._resume()

    async def _repair_until_done(
        self, since_ms: int | None, reason: str, *, coins: tuple[str, ...] | None = None
    ) -> None:
        """``coins``: the coins to repair (None: every coin, as after a lost connection)."""
        backoff_s = _REPAIR_FIRST_BACKOFF_S
        while True:
            try:
                await self._repair_once(since_ms, reason=reason, coins=coins)
                return
            except _QUERY_ERRORS as error:
                self._repair_failed(reason, error)
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, _REPAIR_MAX_BACKOFF_S)

    async def _repair_once(
        self, since_ms: int | None, *, reason: str, coins: tuple[str, ...] | None = None
    ) -> None:
        """Each coin's position, then the fills since ``since_ms`` (none when None), then
        each coin's open orders.

        The positions come first so that the fills asked for after them include every fill
        up to the positions' instant: a mismatch that survives the repair is then no fill
        in flight (the fill tracker adjusts only such a report).
        """
        # A coin's own request (its fill tracker's) repairs that coin alone; a lost
        # connection repairs every coin, with one position and one open-orders query per dex.
        targets = self._coins if coins is None else coins
        positions = await self._queries.positions_of(targets)
        fills: Sequence[OrderFilled] | None = None
        funding: tuple[FundingPaid, ...] = ()
        if since_ms is not None:
            fills = await self._queries.fills_since(since_ms)
            funding = await self._queries.funding_since(since_ms)
        open_orders = await self._queries.open_orders_of(targets)
        for coin in targets:
            self._repair_coin(positions[coin], open_orders[coin], fills, funding, reason=reason)
        self.repairs += 1

    def _repair_coin(
        self,
        position: PositionReported,
        open_orders: OpenOrdersReported,
        fills: Sequence[OrderFilled] | None,
        funding: tuple[FundingPaid, ...],
        *,
        reason: str,
    ) -> None:
        """One coin's share of a repair: its missed fills and funding, then its orders and
        position."""
        coin = position.coin
        found = 0
        if fills is not None:
            for fill in fills:
                if fill.coin == coin:
                    found += self._is_new(fill)
                    self._emit_fill(replace(fill, late=True))
            self._emit_funding(tuple(p for p in funding if p.coin == coin))
            self._emit(
                FillsRepaired(
                    coin=coin,
                    through_ns=position.ts_exchange,
                    fills_found=found,
                    ts_local=position.ts_local,
                )
            )
        self._emit(open_orders)
        self._emit(position)
        self.fills_repaired += found
        log.info(
            "event=gap_repaired reason=%r coin=%s new_fills=%d open_orders=%d",
            reason,
            coin,
            found,
            len(open_orders.orders),
        )

    def _repair_failed(self, reason: str, error: Exception) -> None:
        self.repair_failures += 1
        log.warning("event=gap_repair_failed reason=%r error=%r (retrying)", reason, error)

    def _resume(self) -> None:
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
            elif channel == "userFundings":
                self._emit_funding(parse_user_fundings_message(data, ts_local=ts_local))
            elif channel == "orderUpdates":
                for report in parse_order_updates(data, ts_local=ts_local):
                    self._on_order_report(report, ts_local)
        except FeedParseError as error:
            self._drop(channel, error.reason, ts_local)
            if channel == "userFills":
                self._repair_after_bad_push()

    def _repair_after_bad_push(self) -> None:
        """A fill push we could not read may have been real: ask the exchange for it.

        Bad pushes that arrive while a repair runs or rests are owed one more repair, not
        one each: a hostile or broken stream must not spend the request budget that the
        order manager and a stop need to learn what rests.
        """
        owed, since_ms = self._bad_push_owed_since_ms, self._horizon.since_ms()
        self._bad_push_owed_since_ms = since_ms if owed is None else min(owed, since_ms)
        if self._fill_repair_pending:
            return
        self._fill_repair_pending = True
        self._tasks.spawn(self._repair_bad_pushes(), name="fill-repair")

    async def _repair_bad_pushes(self) -> None:
        try:
            while (since_ms := self._bad_push_owed_since_ms) is not None:
                self._bad_push_owed_since_ms = None
                await self._repair_until_done(since_ms, "unreadable userFills push")
                await asyncio.sleep(_BAD_PUSH_REPAIR_SPACING_S)
        finally:
            self._fill_repair_pending = False

    def _on_fills(self, data: object, ts_local: int) -> None:
        message = parse_user_fills_message(data, ts_local=ts_local)
        for fill in message.fills:
            if (foreign := self._stream_coins.fill_refusal(fill)) is not None:
                # A snapshot's other coins are the account's history, not news; a live
                # fill naming our coin with another coin's order may hide a real one.
                if fill.coin in self._coins:
                    self._drop("userFills", DropReason.WRONG_COIN, ts_local, foreign)
                    self._repair_after_bad_push()
                elif not message.is_snapshot:
                    self._drop("userFills", DropReason.WRONG_COIN, ts_local, foreign)
            elif self._is_new(fill):
                # A connection's opening snapshot replays the past: what it adds was missed.
                self._emit_fill(replace(fill, late=True) if message.is_snapshot else fill)

    def _emit_funding(self, payments: tuple[FundingPaid, ...]) -> None:
        for payment in payments:
            if payment.coin in self._coins:
                self._emit(payment)

    def _on_order_report(self, report: OrderStatusReported, ts_local: int) -> None:
        cloid = report.cloid
        if cloid is not None and (refused := self._stream_coins.order_refusal(report.coin, cloid)):
            self._drop("orderUpdates", DropReason.WRONG_COIN, ts_local, refused)
            return
        self._stream_coins.order_reported(report.venue_order_id, report.coin)
        if report.coin in self._coins:
            for event in order_events(report, cloid, self._legs):
                self._emit(event)

    def _is_new(self, fill: OrderFilled) -> bool:
        if fill.trade_id in self._seen:
            return False
        self._remember(fill)
        return True

    def _remember(self, fill: OrderFilled) -> None:
        self._seen[fill.trade_id] = None
        if len(self._seen) > _REMEMBERED_TRADES:
            self._seen.popitem(last=False)
        self._horizon.heard(fill.ts_exchange)

    def _drop(self, channel: str, reason: str, ts_local: int, detail: str = "") -> None:
        self._emit(
            FeedMessageDropped(
                channel=channel, reason=reason, ts_local=ts_local, stream="user", detail=detail
            )
        )
