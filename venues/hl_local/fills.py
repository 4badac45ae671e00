"""Turns a match into a public trade and each real participant's ``userFills`` entry."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal

from makerd.venues.hl_local.accounts import AccountRegistry
from makerd.venues.hl_local.book import SYNTHETIC_USER, Match
from makerd.venues.hl_local.events import TradePrinted, UserFilled, VenueEvent
from makerd.venues.hl_local.universe import wire_decimal
from makerd.venues.hl_local.wire import JsonDict


class FillBooker:
    """Books fills on accounts (maker and taker fees) and reports them as events."""

    def __init__(
        self,
        *,
        accounts: AccountRegistry,
        events: list[VenueEvent],
        maker_fee_rate: Decimal,
        taker_fee_rate: Decimal,
        fee_scale: Callable[[str], Decimal] = lambda _coin: Decimal(1),
    ) -> None:
        """``fee_scale(coin)`` multiplies both rates (a builder dex charges its own)."""
        self._accounts = accounts
        self._events = events
        self._maker_fee_rate = maker_fee_rate
        self._taker_fee_rate = taker_fee_rate
        self._fee_scale = fee_scale
        self._next_tid = 100_000_000_000

    def book(
        self, match: Match, *, taker_user: str, taker_oid: int, taker_is_buy: bool, now_ms: int
    ) -> None:
        """Settle one match at the maker's price."""
        self._next_tid += 1
        tid = self._next_tid
        coin = match.maker.coin
        tx_hash = "0x" + hashlib.sha256(f"{coin}:{tid}".encode()).hexdigest()
        maker_user = match.maker.user
        buyer, seller = (taker_user, maker_user) if taker_is_buy else (maker_user, taker_user)
        self._events.append(
            TradePrinted(
                coin=coin,
                trade={
                    "coin": coin,
                    "side": "B" if taker_is_buy else "A",
                    "px": wire_decimal(match.price),
                    "sz": wire_decimal(match.size),
                    "hash": tx_hash,
                    "time": now_ms,
                    "tid": tid,
                    "users": [buyer, seller],
                },
            )
        )
        sides = (
            (maker_user, not taker_is_buy, False, match.maker.oid),
            (taker_user, taker_is_buy, True, taker_oid),
        )
        for user, is_buy, crossed, oid in sides:
            self._book_side(
                match,
                user=user,
                is_buy=is_buy,
                crossed=crossed,
                oid=oid,
                tid=tid,
                tx_hash=tx_hash,
                now_ms=now_ms,
            )

    def _book_side(
        self,
        match: Match,
        *,
        tid: int,
        user: str,
        is_buy: bool,
        crossed: bool,
        oid: int,
        tx_hash: str,
        now_ms: int,
    ) -> None:
        if user == SYNTHETIC_USER:
            return
        account = self._accounts.get(user)
        if account is None:
            return
        coin, price, size = match.maker.coin, match.price, match.size
        fee_rate = self._taker_fee_rate if crossed else self._maker_fee_rate
        fee_rate *= self._fee_scale(coin)
        outcome = account.apply_fill(
            coin=coin, is_buy=is_buy, price=price, size=size, fee_rate=fee_rate
        )
        fill: JsonDict = {
            "coin": coin,
            "px": wire_decimal(price),
            "sz": wire_decimal(size),
            "side": "B" if is_buy else "A",
            "time": now_ms,
            "startPosition": wire_decimal(outcome.start_position),
            "dir": outcome.direction,
            "closedPnl": wire_decimal(outcome.closed_pnl),
            "hash": tx_hash,
            "oid": oid,
            "crossed": crossed,
            "fee": wire_decimal(outcome.fee),
            "tid": tid,
            "feeToken": "USDC",
        }
        account.record_fill(fill)
        self._events.append(UserFilled(user=user, fill=fill))
