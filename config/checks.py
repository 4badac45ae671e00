"""Meaning checks: the text fields, and the relations between fields.

:mod:`config.bounds` says which numbers each field accepts on its own; this module says
which words are valid (coin names, hosts, URLs, addresses) and which combinations make
sense (a ladder that fits inside the position limit, a dead-man switch the watchdog can
keep armed, no fault injection in live mode).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from decimal import Decimal
from pathlib import Path

from makerd.config import extensions
from makerd.config.bounds import WHOLE_PRICE_BPS, bound_problems
from makerd.config.dead_man_checks import dead_man_switch_problems
from makerd.config.model import MakerdConfig, Mode
from makerd.protocol.instrument import MAX_DISTANCE_FROM_REFERENCE, Instrument

PRICE_BAND_BPS = int(MAX_DISTANCE_FROM_REFERENCE * WHOLE_PRICE_BPS)
"""The exchange's price band (80 % from the reference price) in bps: 8000."""

MAX_PATH_CHARS = 4096
MAX_URL_CHARS = 2048

_COIN = re.compile(r"[A-Za-z0-9@][A-Za-z0-9@:_./-]{0,31}")
_BUILDER_COIN = re.compile(r"[A-Za-z0-9]+:[A-Za-z0-9][A-Za-z0-9_./-]*")
_LIST_SEPARATORS = re.compile(r"[\s,;]+")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")

TEXT_FIELDS = (
    "coin",
    "coins",
    "state_dir",
    "metrics.host",
    "quoting.model",
    "quoting.params",
    "hyperliquid.api_url",
    "hyperliquid.account_address",
    "hyperliquid.vault_address",
    "hyperliquid.key_file",
    "feed.record_dir",
    "faults.crash_role",
    "faults.hang_role",
)
"""Fields whose type (text, path) says too little; each has a check below."""


def url_problem(  # noqa: PLR0911  (one return per refusal reads as the list of rules)
    url: str, *, schemes: tuple[str, ...] = ("http", "https")
) -> str | None:
    """Why ``url`` cannot be an exchange API address, or None when it can."""
    if len(url) > MAX_URL_CHARS:
        return f"is longer than {MAX_URL_CHARS} characters"
    if any(char.isspace() or not char.isprintable() for char in url):
        return f"must not contain spaces or control characters, got {url!r}"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises for a port that is not a number in 0..65535
    except ValueError as error:
        return f"is not a valid URL ({error}), got {url!r}"
    if parts.scheme not in schemes:
        return f"must be a URL starting {' or '.join(f'{s}://' for s in schemes)}, got {url!r}"
    if not parts.hostname:
        return f"must name a host (e.g. http://127.0.0.1:8787), got {url!r}"
    if port == 0:
        return f"must not use port 0, got {url!r}"
    if parts.username or parts.password:
        return "must not carry a user name or password (they would be logged)"
    if parts.query or parts.fragment:
        return f"must not have a query or fragment, got {url!r}"
    return None


def coin_problem(coin: str) -> str | None:
    """Why ``coin`` cannot be a coin name, or None when it can."""
    if len(_LIST_SEPARATORS.split(coin.strip(" ,;"))) > 1:
        return (
            "names one coin (list several under coins:, or as --coin BTC,ETH on the "
            f"command line), got {coin[:40]!r}"
        )
    if ":" in coin and not _BUILDER_COIN.fullmatch(coin):
        return (
            "a builder-deployed (HIP-3) coin is named dex:COIN with one colon, the dex "
            f"and the coin each non-empty letters and digits (e.g. xyz:TSLA), got {coin[:40]!r}"
        )
    if _COIN.fullmatch(coin):
        return None
    return (
        "must be a coin name as the exchange spells it (1 to 32 letters, digits or @:_./-, "
        f"e.g. BTC or xyz:TSLA), got {coin[:40]!r}"
    )


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def text_problems(config: MakerdConfig) -> list[str]:
    """One ``path: problem`` line per text field that cannot mean what it should."""
    problems: list[str] = []
    coin = coin_problem(config.coin)
    if coin:
        problems.append(f"coin: {coin}")
    problems += _path_problems("state_dir", config.state_dir)
    problems += _metrics_host_problems(config)
    problems += _model_problems(config)
    hyperliquid = config.hyperliquid
    if hyperliquid.api_url is not None:
        problem = url_problem(hyperliquid.api_url)
        if problem:
            problems.append(f"hyperliquid.api_url: {problem}")
    for name in ("account_address", "vault_address"):
        address: str | None = getattr(hyperliquid, name)
        if address is not None and not _ADDRESS.fullmatch(address):
            problems.append(
                f"hyperliquid.{name}: must be 0x followed by 40 hex digits, got {address!r}"
            )
    if hyperliquid.key_file is not None:
        problems += _path_problems("hyperliquid.key_file", hyperliquid.key_file)
    if config.feed.record_dir is not None:
        problems += _path_problems("feed.record_dir", config.feed.record_dir)
    roles = extensions.role_names(tuple(spec.coin for spec in config.coin_specs()))
    for name in ("crash_role", "hang_role"):
        role: str | None = getattr(config.faults, name)
        if role is not None and role not in roles:
            problems.append(
                f"faults.{name}: must be one of {', '.join(roles) or '(no roles registered)'} "
                f"or null, got {role!r}"
            )
    return problems


