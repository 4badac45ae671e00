"""Build a quoting model from its name and a flat mapping of parameters.

Each model's parameters are its own frozen dataclass (the model *is* its parameter set);
nested parameter groups (:class:`~quoting.skew.InventorySkew`) are flattened, so a config
says ``size_skew: 0.5`` rather than ``skew: {size_skew: 0.5}``. The book-signal keys of
:class:`~quoting.signals.BookSignal` are accepted by every model and wrap it in a
:class:`~quoting.signals.SignalAdjustedModel`; every model is wrapped in a
:class:`~quoting.markout.WidenedModel` (a no-op while ``spread_widening`` is 1).

Numbers may arrive as int, float or Decimal (the typed config uses Decimal); enums as
their string value. Every problem is reported at once, one ``parameter: problem`` line each.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeGuard, get_type_hints

from makerd.config.extensions import register_quoting_model
from makerd.quoting.avellaneda_stoikov import AvellanedaStoikovModel
from makerd.quoting.base import QuoteModel
from makerd.quoting.glft import GlftModel
from makerd.quoting.ladder import GeometricLadder, GridLadder, LinearLadder
from makerd.quoting.markout import WidenedModel
from makerd.quoting.signals import BookSignal, SignalAdjustedModel
from makerd.quoting.symmetric import SymmetricLadder

_MODELS: Final[Mapping[str, type[Any]]] = {
    "symmetric": SymmetricLadder,
    "avellaneda_stoikov": AvellanedaStoikovModel,
    "glft": GlftModel,
    "geometric_ladder": GeometricLadder,
    "linear_ladder": LinearLadder,
    "grid": GridLadder,
}
MODEL_NAMES: Final[tuple[str, ...]] = tuple(_MODELS)
_SIGNAL_KEYS: Final[frozenset[str]] = frozenset(f.name for f in dataclasses.fields(BookSignal))


class _Problems(list[str]):
    def add(self, parameter: str, problem: str) -> None:
        self.append(f"{parameter}: {problem}")


def model_parameters(name: str) -> tuple[str, ...]:
    """Every parameter ``name`` accepts (its own, flattened groups, and the signal keys)."""
    if name not in _MODELS:
        raise ValueError(_unknown_model(name))
    return (*_flat_names(_MODELS[name]), *sorted(_SIGNAL_KEYS))


def build_model(name: str, params: Mapping[str, object]) -> QuoteModel:
    """The model called ``name`` built from ``params``.

    Raises ``ValueError`` with one ``parameter: problem`` line per bad, unknown or missing
    parameter (unknown names come with the nearest valid one).
    """
    if name not in _MODELS:
        raise ValueError(_unknown_model(name))
    model_class = _MODELS[name]
    problems = _Problems()
    known = set(model_parameters(name))
    for key in params:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.add(key, f"unknown parameter for model {name}{hint}")
    model = _construct(model_class, params, problems)
    signal = _construct(BookSignal, params, problems)
    if name == "symmetric" and model is not None:
        _check_symmetric(model, problems)
    if problems or model is None or signal is None:
        raise ValueError("\n".join(problems))
    inner: QuoteModel = (
        SignalAdjustedModel(inner=model, signal=signal) if signal.is_active else model
    )
    return WidenedModel(inner=inner)


def _construct(cls: type[Any], params: Mapping[str, object], problems: _Problems) -> Any:
    """An instance of dataclass ``cls`` from the flat ``params``, or None after problems."""
    hints = get_type_hints(cls)
    values: dict[str, object] = {}
    before = len(problems)
    for spec in dataclasses.fields(cls):
        hint = hints[spec.name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            if any(key in params for key in _flat_names(hint)):
                values[spec.name] = _construct(hint, params, problems)
            continue
        if spec.name in params:
            values[spec.name] = _coerce(spec.name, params[spec.name], hint, problems)
        elif _is_required(spec):
            problems.add(spec.name, f"required by {cls.__name__}")
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except ValueError as error:  # __post_init__ names the parameter: "<name>: <problem>"
        problems.append(str(error))
        return None


def _coerce(name: str, value: object, hint: object, problems: _Problems) -> object:
    """``value`` as the annotated type, or None after recording why it cannot be."""
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _coerce_enum(name, value, hint, problems)
    if _is_number(value) and math.isfinite(float(value)):
        if hint is float:
            return float(value)
        if hint is int and value == int(value):
            return int(value)
    if hint is bool and isinstance(value, bool):
        return value
    expected: dict[object, str] = {float: "a finite number", int: "a whole number"}
    problems.add(name, f"must be {expected.get(hint, 'true or false')}, got {value!r}")
    return None


def _is_number(value: object) -> TypeGuard[int | float | Decimal]:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _coerce_enum(name: str, value: object, hint: type[Enum], problems: _Problems) -> object:
    if isinstance(value, hint):
        return value
    choices = {str(member.value): member for member in hint}
    if isinstance(value, str) and value.lower() in choices:
        return choices[value.lower()]
    problems.add(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return None


def _flat_names(cls: type[Any]) -> tuple[str, ...]:
    hints = get_type_hints(cls)
    names: list[str] = []
    for spec in dataclasses.fields(cls):
        hint = hints[spec.name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            names.extend(_flat_names(hint))
        else:
            names.append(spec.name)
    return tuple(names)


def _is_required(spec: dataclasses.Field[Any]) -> bool:
    return spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING


def _check_symmetric(model: SymmetricLadder, problems: _Problems) -> None:
    """SymmetricLadder predates these checks and does not validate itself."""
    if model.levels < 1:
        problems.add("levels", "must be ≥ 1")
    if not model.order_size > 0:
        problems.add("order_size", "must be > 0")
    if model.first_level_bps <= 0:
        problems.add("first_level_bps", "must be > 0")
    if model.level_spacing_bps < 0:
        problems.add("level_spacing_bps", "must be ≥ 0")
    if not 0 < model.size_decay <= 1:
        problems.add("size_decay", "must be within (0, 1]")
    if model.inventory_skew_bps < 0:
        problems.add("inventory_skew_bps", "must be ≥ 0")
    if not 0 < model.one_sided_at <= 1:
        problems.add("one_sided_at", "must be within (0, 1]")


def _unknown_model(name: str) -> str:
    close = difflib.get_close_matches(name, MODEL_NAMES, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"model: unknown quoting model {name!r} (expected one of {', '.join(MODEL_NAMES)}){hint}"


def parameter_problems(name: str, params: Mapping[str, object]) -> list[str]:
    """Every ``parameter: problem`` line of ``params`` for model ``name`` (empty when valid)."""
    try:
        build_model(name, params)
    except ValueError as error:
        return str(error).splitlines()
    return []


def _register_with_config() -> None:
    """config/ never imports quoting/: each model tells it how to judge its parameters."""
    for name in MODEL_NAMES:
        register_quoting_model(name, functools.partial(parameter_problems, name))


_register_with_config()
