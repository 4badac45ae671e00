"""Several coins in one process: which coin a message is about, and who hears it.

A per-coin role (book feed, quoter, order manager) has one incarnation per coin, named
``role:COIN``. A message that names its coin reaches that coin's incarnation only; one
that names an order (a cancel, a rejection) reaches the coin the order's client id was
minted for; one about no coin in particular (a stop, a kill switch, a reload without a
coin) reaches every coin's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from makerd.actors.routing import COIN_ROLES, Logic, coin_role


def message_coin(message: object) -> str | None:
    """The coin a message names itself (a fill's coin for a booked fill), else None."""
    coin = getattr(message, "coin", None)
    if coin is None:
        coin = getattr(getattr(message, "fill", None), "coin", None)
    return coin if isinstance(coin, str) and coin else None  # "": not said


class CoinAddressing:
    """The names of the actors that hear a message sent to a role."""

    def __init__(
        self, coins: tuple[str, ...], *, coin_of_cloid: Callable[[str], str | None]
    ) -> None:
        self._coins = frozenset(coins)
        self._coin_of_cloid = coin_of_cloid
        self._every = {role: tuple(coin_role(role, coin) for coin in coins) for role in COIN_ROLES}

    def names(self, role: str, message: object) -> tuple[str, ...]:
        if role not in self._every:
            return (role,)  # shared by every coin
        coin = self.coin_of(message)
        if coin is None:
            return self._every[role]
        return (coin_role(role, coin),) if coin in self._coins else ()

    def coin_of(self, message: object) -> str | None:
        coin = message_coin(message)
        if coin is None:
            cloid = getattr(message, "cloid", None)
            coin = self._coin_of_cloid(cloid) if isinstance(cloid, str) else None
        return coin


class PerCoinLogic:
    """One state machine per coin behind one shared role (the fill tracker).

    Each message reaches its own coin's machine; one naming no coin (a timer tick)
    reaches every machine. The machines themselves stay single-coin and unchanged.
    """

    def __init__(
        self, logics: Mapping[str, Logic], *, after_each: Callable[[], None] | None = None
    ) -> None:
        """``after_each`` runs once every machine has had a message (the account's row)."""
        self.logics = dict(logics)
        self._after_each = after_each

    def start(self, now_ns: int) -> list[object]:
        out: list[object] = []
        for logic in self.logics.values():
            start: Callable[[int], list[object]] | None = getattr(logic, "start", None)
            if start is not None:
                out += start(now_ns)
        return out

    def handled_types(self) -> frozenset[type]:
        handled: frozenset[type] = frozenset()
        for logic in self.logics.values():
            declared: Callable[[], frozenset[type]] | None = getattr(logic, "handled_types", None)
            if declared is not None:
                handled |= declared()
        return handled

    def handle(self, message: object) -> list[object]:
        coin = message_coin(message)
        if coin is None:
            out = [out for logic in self.logics.values() for out in logic.handle(message)]
        else:
            logic = self.logics.get(coin)
            out = logic.handle(message) if logic is not None else []
        if self._after_each is not None:
            self._after_each()
        return out
