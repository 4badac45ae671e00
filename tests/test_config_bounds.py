"""Validation is total: every field has a rule, and the YAML reader has limits."""

from __future__ import annotations

import dataclasses
import os
import re
import time
import typing
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest

from makerd.config import extensions
from makerd.config.bounds import BOUNDS, value_at
from makerd.config.checks import TEXT_FIELDS, is_loopback_host, url_problem
from makerd.config.errors import MAX_REPORTED_PROBLEMS, ConfigError
from makerd.config.loader import load_config, parse_config
from makerd.config.model import MakerdConfig, ModelParams
from makerd.config.yaml_reader import MAX_CONFIG_BYTES, parse_yaml, read_config_text
from makerd.daemon.cli import install_config_checks
from tests.config_doc import documented_keys

install_config_checks()


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, object]]:
    hints = typing.get_type_hints(cls)
    leaves: list[tuple[str, object]] = []
    for spec in dataclasses.fields(cls):
        hint = hints[spec.name]
        path = f"{prefix}{spec.name}"
        if isinstance(hint, type) and dataclasses.is_dataclass(hint) and hint is not ModelParams:
            leaves += _leaves(hint, f"{path}.")
        else:
            leaves.append((path, hint))
    return leaves


def _fully_typed(hint: object) -> bool:
    """bool and enums: the type alone admits only meaningful values."""
    return hint is bool or (isinstance(hint, type) and issubclass(hint, Enum))


def test_every_field_of_the_tree_has_a_range_or_a_meaning_check() -> None:
    unchecked = [
        path
        for path, hint in _leaves(MakerdConfig)
        if path not in BOUNDS and path not in TEXT_FIELDS and not _fully_typed(hint)
    ]

    assert unchecked == []


def test_every_bound_names_a_numeric_field_and_admits_its_default() -> None:
    defaults = MakerdConfig()
    for path, bound in BOUNDS.items():
        value = value_at(defaults, path)
        assert isinstance(value, int | float | Decimal), path
        assert bound.admits(value), path


