"""What the venue pushes: market data each tick, user events after each action or tick.

Market data (l2Book, bbo, allMids) is pushed only when it changed since the last push,
and not at all while a feed freeze is armed. Trades, order updates and fills are pushed
as they happen; a new subscriber gets a snapshot (book, bbo, mids, recent trades, recent
fills with ``isSnapshot: true``) right after its acknowledgement.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Protocol

from makerd.venues.hl_local.actions import ExchangeEndpoint
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.events import (
    OrderUpdated,
    TradePrinted,
    UserFilled,
    UserFunded,
    VenueEvent,
)
from makerd.venues.hl_local.fault_state import Faults
from makerd.venues.hl_local.info import InfoEndpoint
from makerd.venues.hl_local.stamps import ReactionStamps
from makerd.venues.hl_local.wire import JsonDict

RECENT_TRADES = 30
SNAPSHOT_FILLS = 100


class FrameSink(Protocol):
    """A connection as the publisher sees it."""

    subscriptions: dict[str, JsonDict]

    def send(self, frame: JsonDict) -> None: ...


class FeedPublisher:
    """Routes the engine's state and events to subscribed connections."""

    def __init__(
        self,
        *,
        engine: MatchingEngine,
        info: InfoEndpoint,
        exchange: ExchangeEndpoint,
        faults: Faults,
        now_ms: Callable[[], int],
        stamps: ReactionStamps | None = None,
    ) -> None:
        self.engine = engine
        self._stamps = stamps or ReactionStamps()
        self.info = info
        self.exchange = exchange
        self.coins = engine.universe.coins
        self._faults = faults
        self._now_ms = now_ms
        self._sessions: Iterable[FrameSink] = ()
        self._last_sent: dict[str, object] = {}
        self._recent_trades: dict[str, deque[JsonDict]] = defaultdict(
            lambda: deque(maxlen=RECENT_TRADES)
        )

    def attach(self, sessions: Iterable[FrameSink]) -> None:
        self._sessions = sessions

    def push_market(self) -> None:
        """Push books, bbos and mids that changed (nothing while the feed is frozen)."""
        if self._faults.feed_frozen(self._now_ms()):
            return
        for coin in self.coins:
            book = self.info.l2_book(coin)
            if self._push_if_changed(f"l2Book:{coin}", "l2Book", book, book["levels"]):
                self._stamps.book_queued(coin)
                self._stamps.mid_shown(coin, self.engine.mid(coin), self._now_ms())
            bbo = self._bbo(book)
            self._push_if_changed(f"bbo:{coin}", "bbo", bbo, bbo["bbo"])
        mids = self.info.all_mids()
        self._push_if_changed("allMids", "allMids", {"mids": mids}, mids)

    def publish_events(self, *, after_s: float = 0.0) -> None:
        """Drain the engine's events to the trades and user channels, now or, when the
        streams' news of an action is held (``hold_stream_next``), ``after_s`` later
        (from the running loop)."""
        events = list(self.engine.events)
        self.engine.events.clear()
        if after_s > 0:
            asyncio.get_running_loop().call_later(after_s, self._publish, events)
        else:
            self._publish(events)

    def _publish(self, events: list[VenueEvent]) -> None:
        trades: dict[str, list[JsonDict]] = defaultdict(list)
        fills: dict[str, list[JsonDict]] = defaultdict(list)
        updates: dict[str, list[JsonDict]] = defaultdict(list)
        fundings: dict[str, list[JsonDict]] = defaultdict(list)
        for event in events:
            if isinstance(event, TradePrinted):
                trades[event.coin].append(event.trade)
                self._recent_trades[event.coin].append(event.trade)
            elif isinstance(event, UserFilled):
                fills[event.user].append(event.fill)
            elif isinstance(event, OrderUpdated):
                updates[event.user].append(event.payload())
            elif isinstance(event, UserFunded):
                fundings[event.user].append(event.funding)
        if not self._faults.feed_frozen(self._now_ms()):
            for coin, batch in trades.items():
                self._send(f"trades:{coin}", {"channel": "trades", "data": batch})
        if not self._faults.order_updates_lost(self._now_ms()):
            for user, batch in updates.items():
                self._send(f"orderUpdates:{user}", {"channel": "orderUpdates", "data": batch})
        for user, batch in fills.items():
            self._send(
                f"userFills:{user}",
                {"channel": "userFills", "data": {"user": user, "fills": batch}},
            )
            self._send(f"userEvents:{user}", {"channel": "user", "data": {"fills": batch}})
        for user, batch in fundings.items():
            data = {"user": user, "fundings": batch}
            self._send(f"userFundings:{user}", {"channel": "userFundings", "data": data})

    def send_snapshot(self, session: FrameSink, key: str, subscription: JsonDict) -> None:
        """The first message(s) a new subscriber receives."""
        kind = subscription["type"]
        coin = subscription.get("coin")
        if kind == "l2Book" and coin is not None:
            session.send({"channel": "l2Book", "data": self.info.l2_book(coin)})
        elif kind == "bbo" and coin is not None:
            session.send({"channel": "bbo", "data": self._bbo(self.info.l2_book(coin))})
        elif kind == "allMids":
            session.send({"channel": "allMids", "data": {"mids": self.info.all_mids()}})
        elif kind == "trades" and coin is not None and self._recent_trades[coin]:
            session.send({"channel": "trades", "data": list(self._recent_trades[coin])})
        elif kind in ("userFills", "userFundings"):
            user = subscription["user"]
            account = self.engine.accounts.get(user)
            field = "fills" if kind == "userFills" else "fundings"
            kept = {} if account is None else {"fills": account.fills, "fundings": account.fundings}
            data = {"isSnapshot": True, "user": user, field: kept.get(field, [])[-SNAPSHOT_FILLS:]}
            session.send({"channel": kind, "data": data})

    def _push_if_changed(self, key: str, channel: str, data: JsonDict, content: object) -> bool:
        if self._last_sent.get(key) == content:
            return False
        self._last_sent[key] = content
        self._send(key, {"channel": channel, "data": data})
        return True

    def _send(self, key: str, frame: JsonDict) -> None:
        for session in self._sessions:
            if key in session.subscriptions:
                session.send(frame)

    @staticmethod
    def _bbo(book: JsonDict) -> JsonDict:
        bids, asks = book["levels"]
        best = [bids[0] if bids else None, asks[0] if asks else None]
        return {"coin": book["coin"], "time": book["time"], "bbo": best}
