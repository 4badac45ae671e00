"""Generic validation: build a frozen config dataclass from parsed YAML by reflection.

Every field's annotation says what it accepts (``int``, ``float``, ``bool``, ``str``,
``Decimal``, ``Path``, an ``Enum``, ``X | None`` or a nested dataclass). Problems are
collected as ``path: problem`` lines rather than raised, so one run reports all of them.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from makerd.config.model import ModelParams

T = TypeVar("T")

_REPR_LIMIT = 40


_REJECTED = object()
"""Stands for a value that failed conversion (None is a legitimate value)."""


class _InvalidValueError(Exception):
    """One value failed conversion; the message becomes the problem text."""


def build_dataclass(cls: type[T], data: object, *, path: str, problems: list[str]) -> T:
    """Build ``cls`` from ``data``, appending each problem to ``problems``.

    Missing keys take the field's default; a null section means "all defaults" (a YAML
    section with every key commented out parses as null). A rejected value also falls
    back to its default, so range checks can still run over the rest of the tree: the
    caller must treat any appended problem as fatal. Every field of the tree therefore
    needs a default.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.append(f"{path or '<top level>'}: expected a mapping, got {describe(data)}")
        data = {}
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, raw in data.items():
        key_path = _join(path, str(key))
        if not isinstance(key, str):
            problems.append(f"{key_path}: keys must be text, got {describe(key)}")
        elif key not in known:
            problems.append(f"{key_path}: unknown key{_suggestion(key, known)}")
        else:
            value = _convert(hints[key], raw, key_path, problems)
            if value is not _REJECTED:
                values[key] = value
    return cls(**values)


def describe(value: object) -> str:
    """``str 'abc'``, ``int 3``, ``null``: how a rejected value is shown to the operator."""
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    return f"{type(value).__name__} {text}"


def _convert(annotation: object, raw: object, path: str, problems: list[str]) -> object:
    if _is_optional(annotation):
        if raw is None:
            return None
        annotation = _non_none(annotation)
    if annotation is ModelParams:
        return _to_model_params(raw, path, problems)
    if isinstance(annotation, type) and is_dataclass(annotation):
        return build_dataclass(annotation, raw, path=path, problems=problems)
    try:
        return _scalar_converter(annotation)(raw)
    except _InvalidValueError as invalid:
        problems.append(f"{path}: {invalid}")
        return _REJECTED


def _scalar_converter(annotation: object) -> Callable[[object], object]:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        enum_type = annotation
        return lambda raw: _to_enum(enum_type, raw)
    converters: dict[object, Callable[[object], object]] = {
        bool: _to_bool,
        int: _to_int,
        float: _to_float,
        Decimal: _to_decimal,
        str: _to_str,
        Path: _to_path,
    }
    if annotation not in converters:
        raise TypeError(f"config schema cannot validate fields of type {annotation!r}")
    return converters[annotation]


def _to_bool(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise _InvalidValueError(f"expected true or false, got {describe(raw)}")
    return raw


def _to_int(raw: object) -> int:
    # bool is a subclass of int in Python; `levels: true` is a mistake, not 1.
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _InvalidValueError(f"expected an integer, got {describe(raw)}")
    return raw


def _to_float(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _InvalidValueError(
            f"expected a number, got {describe(raw)}{_quoted_number_hint(raw)}"
        )
    if not math.isfinite(raw):
        raise _InvalidValueError(f"expected a finite number, got {describe(raw)}")
    return float(raw)


def _to_decimal(raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _InvalidValueError(
            f"expected a decimal number, got {describe(raw)}{_quoted_number_hint(raw)}"
        )
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _InvalidValueError(f"expected a finite decimal number, got {describe(raw)}")
    # str() gives the shortest text that round-trips, so 0.1 becomes Decimal("0.1"),
    # not the binary float's 0.1000000000000000055...
    return Decimal(str(raw))


def _to_str(raw: object) -> str:
    if not isinstance(raw, str):
        raise _InvalidValueError(f"expected text, got {describe(raw)}")
    return raw


def _to_path(raw: object) -> Path:
    if not isinstance(raw, str) or not raw:
        raise _InvalidValueError(f"expected a non-empty path, got {describe(raw)}")
    return Path(raw)


def _to_enum(enum_type: type[Enum], raw: object) -> Enum:
    for member in enum_type:
        if member.value == raw:
            return member
    allowed = ", ".join(str(member.value) for member in enum_type)
    raise _InvalidValueError(f"must be one of {allowed}, got {_describe_choice(raw)}")


def _describe_choice(value: object) -> str:
    """A rejected choice: ``'x'`` for text (the type is obvious), ``int 3`` otherwise."""
    return repr(value) if isinstance(value, str) else describe(value)


def _quoted_number_hint(raw: object) -> str:
    if not isinstance(raw, str):
        return ""
    try:
        Decimal(raw)
    except InvalidOperation:
        return ""
    # PyYAML follows YAML 1.1: 1e-5 (no dot) and quoted numbers are read as text.
    return " (YAML read it as text: remove quotes, and write exponents with a dot, 1.0e-5)"


def _is_optional(annotation: object) -> bool:
    return isinstance(annotation, types.UnionType) and type(None) in typing.get_args(annotation)


def _non_none(annotation: object) -> object:
    remaining = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(remaining) != 1:
        raise TypeError(f"config schema supports only `X | None` unions, got {annotation!r}")
    return remaining[0]


def _suggestion(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known keys: {', '.join(known)})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _to_model_params(raw: object, path: str, problems: list[str]) -> object:
    """A flat mapping of names to numbers or words; the model checks meaning and range."""
    if raw is None:
        return ModelParams()
    if not isinstance(raw, dict):
        problems.append(
            f"{path}: expected a mapping of parameter names to values, got {describe(raw)}"
        )
        return _REJECTED
    items: list[tuple[str, float | str]] = []
    for key, value in raw.items():
        if not isinstance(key, str):
            problems.append(f"{path}: parameter names must be text, got {describe(key)}")
        elif isinstance(value, bool) or not isinstance(value, int | float | str):
            problems.append(f"{path}.{key}: expected a number or a word, got {describe(value)}")
        else:
            items.append((key, float(value) if isinstance(value, int | float) else value))
    return ModelParams(items=tuple(sorted(items)))
