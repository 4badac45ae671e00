"""Load a YAML config file into the typed tree, reporting every problem at once.

Two passes: :mod:`config.schema` checks shape and types by reflecting over the
dataclasses in :mod:`config.model`; the checks here then enforce ranges and the
relations between fields. Either pass collects ``path: problem`` lines and the whole lot
is raised as one :class:`ConfigError`.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Hashable, Iterable
from decimal import Decimal
from pathlib import Path

import yaml

from actors.routing import ACTOR_ROLES
from config.model import MakerdConfig, QuotingConfig
from config.schema import build_dataclass, describe
from protocol.instrument import PERP_MAX_DECIMALS
from quoting.registry import MODEL_NAMES, build_model

DEFAULT_CONFIG_NAME = "sim.yaml"
"""The packaged config used when no path is given (sim mode: no keys, no network)."""

QUOTING_MODELS: frozenset[str] = frozenset(MODEL_NAMES)
"""Values accepted for ``quoting.model``; extend when a model is wired into the quoter."""


MAX_QUOTE_LEVELS = 20
MAX_PORT = 65535
# A fee rate past 1% is almost surely basis points or percent typed as a fraction.
FEE_RATE_LIMIT = Decimal("0.01")
# 10000 bps is the whole price: a bracket that far away could never trigger or fill.
BPS_LIMIT = Decimal(10_000)
_BRACKET_RANGE = "must be within (0, 10000) when bracket mode is on (either distance set)"

Number = int | float | Decimal


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds every ``path: problem`` line."""

    def __init__(self, problems: Iterable[str], *, source: str) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


def load_config(path: Path | None) -> MakerdConfig:
    """Read and validate ``path``, or the packaged ``sim.yaml`` when ``path`` is None.

    Raises :class:`ConfigError` for a missing or unreadable file, a YAML syntax error, a
    top level that is not a mapping, and every schema or range problem. Paths inside the
    config (``state_dir``) are returned as written; relative ones are resolved by the app.
    """
    if path is None:
        source = f"{DEFAULT_CONFIG_NAME} (packaged default)"
        text = importlib.resources.files("config").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")
    else:
        source = str(path)
        text = _read_text(path)
    return parse_config(_parse_yaml(text, source=source), source=source)


def parse_config(data: object, *, source: str) -> MakerdConfig:
    """Validate already-parsed YAML (a mapping) into a :class:`MakerdConfig`."""
    if data is None:
        raise ConfigError(["the file is empty; expected a mapping of settings"], source=source)
    problems: list[str] = []
    config = build_dataclass(MakerdConfig, data, path="", problems=problems)
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
    """Every range and cross-field problem of a well-typed config (empty when valid)."""
    checks = _Checks()
    _check_top_level(checks, config)
    _check_market(checks, config)
    _check_quoting(checks, config)
    _check_risk(checks, config)
    _check_supervision(checks, config)
    _check_faults(checks, config)
    return checks.problems


def _check_top_level(checks: _Checks, config: MakerdConfig) -> None:
    checks.require(
        bool(config.coin) and not any(char.isspace() for char in config.coin),
        "coin",
        f"must be a coin name without spaces, got {config.coin!r}",
    )
    checks.positive("status_interval_s", config.status_interval_s)
    checks.positive("stop_timeout_s", config.stop_timeout_s)
    checks.require(bool(config.metrics.host), "metrics.host", "must not be empty")
    checks.within("metrics.port", config.metrics.port, 0, MAX_PORT)


def _check_market(checks: _Checks, config: MakerdConfig) -> None:
    checks.positive("sim.start_price", config.sim.start_price)
    checks.within("sim.sz_decimals", config.sim.sz_decimals, 0, PERP_MAX_DECIMALS)
    checks.positive("sim.step_ms", config.sim.step_ms)
    checks.non_negative("paper.order_entry_latency_ms", config.paper.order_entry_latency_ms)
    checks.non_negative("paper.ack_latency_ms", config.paper.ack_latency_ms)
    for name in ("maker_fee_rate", "taker_fee_rate"):
        rate: Decimal = getattr(config.paper, name)
        checks.require(
            -FEE_RATE_LIMIT < rate < FEE_RATE_LIMIT,
            f"paper.{name}",
            f"must be a fraction between -{FEE_RATE_LIMIT} and {FEE_RATE_LIMIT} "
            f"(1.5 bps is 0.00015), got {rate}",
        )
    checks.positive("feed.stale_after_s", config.feed.stale_after_s)


