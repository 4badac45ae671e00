"""What config/ cannot know by itself: which quoting models and actor roles exist.

The config package sits below the actors and the quoting models, so it never imports
them. Instead each registers here what the loader must check: a quoting model its name
and a parameter check, the composition root the actor roles (``faults.*_role`` name one).
A name nobody registered is refused, so a process that forgot to register fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

ParamsCheck = Callable[[Mapping[str, float | str]], list[str]]
"""Returns one ``parameter: problem`` line per problem of a model's parameters."""

BUILT_IN_MODEL = "symmetric"
"""Spelled out in the quoting section itself, so config checks it without a registration."""

_quoting_models: dict[str, ParamsCheck] = {}
_actor_roles: list[str] = []
_coin_roles: list[str] = []


def register_quoting_model(name: str, check: ParamsCheck) -> None:
    """Make ``quoting.model: name`` valid; ``check`` judges its ``quoting.params``."""
    _quoting_models[name] = check


def register_actor_roles(roles: Iterable[str]) -> None:
    """The roles ``faults.crash_role`` and ``faults.hang_role`` may name."""
    for role in roles:
        if role not in _actor_roles:
            _actor_roles.append(role)


def quoting_models() -> tuple[str, ...]:
    """Every model name ``quoting.model`` accepts."""
    return tuple(sorted({BUILT_IN_MODEL, *_quoting_models}))


def params_check(name: str) -> ParamsCheck | None:
    return _quoting_models.get(name)


def actor_roles() -> tuple[str, ...]:
    return tuple(_actor_roles)


def register_coin_roles(roles: Iterable[str]) -> None:
    """The roles that run once per coin: with several coins they are named ``role:COIN``."""
    for role in roles:
        if role not in _coin_roles:
            _coin_roles.append(role)


def role_names(coins: tuple[str, ...]) -> tuple[str, ...]:
    """Every actor's name in a process quoting ``coins`` (bare names for one coin)."""
    if len(coins) < 2:
        return tuple(_actor_roles)
    shared = tuple(role for role in _actor_roles if role not in _coin_roles)
    return shared + tuple(f"{role}:{coin}" for coin in coins for role in _coin_roles)
