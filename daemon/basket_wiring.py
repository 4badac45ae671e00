"""Several coins in one process: each role's logic, per coin where the role is per coin.

Each coin has its own book feed, quoter and order manager (``role:COIN``), built exactly
as for one coin from that coin's instrument, quoting section and client-id lane. The fill
tracker keeps one ledger per coin behind one actor; the risk guardian judges the account
and each coin (:mod:`actors.basket_risk`); the watchdog pings every actor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

from makerd.actors.account_equity import AccountEquity, CoinJournal
from makerd.actors.basket_risk import BasketRiskLogic
from makerd.actors.coin_addressing import PerCoinLogic
from makerd.actors.routing import FILL_TRACKER, RISK_GUARDIAN, WATCHDOG, Logic, coin_role
from makerd.config.checks import lot_problem
from makerd.config.model import MakerdConfig
from makerd.daemon.cloids import CoinCloids
from makerd.daemon.wiring import (
    ConfigHolder,
    Dependencies,
    coin_logic_factories,
    fill_tracker_for,
    risk_guardian_for,
    watchdog_for,
)
from makerd.protocol.instrument import Instrument


def size_problems(config: MakerdConfig, instruments: tuple[Instrument, ...]) -> list[str]:
    """Each coin's ladder against its own lot (its own quoting section applied), under
    the path of its entry in ``coins`` when it has one: the top-level path sent the
    operator to a section the coin's own order size overrides."""
    entries = {spec.coin: index for index, spec in enumerate(config.coins)}
    problems = []
    for instrument in instruments:
        own = dataclasses.replace(config, quoting=config.coin_quoting(instrument.coin))
        problem = lot_problem(own, instrument)
        if problem is not None:
            index = entries.get(instrument.coin)
            problems.append(problem if index is None else f"coins[{index}].{problem}")
    return problems


def fill_trackers(deps: Dependencies, instruments: tuple[Instrument, ...]) -> PerCoinLogic:
    """A ledger per coin; the equity table gets the account's row (one per tick)."""
    equity = AccountEquity(deps.journal)
    gathered = dataclasses.replace(deps, journal=CoinJournal(deps.journal, equity=equity))
    return PerCoinLogic(
        {instrument.coin: fill_tracker_for(gathered, instrument) for instrument in instruments},
        after_each=equity.flush,
    )


def basket_factories(
    deps: Dependencies, *, instruments: tuple[Instrument, ...], cloids: CoinCloids
) -> dict[str, Callable[[], Logic]]:
    """One factory per actor name, shared roles first, then each coin's group."""
    holder = deps.current or ConfigHolder(deps.config)
    coins = tuple(instrument.coin for instrument in instruments)
    per_coin: dict[str, Callable[[], Logic]] = {}
    for instrument in instruments:
        coin = instrument.coin
        group = coin_logic_factories(
            deps,
            instrument=instrument,
            quoting=lambda coin=coin: holder.get().coin_quoting(coin),  # type: ignore[misc]
            new_cloid=cloids.factories[coin],
        )
        per_coin.update({coin_role(role, coin): factory for role, factory in group.items()})
    watched = (FILL_TRACKER, RISK_GUARDIAN, *per_coin)
    return {
        FILL_TRACKER: partial(fill_trackers, deps, instruments),
        RISK_GUARDIAN: lambda: BasketRiskLogic(
            config=holder.get().risk,
            coins=coins,
            coin_risk={coin: holder.get().coin_risk(coin) for coin in coins},
            account=risk_guardian_for(deps),
            books=deps.books_to_risk,
        ),
        WATCHDOG: partial(watchdog_for, deps.config, watched),
        **per_coin,
    }