def _check_quoting(checks: _Checks, config: MakerdConfig) -> None:
    quoting = config.quoting
    checks.require(
        quoting.model in QUOTING_MODELS,
        "quoting.model",
        f"must be one of {', '.join(sorted(QUOTING_MODELS))}, got {quoting.model!r}",
    )
    checks.within("quoting.levels", quoting.levels, 1, MAX_QUOTE_LEVELS)
    checks.positive("quoting.first_level_bps", quoting.first_level_bps)
    checks.non_negative("quoting.level_spacing_bps", quoting.level_spacing_bps)
    checks.positive("quoting.order_size", quoting.order_size)
    checks.fraction("quoting.size_decay", quoting.size_decay)
    checks.non_negative("quoting.inventory_skew_bps", quoting.inventory_skew_bps)
    checks.fraction("quoting.one_sided_at", quoting.one_sided_at)
    checks.positive("quoting.refresh_interval_ms", quoting.refresh_interval_ms)
    checks.positive("quoting.volatility_halflife_s", quoting.volatility_halflife_s)
    checks.non_negative("quoting.session_s", quoting.session_s)
    _check_bracket(checks, quoting)
    _check_model_params(checks, config)
    manager = config.order_manager
    checks.non_negative("order_manager.price_tolerance_bps", manager.price_tolerance_bps)
    checks.require(
        0 <= manager.size_tolerance < 1,
        "order_manager.size_tolerance",
        f"must be a fraction in [0, 1), got {manager.size_tolerance}",
    )
    checks.positive("order_manager.max_order_age_s", manager.max_order_age_s)
    checks.positive("order_manager.max_orders_per_batch", manager.max_orders_per_batch)
    checks.non_negative("order_manager.queue_hold_s", manager.queue_hold_s)
    checks.non_negative(
        "order_manager.budget_low_water_requests", manager.budget_low_water_requests
    )
    checks.require(
        manager.budget_tolerance_factor >= 1,
        "order_manager.budget_tolerance_factor",
        f"must be 1 or more, got {manager.budget_tolerance_factor}",
    )
    checks.require(
        manager.queue_hold_factor >= 1,
        "order_manager.queue_hold_factor",
        f"must be 1 or more, got {manager.queue_hold_factor}",
    )


def _check_bracket(checks: _Checks, quoting: QuotingConfig) -> None:
    """Bracket mode is off with both distances 0, on with both inside (0, 10000) bps."""
    distances = (quoting.bracket_take_profit_bps, quoting.bracket_stop_loss_bps)
    for name, bps in zip(("take_profit", "stop_loss"), distances, strict=True):
        if any(distances):
            checks.require(0 < bps < BPS_LIMIT, f"quoting.bracket_{name}_bps", _BRACKET_RANGE)
    slippage = quoting.bracket_limit_slippage_bps
    checks.require(
        0 <= slippage < BPS_LIMIT,
        "quoting.bracket_limit_slippage_bps",
        f"must be from 0 to below {BPS_LIMIT}, got {slippage}",
    )


def _check_model_params(checks: _Checks, config: MakerdConfig) -> None:
    """Let the chosen model judge its own parameters; report them under quoting.params."""
    quoting = config.quoting
    if quoting.model not in QUOTING_MODELS:
        return
    if quoting.model == "symmetric":
        checks.require(
            not quoting.params.items,
            "quoting.params",
            "the symmetric model is set by quoting.levels, first_level_bps, ...; "
            "params are for the other models",
        )
        return
    try:
        build_model(quoting.model, quoting.params.as_dict())
    except ValueError as error:
        for line in str(error).splitlines():
            checks.require(
                False, f"quoting.params.{line.partition(':')[0]}", line.partition(":")[2].strip()
            )


