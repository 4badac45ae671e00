"""A config as the plain mapping its YAML would be: what :func:`parse_config` reads back.

Decimals become numbers, as YAML writes them (the loader refuses quoted ones); a float's
shortest text gives the decimal back exactly for the short figures a config holds, and
one that would not is refused rather than rounded.

A session keeps the config it ran with in the journal (as JSON), so that it can be
replayed later with the same settings. ``parse_config(config_document(c))`` gives ``c``
again. A config holds no secret (keys come from the environment or ``key_file``, which
is a path), so the whole of it may be stored.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path

from makerd.config.model import MakerdConfig, ModelParams

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def config_document(config: MakerdConfig) -> dict[str, JsonValue]:
    """Every field of ``config``, nested sections as mappings; decimals as exact text."""
    return _section(config)


def _section(section: object) -> dict[str, JsonValue]:
    return {field.name: _value(getattr(section, field.name)) for field in fields(section)}  # type: ignore[arg-type]


def _value(value: object) -> JsonValue:
    if isinstance(value, ModelParams):
        return dict(value.items)
    if isinstance(value, tuple):
        # ``coins``: each entry with its whole quoting section, which reads back as is.
        return [_value(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _section(value)
    return _scalar(value)


def _scalar(value: object) -> JsonValue:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a config field of type {type(value).__name__} has no document form")


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(str(number)) != value:
        raise ValueError(f"{value} has no exact float form to store")
    return number
