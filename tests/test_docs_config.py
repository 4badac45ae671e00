"""docs/config.md names every config key with the default the model gives it.

An operator reads the page to learn what a key does when left out; a key added to the
model without a line, or a default changed without the page, would tell them something
false. The packaged sim.yaml says it writes out every key with its default: held to that too.
The ranges in the same table are held to what the loader refuses by test_config_bounds.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from decimal import Decimal
from enum import Enum
from pathlib import Path

import yaml

from makerd.config.model import MakerdConfig, ModelParams
from tests.config_doc import documented_keys

SIM_YAML = Path(__file__).resolve().parent.parent / "config" / "sim.yaml"


def _defaults(instance: object, prefix: str = "") -> dict[str, object]:
    """Each leaf field's dotted path and its default (nested sections walked into)."""
    hints = typing.get_type_hints(type(instance))
    leaves: dict[str, object] = {}
    for spec in dataclasses.fields(instance):  # type: ignore[arg-type]
        value = getattr(instance, spec.name)
        hint = hints[spec.name]
        path = f"{prefix}{spec.name}"
        if isinstance(hint, type) and dataclasses.is_dataclass(hint) and hint is not ModelParams:
            leaves |= _defaults(value, f"{path}.")
        else:
            leaves[path] = value
    return leaves


def _as_yaml(value: object) -> object:
    """The model's default as YAML would read it back."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, ModelParams):
        return value.as_dict()
    if isinstance(value, tuple):
        return list(value)
    return value


def _same(written: object, default: object) -> bool:
    expected = _as_yaml(default)
    if isinstance(expected, bool) or expected is None:
        return written is expected
    if isinstance(expected, int | float | Decimal):
        return (
            not isinstance(written, bool)
            and isinstance(written, int | float)
            and (Decimal(str(written)) == Decimal(str(expected)))
        )
    return written == expected


def _flatten(mapping: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path != "quoting.params":
            flat |= _flatten(value, f"{path}.")
        else:
            flat[path] = value
    return flat


DEFAULTS = _defaults(MakerdConfig())


def test_every_config_key_has_a_line_and_every_line_a_key() -> None:
    documented = documented_keys()

    assert sorted(set(DEFAULTS) - set(documented)) == []
    assert sorted(set(documented) - set(DEFAULTS)) == []


def test_each_documented_default_is_the_models() -> None:
    documented = documented_keys()

    wrong = {
        key: (written, _as_yaml(DEFAULTS[key]))
        for key, (written, _) in documented.items()
        if key in DEFAULTS and not _same(yaml.safe_load(written), DEFAULTS[key])
    }

    assert wrong == {}


def test_each_enum_keys_line_lists_exactly_its_choices() -> None:
    documented = documented_keys()
    enums = {key: value for key, value in DEFAULTS.items() if isinstance(value, Enum)}

    wrong = {
        key: documented[key][1]
        for key, value in enums.items()
        if re.findall(r"`([a-z_]+)`", documented[key][1]) != [m.value for m in type(value)]
    }

    assert wrong == {}


def test_the_packaged_sim_config_writes_every_key_with_its_default() -> None:
    written = _flatten(yaml.safe_load(SIM_YAML.read_text("utf-8")))

    assert sorted(set(DEFAULTS) ^ set(written)) == []
    assert {key: value for key, value in written.items() if not _same(value, DEFAULTS[key])} == {}