def _check_risk(checks: _Checks, config: MakerdConfig) -> None:
    risk = config.risk
    checks.positive("risk.max_position", risk.max_position)
    checks.fraction("risk.reduce_only_at", risk.reduce_only_at)
    checks.positive("risk.max_drawdown_usd", risk.max_drawdown_usd)
    checks.positive("risk.session_loss_usd", risk.session_loss_usd)
    checks.non_negative("risk.max_losing_round_trips", risk.max_losing_round_trips)
    checks.positive("risk.stale_feed_halt_s", risk.stale_feed_halt_s)
    checks.require(
        risk.stale_feed_halt_s >= config.feed.stale_after_s,
        "risk.stale_feed_halt_s",
        f"must be at least feed.stale_after_s ({config.feed.stale_after_s}), "
        f"got {risk.stale_feed_halt_s}",
    )
    checks.require(
        config.quoting.order_size <= risk.max_position,
        "quoting.order_size",
        f"must not exceed risk.max_position ({risk.max_position}), got {config.quoting.order_size}",
    )


def _check_supervision(checks: _Checks, config: MakerdConfig) -> None:
    supervisor = config.supervisor
    checks.non_negative("supervisor.max_restarts", supervisor.max_restarts)
    checks.positive("supervisor.period_s", supervisor.period_s)
    checks.positive("supervisor.shutdown_timeout_s", supervisor.shutdown_timeout_s)
    watchdog = config.watchdog
    checks.positive("watchdog.ping_interval_s", watchdog.ping_interval_s)
    checks.require(
        watchdog.deadline_s >= watchdog.ping_interval_s,
        "watchdog.deadline_s",
        f"must be at least watchdog.ping_interval_s ({watchdog.ping_interval_s}), "
        f"got {watchdog.deadline_s}",
    )


def _check_faults(checks: _Checks, config: MakerdConfig) -> None:
    faults = config.faults
    for name in ("crash_role", "hang_role"):
        role: str | None = getattr(faults, name)
        checks.require(
            role is None or role in ACTOR_ROLES,
            f"faults.{name}",
            f"must be one of {', '.join(ACTOR_ROLES)} or null, got {role!r}",
        )
    checks.non_negative("faults.crash_every_s", faults.crash_every_s)
    checks.non_negative("faults.hang_after_s", faults.hang_after_s)
    checks.require(
        faults.crash_role is None or faults.crash_every_s > 0,
        "faults.crash_every_s",
        "must be greater than 0 when faults.crash_role is set",
    )


class _Checks:
    """Accumulates range problems as ``path: problem`` lines."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def require(self, condition: bool, path: str, problem: str) -> None:
        if not condition:
            self.problems.append(f"{path}: {problem}")

    def positive(self, path: str, value: Number) -> None:
        self.require(value > 0, path, f"must be greater than 0, got {value}")

    def non_negative(self, path: str, value: Number) -> None:
        self.require(value >= 0, path, f"must be 0 or more, got {value}")

    def fraction(self, path: str, value: Number) -> None:
        self.require(0 < value <= 1, path, f"must be a fraction in (0, 1], got {value}")

    def within(self, path: str, value: int, low: int, high: int) -> None:
        self.require(low <= value <= high, path, f"must be from {low} to {high}, got {value}")


def _mentions(path: str) -> re.Pattern[str]:
    """Matches ``path`` as a whole key path: ``mode`` but not ``quoting.model``."""
    return re.compile(rf"(?<![\w.]){re.escape(path)}(?!\w)")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(["file not found"], source=str(path)) from None
    except IsADirectoryError:
        raise ConfigError(["is a directory, not a config file"], source=str(path)) from None
    except OSError as error:
        raise ConfigError([f"cannot read the file: {error.strerror}"], source=str(path)) from None
    except UnicodeDecodeError as error:
        raise ConfigError([f"not UTF-8 text: {error.reason}"], source=str(path)) from None


def _parse_yaml(text: str, *, source: str) -> object:
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        raise ConfigError([_yaml_problem(error)], source=source) from None
    except yaml.YAMLError as error:
        raise ConfigError([f"invalid YAML: {error}"], source=source) from None


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}invalid YAML: {error.problem or error.context}"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: PyYAML would silently keep the last one."""

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Hashable, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key {describe(key)}", problem_mark=key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