def _path_problems(path: str, value: Path) -> list[str]:
    text = str(value)
    if "\x00" in text:
        return [f"{path}: must not contain a NUL byte"]
    if len(text) > MAX_PATH_CHARS:
        return [f"{path}: is longer than {MAX_PATH_CHARS} characters"]
    return []


def _metrics_host_problems(config: MakerdConfig) -> list[str]:
    metrics = config.metrics
    host = metrics.host
    if not host:
        return ["metrics.host: must not be empty"]
    if is_loopback_host(host):
        return []
    if not metrics.allow_non_loopback:
        return [
            f"metrics.host: {host!r} is not a loopback address, so metrics (positions, PnL, "
            "orders) would be served beyond this machine; use 127.0.0.1, or set "
            "metrics.allow_non_loopback: true if that is what you want"
        ]
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if not _HOSTNAME.fullmatch(host):
            return [f"metrics.host: must be an IP address or a host name, got {host!r}"]
    return []


def _model_problems(config: MakerdConfig) -> list[str]:
    """The chosen model judges its own parameters; they are reported under quoting.params."""
    quoting = config.quoting
    models = extensions.quoting_models()
    if quoting.model not in models:
        return [f"quoting.model: must be one of {', '.join(models)}, got {quoting.model!r}"]
    if quoting.model == extensions.BUILT_IN_MODEL:
        if quoting.params.items:
            return [
                "quoting.params: the symmetric model is set by quoting.levels, "
                "first_level_bps, ...; params are for the other models"
            ]
        return []
    check = extensions.params_check(quoting.model)
    assert check is not None  # quoting_models() lists only registered names besides symmetric
    problems = []
    for line in check(quoting.params.as_dict()):
        parameter, _, problem = line.partition(":")
        problems.append(f"quoting.params.{parameter}: {problem.strip()}")
    return problems


def relation_problems(
    config: MakerdConfig, *, position_limit_key: str = "risk.max_position"
) -> list[str]:
    """One ``path: problem`` line per pair (or group) of fields that contradict each other.

    ``position_limit_key``: the key the ladder's position limit was read from, as its line
    names it (a coin's own ``coins[i].risk.max_position`` is judged here too).

    Judged only once every field is within its own range: a relation computed from a
    value already refused could only add noise, or fail outright (a ladder of 10**12
    levels, a lot of 10**-100).
    """
    if bound_problems(config):
        return []
    problems: list[str] = []
    risk, feed, watchdog = config.risk, config.feed, config.watchdog
    if risk.stale_feed_halt_s < feed.stale_after_s:
        problems.append(
            f"risk.stale_feed_halt_s: must be at least feed.stale_after_s ({feed.stale_after_s}), "
            f"got {risk.stale_feed_halt_s}"
        )
    if risk.margin_soft_at >= risk.margin_hard_at:
        problems.append(
            f"risk.margin_soft_at: must be below risk.margin_hard_at ({risk.margin_hard_at}), "
            f"got {risk.margin_soft_at}"
        )
    if watchdog.deadline_s < watchdog.ping_interval_s:
        problems.append(
            f"watchdog.deadline_s: must be at least watchdog.ping_interval_s "
            f"({watchdog.ping_interval_s}), got {watchdog.deadline_s}"
        )
    problems += dead_man_switch_problems(config)
    problems += _ladder_problems(config, position_limit_key)
    problems += _bracket_problems(config)
    problems += _fault_problems(config)
    if config.feed.record_dir is not None and config.mode is Mode.SIM:
        problems.append(
            "feed.record_dir: only paper and live mode read a market stream to record; "
            "set it to null in sim mode"
        )
    return problems


def _ladder(config: MakerdConfig) -> tuple[str, int, Decimal, Decimal] | None:
    """(size path, levels, first size, decay) of the configured ladder, when it has one."""
    quoting = config.quoting
    if quoting.model == extensions.BUILT_IN_MODEL:
        return "quoting.order_size", quoting.levels, quoting.order_size, quoting.size_decay
    params = quoting.params.as_dict()
    size = params.get("order_size")
    levels = params.get("levels", 1.0)
    decay = params.get("size_decay", 1.0)
    if not all(isinstance(value, float) and value > 0 for value in (size, levels, decay)):
        return None  # missing or malformed: the model's own check reports it
    assert isinstance(size, float)
    assert isinstance(levels, float)
    assert isinstance(decay, float)
    if levels != int(levels) or not 1 <= levels <= 100 or decay > 1:
        return None
    return "quoting.params.order_size", int(levels), Decimal(str(size)), Decimal(str(decay))


