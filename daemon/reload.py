"""SIGHUP: re-read the config file and work out what may change while running.

Quoting, order refresh and risk limits apply at once (to the running actors, and to any
actor restarted later); everything else (mode, coin, venue, state directory, metrics,
supervision, watchdog, sim) needs a restart and is reported as such. With several coins
each coin's quoting overrides are hot too; adding or removing a coin needs a restart (a
coin removed from the file quotes as it did until then). A file that fails validation
changes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from makerd.config.loader import ConfigError, load_config
from makerd.config.model import CoinSpec, MakerdConfig
from makerd.daemon.basket_wiring import size_problems
from makerd.protocol.instrument import Instrument

HOT_SECTIONS = ("quoting", "order_manager", "risk")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadPlan:
    file_config: MakerdConfig | None
    """The file as read now (None when it is invalid)."""
    applied: MakerdConfig | None
    """The running config with the hot sections replaced (None when invalid)."""
    problems: tuple[str, ...]
    restart_only: tuple[str, ...]
    """Sections where the file differs from the one the run started with, which take
    effect only after a restart: still listed on every later reload until then."""


def plan_reload(
    *,
    path: Path | None,
    running: MakerdConfig,
    file_at_start: MakerdConfig,
    instruments: tuple[Instrument, ...],
) -> ReloadPlan:
    """``instruments``: every running coin's, each order size is checked against its own.
    ``file_at_start``: the file as the run read it (not as the last reload did: a restart-only
    change a reload reported is no less pending on the next)."""
    try:
        new_file = load_config(path)
    except ConfigError as error:
        return ReloadPlan(file_config=None, applied=None, problems=error.problems, restart_only=())
    hot = {name: getattr(new_file, name) for name in HOT_SECTIONS}
    applied = dataclasses.replace(running, **hot, coins=_running_coins(running, new_file))
    if problems := tuple(size_problems(applied, instruments)):
        return ReloadPlan(file_config=None, applied=None, problems=problems, restart_only=())
    restart_only = tuple(
        field.name
        for field in dataclasses.fields(MakerdConfig)
        if field.name not in HOT_SECTIONS
        and _restart_value(new_file, field.name) != _restart_value(file_at_start, field.name)
    )
    return ReloadPlan(file_config=new_file, applied=applied, problems=(), restart_only=restart_only)


def _running_coins(running: MakerdConfig, new_file: MakerdConfig) -> tuple[CoinSpec, ...]:
    """The running coins with the file's quoting for each it lists (its overrides, else the
    base). A coin the file no longer lists keeps the quoting it runs with: removing it
    waits for a restart, and the file's top-level section would drop its own overrides
    (a BTC order size of 0.001 under a top level sized for a cheap coin)."""
    fresh = {spec.coin: spec for spec in new_file.coin_specs()}
    return tuple(fresh.get(spec.coin, spec) for spec in running.coins)


def _restart_value(config: MakerdConfig, name: str) -> object:
    """What of a field needs a restart: of the coin list, the coins, not their quoting."""
    if name == "coins":
        return tuple(spec.coin for spec in config.coins)
    return getattr(config, name)
