"""Load a YAML config file into the typed tree, reporting every problem at once.

Three passes: :mod:`config.yaml_reader` reads the file within size, alias and depth
bounds; :mod:`config.schema` checks shape and types by reflecting over the dataclasses in
:mod:`config.model`; then :mod:`config.bounds` and :mod:`config.checks` enforce ranges,
meanings and the relations between fields. Each pass collects ``path: problem`` lines and
the whole lot is raised as one :class:`ConfigError`.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
from collections.abc import Mapping
from pathlib import Path

from makerd.config.bounds import bound_problems
from makerd.config.checks import relation_problems, text_problems
from makerd.config.coins import coins_problems, read_coins
from makerd.config.errors import ConfigError
from makerd.config.model import CoinSpec, MakerdConfig
from makerd.config.schema import build_dataclass
from makerd.config.yaml_reader import parse_yaml, read_config_text

__all__ = ["DEFAULT_CONFIG_NAME", "ConfigError", "check_ranges", "load_config", "parse_config"]

DEFAULT_CONFIG_NAME = "sim.yaml"
"""The packaged config used when no path is given (sim mode: no keys, no network)."""


def load_config(path: Path | None) -> MakerdConfig:
    """Read and validate ``path``, or the packaged ``sim.yaml`` when ``path`` is None.

    Raises :class:`ConfigError` for a missing, unreadable, oversized or non-regular file,
    a YAML syntax error or bomb, a top level that is not a mapping, and every schema,
    range or relation problem. Paths inside the config (``state_dir``) are returned as
    written; relative ones are resolved by the app.
    """
    if path is None:
        source = f"{DEFAULT_CONFIG_NAME} (packaged default)"
        text = (
            importlib.resources.files("makerd.config")
            .joinpath(DEFAULT_CONFIG_NAME)
            .read_text("utf-8")
        )
    else:
        source = str(path)
        text = read_config_text(path)
    return parse_config(parse_yaml(text, source=source), source=source)


def parse_config(data: object, *, source: str) -> MakerdConfig:
    """Validate already-parsed YAML (a mapping) into a :class:`MakerdConfig`."""
    if data is None:
        raise ConfigError(["the file is empty; expected a mapping of settings"], source=source)
    problems: list[str] = []
    coins: tuple[CoinSpec, ...] = ()
    if isinstance(data, Mapping):
        data, coins = read_coins(data, problems)
    config = build_dataclass(MakerdConfig, data, path="", problems=problems)
    if coins:
        config = dataclasses.replace(config, coins=coins)
    # Range checks run even after type problems (rejected fields hold their defaults),
    # but a range line that mentions a rejected key would talk about a default the
    # operator never wrote, so it is left out.
    rejected = [_mentions(problem.partition(":")[0]) for problem in problems]
    problems += [
        problem
        for problem in check_ranges(config)
        if not any(mention.search(problem) for mention in rejected)
    ]
    if problems:
        raise ConfigError(problems, source=source)
    return config


def check_ranges(config: MakerdConfig) -> list[str]:
    """Every range, meaning and cross-field problem of a well-typed config (empty when valid).

    A relation that involves a field already out of its range is left out: "ping 1e300
    is too large" says it all; "so the deadline is too short" would only add noise.
    """
    out_of_range = bound_problems(config)
    failed = [_mentions(problem.partition(":")[0]) for problem in out_of_range]
    return out_of_range + [
        problem
        for problem in text_problems(config) + relation_problems(config) + coins_problems(config)
        if not any(mention.search(problem) for mention in failed)
    ]


def _mentions(path: str) -> re.Pattern[str]:
    """Matches ``path`` as a whole key path: ``mode`` but not ``quoting.model``."""
    return re.compile(rf"(?<![\w.]){re.escape(path)}(?!\w)")
