"""SIGHUP: re-read the config file and work out what may change while running.

Quoting, order refresh and risk limits apply at once (to the running actors, and to any
actor restarted later); everything else (mode, coin, venue, state directory, metrics,
supervision, watchdog, sim) needs a restart and is reported as such. A file that fails
validation changes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from config.loader import ConfigError, load_config
from config.model import MakerdConfig
from makerd.wiring import order_size_problem
from protocol.instrument import Instrument

HOT_SECTIONS = ("quoting", "order_manager", "risk")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadPlan:
    file_config: MakerdConfig | None
    """The file as read now (None when it is invalid)."""
    applied: MakerdConfig | None
    """The running config with the hot sections replaced (None when invalid)."""
    problems: tuple[str, ...]
    restart_only: tuple[str, ...]
    """Sections the file changed that take effect only after a restart."""


def plan_reload(
    *,
    path: Path | None,
    running: MakerdConfig,
    previous_file: MakerdConfig,
    instrument: Instrument,
) -> ReloadPlan:
    try:
        new_file = load_config(path)
    except ConfigError as error:
        return ReloadPlan(file_config=None, applied=None, problems=error.problems, restart_only=())
    hot = {name: getattr(new_file, name) for name in HOT_SECTIONS}
    applied = dataclasses.replace(running, **hot)
    size_problem = order_size_problem(applied, instrument)
    if size_problem is not None:
        return ReloadPlan(file_config=None, applied=None, problems=(size_problem,), restart_only=())
    restart_only = tuple(
        field.name
        for field in dataclasses.fields(MakerdConfig)
        if field.name not in HOT_SECTIONS
        and getattr(new_file, field.name) != getattr(previous_file, field.name)
    )
    return ReloadPlan(file_config=new_file, applied=applied, problems=(), restart_only=restart_only)