def test_config_knows_no_model_or_role_it_was_not_told_about() -> None:
    source = Path(extensions.__file__).parent
    imports = [
        line
        for module in source.glob("*.py")
        for line in module.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import ", "from "))
    ]

    assert not [line for line in imports if " actors" in line or " quoting" in line]
    assert "glft" in extensions.quoting_models()
    assert "quoter" in extensions.actor_roles()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8787", None),
        ("https://api.hyperliquid-testnet.xyz", None),
        ("nonsense", "must be a URL starting http:// or https://"),
        ("http://[::1", "is not a valid URL"),
        ("http://:8787", "must name a host"),
        ("http://127.0.0.1:0", "must not use port 0"),
        ("http://127.0.0.1/?x=1", "must not have a query"),
        ("http://a b", "must not contain spaces"),
    ],
)
def test_an_api_url_must_parse_and_use_http(url: str, problem: str | None) -> None:
    found = url_problem(url)

    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts_are_told_apart(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_a_non_loopback_metrics_host_is_accepted_only_when_opted_in() -> None:
    config = parse_config({"metrics": {"host": "0.0.0.0", "allow_non_loopback": True}}, source="t")

    assert config.metrics.host == "0.0.0.0"


def test_an_alias_bomb_is_refused_within_a_fraction_of_a_second() -> None:
    lines = ["coin:", '  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, anchor in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  - &{anchor} [" + ",".join([f"*{previous}"] * 9) + "]")
    started = time.perf_counter()

    with pytest.raises(ConfigError) as refused:
        parse_yaml("\n".join(lines), source="bomb.yaml")

    # Not a timing assertion on speed, a bound on "not thirty seconds": generous on purpose.
    assert time.perf_counter() - started < 10
    assert "expands to more than" in refused.value.problems[0]


def test_ordinary_anchors_and_merge_keys_still_work() -> None:
    text = "base: &b {levels: 2}\nquoting:\n  <<: *b\n  order_size: 0.003\n"

    data = parse_yaml(text, source="t")

    assert data == {"base": {"levels": 2}, "quoting": {"levels": 2, "order_size": 0.003}}


def test_a_file_one_byte_past_the_limit_is_refused_and_one_at_it_is_read(tmp_path: Path) -> None:
    at_limit, past = tmp_path / "at.yaml", tmp_path / "past.yaml"
    at_limit.write_bytes(b"#" * (MAX_CONFIG_BYTES - 1) + b"\n")
    past.write_bytes(b"#" * MAX_CONFIG_BYTES + b"\n")

    assert len(read_config_text(at_limit)) == MAX_CONFIG_BYTES
    with pytest.raises(ConfigError, match="is larger than"):
        read_config_text(past)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)

    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(fifo)


def test_a_flood_of_problems_is_listed_up_to_a_limit_and_counted_after() -> None:
    error = ConfigError([f"k{i}: unknown key" for i in range(150)], source="t")

    lines = str(error).splitlines()

    assert len(lines) == MAX_REPORTED_PROBLEMS + 1
    assert lines[-1] == "t: ... and 50 more problems"
    assert len(error.problems) == 150


@dataclasses.dataclass(frozen=True, slots=True)
class StatedRange:
    low: Decimal
    high: Decimal
    low_open: bool
    high_open: bool


_RANGE_FORMS = (
    re.compile(r"from (?P<low>\S+) to (?P<high>\S+)"),
    re.compile(r"greater than (?P<low>\S+) and at most (?P<high>\S+)"),
    re.compile(
        r"(?:within|a fraction in) (?P<left>[\[(])(?P<low>\S+), (?P<high>\S+)(?P<right>[\])])"
    ),
)
_HINT = re.compile(r"(?: \(.*\))?")
"""What may follow a range: what a typical mistake looks like."""


def _stated_range(text: str) -> StatedRange | None:
    """The range a "may be" cell, or a refusal's "must be", states; None if it states none."""
    for form in _RANGE_FORMS:
        match = form.match(text)
        if match and _HINT.fullmatch(text, match.end()):
            return StatedRange(
                Decimal(match["low"]),
                Decimal(match["high"]),
                low_open=text.startswith("greater than") or match.groupdict().get("left") == "(",
                high_open=match.groupdict().get("right") == ")",
            )
    return None


def _range_refusal(path: str, value: float) -> str | None:
    """The range the loader states when it refuses ``path`` set to ``value`` (None: admitted).

    Only the field's own range counts: an edge may also break a relation to another field
    (``margin_soft_at`` 1 is not below ``margin_hard_at``), which is not this check's business.
    """
    section, _, key = path.rpartition(".")
    try:
        parse_config({section: {key: value}} if section else {key: value}, source="probe")
    except ConfigError as refused:
        prefix = f"{path}: must be "
        stated = [
            problem.removeprefix(prefix).rpartition(", got ")[0]
            for problem in refused.problems
            if problem.startswith(prefix)
        ]
        return next((text for text in stated if _stated_range(text)), None)
    return None


def _probes(path: str, documented: StatedRange) -> dict[float, bool]:
    """Each end of the documented range and a value just past it -> whether it is admitted."""
    is_int = isinstance(value_at(MakerdConfig(), path), int)
    probes: dict[float, bool] = {}
    for end, is_open, outward in (
        (documented.low, documented.low_open, -1),
        (documented.high, documented.high_open, 1),
    ):
        step = Decimal(1) if is_int else max(abs(end), Decimal(1)) / 10**9
        as_typed = int if is_int else float
        probes[as_typed(end)] = not is_open
        probes[as_typed(end + outward * step)] = False
    return probes


def test_the_documented_ranges_are_the_enforced_ones() -> None:
    documented = {
        key: stated
        for key, (_, may_be) in documented_keys().items()
        if (stated := _stated_range(may_be)) is not None
    }
    wrong: dict[str, str] = {}
    for path, stated in documented.items():
        for value, admitted in _probes(path, stated).items():
            refusal = _range_refusal(path, value)
            if admitted and refusal is not None:
                wrong[f"{path}: {value}"] = f"refused: must be {refusal}"
            elif not admitted and (refusal is None or _stated_range(refusal) != stated):
                wrong[f"{path}: {value}"] = "admitted" if refusal is None else f"must be {refusal}"

    assert wrong == {}, "docs/config.md states a range the loader does not enforce"
    assert sorted(set(BOUNDS) - set(documented)) == [], "a bounded field with no documented range"
