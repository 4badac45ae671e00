"""Several coins in one process: the ``coins:`` list read into one spec per coin.

Each entry is a coin name, or a mapping ``{coin: ETH, quoting: {...}, risk: {...}}`` whose
quoting keys override the top-level ``quoting`` section for that coin alone, and whose risk
keys (only those judged per coin: :data:`COIN_RISK_KEYS`) the top-level ``risk`` section's.
``coin: BTC,ETH`` (and ``--coin BTC,ETH``) is the same list without overrides; a single
``coin:`` stays a one-coin list, so every config written before several coins existed means
what it meant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from makerd.config.bounds import bound_problems
from makerd.config.checks import coin_problem, relation_problems
from makerd.config.model import (
    COIN_RISK_KEYS,
    CoinRisk,
    CoinSpec,
    MakerdConfig,
    QuotingConfig,
    RiskConfig,
)
from makerd.config.schema import build_dataclass, describe

MAX_COINS = 32
"""One process's budget: the exchange allows 1000 WebSocket subscriptions per IP, but the
request budget and two cores run out long before (see bench/bench_pipeline.py)."""

_ENTRY_KEYS = ("coin", "quoting", "risk")


COIN_SEPARATOR = ","
"""Between the coins of a list (``--coin BTC,ETH``), and of a session's name for them."""


def split_coin_list(text: str) -> list[str]:
    """``"BTC, ETH,SOL"`` as ``["BTC", "ETH", "SOL"]``.

    Only a comma separates: a space inside a name (``"BT C"``) stays in it, so the name check
    refuses it instead of quoting two coins the operator never named.
    """
    return [name.strip() for name in text.split(COIN_SEPARATOR) if name.strip()]


def read_coins(
    data: Mapping[str, object], problems: list[str]
) -> tuple[dict[str, object], tuple[CoinSpec, ...]]:
    """The settings without the coin list, and one spec per listed coin (none for one coin)."""
    rest = dict(data)
    raw = rest.pop("coins", None)
    single = rest.get("coin")
    if raw is None or raw == []:  # written out empty: the one ``coin``
        if not isinstance(single, str) or len(split_coin_list(single)) < 2:
            return rest, ()
        raw = split_coin_list(single)
        single = None  # it was the list itself
    if not isinstance(raw, list):
        problems.append(f"coins: expected a list of coin names or mappings, got {describe(raw)}")
        return rest, ()
    if len(raw) > MAX_COINS:
        problems.append(f"coins: at most {MAX_COINS} coins in one process, got {len(raw)}")
        return rest, ()
    base = rest.get("quoting")
    base_quoting = base if isinstance(base, Mapping) else {}
    specs = [
        spec
        for index, entry in enumerate(raw)
        if (spec := _read_entry(entry, f"coins[{index}]", base_quoting, problems)) is not None
    ]
    if specs and isinstance(single, str) and single != specs[0].coin:
        problems.append(f"coin: {single} must be the first of coins when both are given")
    if specs:
        rest["coin"] = specs[0].coin
    return rest, tuple(specs)


def _read_entry(
    entry: object, path: str, base: Mapping[str, object], problems: list[str]
) -> CoinSpec | None:
    if isinstance(entry, str):
        entry = {"coin": entry}
    if not isinstance(entry, Mapping):
        problems.append(f"{path}: expected a coin name or a mapping, got {describe(entry)}")
        return None
    # Only null means "no overrides": `quoting: []` or `0` is a slip to name, not a blank.
    name, overrides = entry.get("coin"), _section(entry, "quoting")
    named = f" ({_name_of(name)})"
    problems.extend(
        f"{path}.{key}: unknown key (an entry takes {', '.join(_ENTRY_KEYS)}){named}"
        for key in entry
        if key not in _ENTRY_KEYS
    )
    if not isinstance(name, str):
        problems.append(f"{path}.coin: expected a coin name, got {describe(name)}")
        return None
    if not isinstance(overrides, Mapping):
        problems.append(f"{path}.quoting: expected a mapping, got {describe(overrides)}{named}")
        return None
    # The top-level section's own problems are reported once, under quoting.
    found: list[str] = []
    quoting = build_dataclass(
        QuotingConfig, {**base, **overrides}, path=f"{path}.quoting", problems=found
    )
    problems.extend(p + named for p in found if p.partition(":")[0].split(".")[2] in overrides)
    return CoinSpec(coin=name, quoting=quoting, risk=_read_risk(entry, path, named, problems))


