"""docs/config.md names every config key with the default the model gives it.

An operator reads the page to learn what a key does when left out; a key added to the
model without a line, or a default changed without the page, would tell them something
false. The packaged sim.yaml says it writes out every key with its default: held to that too.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from decimal import Decimal
from enum import Enum
from pathlib import Path

import yaml

from makerd.config.bounds import BOUNDS
from makerd.config.model import MakerdConfig, ModelParams

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "config.md"
SIM_YAML = ROOT / "config" / "sim.yaml"
ROW = re.compile(r"^\| `(?P<key>[a-z_.]+)` \| `(?P<default>[^`]*)` \| (?P<values>.*) \|$")


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


def _documented() -> dict[str, tuple[str, str]]:
    """The "Every key" table: key -> (default as written, values column)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in DOC.read_text("utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match["key"]] = (match["default"], match["values"])
    return rows


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
    documented = _documented()

    assert sorted(set(DEFAULTS) - set(documented)) == []
    assert sorted(set(documented) - set(DEFAULTS)) == []


def test_each_documented_default_is_the_models() -> None:
    documented = _documented()

    wrong = {
        key: (written, _as_yaml(DEFAULTS[key]))
        for key, (written, _) in documented.items()
        if key in DEFAULTS and not _same(yaml.safe_load(written), DEFAULTS[key])
    }

    assert wrong == {}


def test_each_numeric_keys_documented_range_is_the_enforced_one() -> None:
    documented = _documented()

    wrong = {
        key: (documented[key][1], bound.describe())
        for key, bound in BOUNDS.items()
        if documented[key][1] != bound.describe()
    }

    assert wrong == {}


def test_each_enum_keys_line_lists_exactly_its_choices() -> None:
    documented = _documented()
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