def _ladder_problems(config: MakerdConfig, position_limit_key: str) -> list[str]:
    problems: list[str] = []
    quoting = config.quoting
    if quoting.model == extensions.BUILT_IN_MODEL:
        deepest = quoting.first_level_bps + quoting.level_spacing_bps * (quoting.levels - 1)
        if deepest > PRICE_BAND_BPS:
            problems.append(
                f"quoting.level_spacing_bps: the deepest level would sit {deepest} bps from "
                f"the mid (first_level_bps + (levels - 1) x level_spacing_bps); must be at "
                f"most {PRICE_BAND_BPS}: the exchange refuses a price more than "
                f"{PRICE_BAND_BPS / 100:g}% from the reference price"
            )
    ladder = _ladder(config)
    if ladder is None:
        return problems
    path, levels, size, decay = ladder
    sizes = [size * decay**level for level in range(levels)]
    if not sizes:
        return problems  # no level at all: quoting.levels' own range says so
    if sum(sizes) > config.risk.max_position and _quoted_against_top_level_limit(config):
        problems.append(
            f"{path}: one side of the ladder ({levels} levels from {size}, size_decay "
            f"{decay}) totals {sum(sizes):f}, more than {position_limit_key} "
            f"({config.risk.max_position}); a full fill of one side would trip the kill switch"
        )
    if config.mode is Mode.SIM:
        problems += _sim_minimum_problems(config, path, min(sizes))
    return problems


def _quoted_against_top_level_limit(config: MakerdConfig) -> bool:
    """Whether a coin quotes the top-level ladder under the top-level limit: each listed
    coin's own pair is judged under its entry (config.coins), this one only if one takes it."""
    return not config.coins or any(
        spec.quoting == config.quoting
        and config.coin_risk(spec.coin).max_position == config.risk.max_position
        for spec in config.coins
    )


def lot_problem(config: MakerdConfig, instrument: Instrument, *, lot_from: str = "") -> str | None:
    """The ladder's smallest level rounds to zero lots of ``instrument``: a config error in
    every mode (sim knows its lot offline; paper and live once the venue's meta is read).
    Such a level could only be refused, at every quote. ``lot_from`` names where the lot
    came from, when a key set it."""
    ladder = _ladder(config)
    if ladder is None:
        return None
    path, levels, size, decay = ladder
    smallest = size * decay ** (levels - 1)
    if instrument.round_size(smallest) > 0:
        return None
    what = (
        f"{size}"
        if smallest == size
        else f"the smallest level ({size} x size_decay {decay}^{levels - 1} = {smallest:f})"
    )
    lot = f"lot {instrument.lot}, {lot_from}" if lot_from else f"lot {instrument.lot}"
    return f"{path}: {what} rounds to zero lots of {instrument.coin} ({lot})"


def _sim_minimum_problems(config: MakerdConfig, path: str, smallest: Decimal) -> list[str]:
    """In sim mode the instrument is known offline: check the exchange's minimum order."""
    sz_decimals = config.sim.sz_decimals
    instrument = Instrument(coin=config.coin, asset_id=0, sz_decimals=sz_decimals)
    problem = lot_problem(config, instrument, lot_from=f"sim.sz_decimals {sz_decimals}")
    if problem is not None:
        return [problem]
    notional = smallest * config.sim.start_price
    if notional < instrument.min_notional:
        return [
            f"{path}: the smallest level's size {smallest:f} at sim.start_price "
            f"{config.sim.start_price} is worth {notional:f} USD, below the exchange's "
            f"minimum order value of {instrument.min_notional} USD"
        ]
    return []


def _bracket_problems(config: MakerdConfig) -> list[str]:
    """Bracket mode is off with both distances 0, on with both set."""
    quoting = config.quoting
    distances = {
        "take_profit": quoting.bracket_take_profit_bps,
        "stop_loss": quoting.bracket_stop_loss_bps,
    }
    if not any(distances.values()):
        return []
    return [
        f"quoting.bracket_{name}_bps: must be within (0, 10000) when bracket mode is on "
        "(either distance set)"
        for name, bps in distances.items()
        if not 0 < bps < WHOLE_PRICE_BPS
    ]


def _fault_problems(config: MakerdConfig) -> list[str]:
    faults = config.faults
    problems = []
    if faults.crash_role is not None and faults.crash_every_s <= 0:
        problems.append(
            "faults.crash_every_s: must be greater than 0 when faults.crash_role is set"
        )
    if config.mode is Mode.LIVE and not _local_venue(config):
        for name in ("crash_role", "hang_role"):
            if getattr(faults, name) is not None:
                problems.append(
                    f"faults.{name}: fault injection is refused in live mode (it would crash "
                    "or hang a process that trades real money); set it to null, or drill "
                    "against a local venue (hyperliquid.api_url on loopback)"
                )
    return problems


def _local_venue(config: MakerdConfig) -> bool:
    """A drill against a venue on this machine, which no real exchange is."""
    url = config.hyperliquid.api_url
    if url is None or url_problem(url) is not None:
        return False
    return is_loopback_host(urllib.parse.urlsplit(url).hostname or "")