_ACCOUNT_RISK_KEYS = {
    # A switch (flatten_on_kill, flatten_on_stop) limits nothing: calling it a limit misled.
    field.name: "setting" if field.type in (bool, "bool") else "limit"
    for field in dataclasses.fields(RiskConfig)
    if field.name not in COIN_RISK_KEYS
}
"""Each risk key with no per-coin form, and what it is called when refused under a coin."""


def _read_risk(entry: Mapping[str, object], path: str, named: str, problems: list[str]) -> CoinRisk:
    """The entry's own per-coin limits; an account-wide one is refused where it is written
    (it would read as this coin's, and the account has one)."""
    own = _section(entry, "risk")
    if not isinstance(own, Mapping):
        problems.append(f"{path}.risk: expected a mapping, got {describe(own)}{named}")
        return CoinRisk()
    problems.extend(
        f"{path}.risk.{key}: an account-wide {_ACCOUNT_RISK_KEYS[key]}, set it in the "
        f"top-level risk section{named}"
        for key in own
        if key in _ACCOUNT_RISK_KEYS
    )
    found: list[str] = []
    risk = build_dataclass(
        CoinRisk,
        {key: value for key, value in own.items() if key not in _ACCOUNT_RISK_KEYS},
        path=f"{path}.risk",
        problems=found,
    )
    problems.extend(problem + named for problem in found)
    return risk


def _section(entry: Mapping[str, object], key: str) -> object:
    """An entry's section as written; a missing or null one is empty."""
    written = entry.get(key)
    return {} if written is None else written


def _name_of(coin: object) -> str:
    """The coin an entry's problem is about, as the operator wrote it: a list is read by
    index, and the index alone leaves them counting entries to find which coin is wrong."""
    return f"coin {coin[:40]}" if isinstance(coin, str) else "no coin name"


def coins_problems(config: MakerdConfig) -> list[str]:
    """Names, duplicates, the mode, and each coin's quoting and own risk limits: their
    ranges and relations (the ladder against its own position limit), beyond the base's."""
    if not config.coins:
        return []
    problems: list[str] = []
    seen: set[str] = set()
    for index, spec in enumerate(config.coins):
        problem = coin_problem(spec.coin)
        if problem:
            problems.append(f"coins[{index}].coin: {problem}")
        if spec.coin in seen:
            problems.append(f"coins[{index}].coin: {spec.coin} is listed twice")
        seen.add(spec.coin)
    base = set(_per_coin_problems(config))
    for index, spec in enumerate(config.coins):
        risk = spec.risk.over(config.risk)
        alone = dataclasses.replace(
            config, coin=spec.coin, quoting=spec.quoting, risk=risk, coins=()
        )
        # The ladder's limit is named where its value came from: the entry or the section.
        limit_key = "risk.max_position"
        if spec.risk.max_position is not None:
            limit_key = f"coins[{index}].{limit_key}"
        # Its own coin: a lot rule names the coin it judged.
        own = _per_coin_problems(alone, position_limit_key=limit_key)
        named = f" ({_name_of(spec.coin)})"
        problems.extend(f"coins[{index}].{p}{named}" for p in own if p not in base)
    return problems


_PER_COIN_PATHS = ("quoting.", *(f"risk.{key}:" for key in COIN_RISK_KEYS))


def _per_coin_problems(
    config: MakerdConfig, *, position_limit_key: str = "risk.max_position"
) -> list[str]:
    """The problems of the keys a coin may set for itself."""
    relations = relation_problems(config, position_limit_key=position_limit_key)
    return [
        problem
        for problem in bound_problems(config) + relations
        if problem.startswith(_PER_COIN_PATHS)
    ]
