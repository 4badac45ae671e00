"""The coins one run quotes, and what their number changes in the wiring.

With one coin every actor has its bare role name and every command names that coin, as
before several coins existed. With several, the market-facing actors are ``role:COIN``,
client ids carry their coin's lane, and process-wide commands (cancel all, a reload)
become one per coin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from makerd.actors.coin_addressing import CoinAddressing
from makerd.actors.routing import ACTOR_ROLES, COIN_ROLES, coin_role
from makerd.config.coins import COIN_SEPARATOR
from makerd.config.model import MakerdConfig
from makerd.daemon.basket_wiring import size_problems
from makerd.daemon.cloids import CoinCloids
from makerd.daemon.wiring import quote_levels
from makerd.protocol.control import ParametersChanged
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import CancelReason, SweepOrders


@dataclass(frozen=True, slots=True)
class Basket:
    coins: tuple[str, ...]
    cloids: CoinCloids

    @classmethod
    def of(cls, config: MakerdConfig) -> Basket:
        coins = tuple(spec.coin for spec in config.coin_specs())
        return cls(coins=coins, cloids=CoinCloids(coins))

    @property
    def several(self) -> bool:
        return len(self.coins) > 1

    @property
    def label(self) -> str:
        """``BTC`` or ``BTC,ETH,SOL``: the session's and the status line's coin."""
        return COIN_SEPARATOR.join(self.coins)

    def coin_of_cloid(self) -> Callable[[str], str | None] | None:
        return self.cloids.coin_of if self.several else None

    def addressing(self) -> CoinAddressing | None:
        return (
            CoinAddressing(self.coins, coin_of_cloid=self.cloids.coin_of) if self.several else None
        )

    def names(self, role: str) -> tuple[str, ...]:
        """The actors that play ``role``: the bare role, or one per coin."""
        if self.several and role in COIN_ROLES:
            return tuple(coin_role(role, coin) for coin in self.coins)
        return (role,)

    def actor_names(self) -> tuple[str, ...]:
        return tuple(name for role in ACTOR_ROLES for name in self.names(role))

    def sweep(self, reason: CancelReason, now_ns: int) -> SweepOrders:
        """Cancel every coin's orders at the venue, known to makerd or not: one listing
        per perp dex for all the coins, not one per coin."""
        return SweepOrders(coins=self.coins, reason=reason, ts_local=now_ns)

    def parameters_changed(self, config: MakerdConfig, now_ns: int) -> list[ParametersChanged]:
        """A reload: each coin hears its own quoting and risk limits (one message for one
        coin); the risk guardian also hears the top-level section, the account's."""
        return [
            ParametersChanged(
                quoting=config.coin_quoting(coin),
                order_manager=config.order_manager,
                risk=config.coin_risk(coin),
                account_risk=config.risk,
                ts_local=now_ns,
                max_quote_orders=2 * quote_levels(config.coin_quoting(coin)),
                coin=coin if self.several else None,
            )
            for coin in self.coins
        ]

    def size_problems(self, config: MakerdConfig, instruments: tuple[Instrument, ...]) -> list[str]:
        """Each coin's order size against its own lot (its own quoting overrides applied)."""
        return size_problems(config, instruments)
