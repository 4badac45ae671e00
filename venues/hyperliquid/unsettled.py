"""New-risk actions a venue report may not show yet: how many orders a report cannot vouch for.

An action whose answer never came (or left an item out) may still execute until it
expires (:mod:`.lifetimes`): :class:`UnsettledActions` counts its orders per coin until
then, so a listing asked meanwhile cannot prove them absent.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from makerd.venues.hyperliquid.lifetimes import ActionLifetime, LifetimeClock


@dataclass(frozen=True, slots=True)
class UnsettledMark:
    """The actions on their way when a report was asked (see :meth:`UnsettledActions.mark`)."""

    next_token: int
    pending: frozenset[int]


class UnsettledActions:
    """New-risk actions whose effect a venue report may not show yet, counted per coin.

    An action is unsettled from the moment it is sent until its answer arrives, or, when
    the answer never comes, until its ``expiresAfter`` (plus the clock skew allowed) has
    passed: only then can the exchange no longer execute it. A report asked while some
    are unsettled cannot prove that their orders are absent.

    An answer that arrives while a report is on its way settles nothing for that report:
    the exchange may have listed the orders just before it placed them. A report that
    took a :meth:`mark` when it was asked therefore counts every action on its way then
    or sent since, answered or not.

    With ``monotonic_ns`` (the clock the lifetimes given to :meth:`sent` were started
    on), a lost action also stays unsettled until its lifetime has passed on that clock
    since it was sent (:class:`LifetimeClock`).
    """

    _REMEMBERED: Final = 1_000
    """Settled actions remembered for the reports still on their way when they settled."""

    def __init__(self, monotonic_ns: Callable[[], int] | None = None) -> None:
        self._next_token = 0
        self._orders: OrderedDict[int, tuple[Counter[str], ActionLifetime]] = OrderedDict()
        """Recent actions (bounded): token → (orders per coin, lifetime)."""
        self._lifetimes = LifetimeClock(monotonic_ns)
        self._answer_pending: set[int] = set()
        self._lost: set[int] = set()

    def sent(self, *, coins: Iterable[str], lifetime: ActionLifetime) -> int:
        """An action with one order per entry of ``coins`` left; its token."""
        self._next_token += 1
        token = self._next_token
        self._orders[token] = (Counter(coins), lifetime)
        self._answer_pending.add(token)
        if len(self._orders) > 2 * self._REMEMBERED:
            self._forget_settled()
        return token

    def _forget_settled(self) -> None:
        """Down to the newest :data:`_REMEMBERED`, keeping every unsettled action."""
        unsettled = self._answer_pending | self._lost
        settled = [t for t in self._orders if t not in unsettled]
        for token in settled[: len(self._orders) - self._REMEMBERED]:
            del self._orders[token]

    def answered(self, token: int) -> None:
        self._answer_pending.discard(token)

    def lost(self, token: int) -> None:
        if token in self._answer_pending:
            self._answer_pending.discard(token)
            self._lost.add(token)

    def mark(self) -> UnsettledMark:
        """Take when a report is asked; give to :meth:`orders_at` when it is answered."""
        return UnsettledMark(
            next_token=self._next_token + 1, pending=frozenset(self._answer_pending)
        )

    def orders_at(self, coin: str, asked_ns: int, mark: UnsettledMark | None = None) -> int:
        """Orders of ``coin`` that may come to rest after a report asked at ``asked_ns``."""
        self._expire(asked_ns)
        counted = self._answer_pending | self._lost
        if mark is not None:
            counted |= mark.pending
            counted |= {t for t in self._orders if t >= mark.next_token}
        return self._orders_of(coin, counted)

    def in_flight_at(self, coin: str, mark: UnsettledMark) -> int:
        """Orders of ``coin`` in the actions that were on their way at ``mark``."""
        return self._orders_of(coin, mark.pending)

    def still_in_doubt(self, coin: str, mark: UnsettledMark, now_ns: int) -> int:
        """Of those, the orders whose action has neither been answered nor expired yet."""
        self._expire(now_ns)
        return self._orders_of(coin, mark.pending & (self._answer_pending | self._lost))

    def _orders_of(self, coin: str, tokens: Iterable[int]) -> int:
        return sum(self._orders[t][0][coin] for t in tokens if t in self._orders)

    def _expire(self, now_ns: int) -> None:
        lived_out = self._lifetimes.lived_out
        for token in [t for t in self._lost if lived_out(self._orders[t][1], now_ns)]:
            self._lost.discard(token)  # expired: the exchange refuses it now
