"""deploy/prometheus/README.md lists each metric label's values as makerd exports them.

Whoever writes an alert or a dashboard query reads that table for the values a label can
take; a value makerd exports but the table lacks is a series nobody alerts on, and one the
table names but makerd never exports is a query that never matches.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from prometheus_client import CollectorRegistry

from makerd.daemon.metrics import Metrics

README = Path(__file__).resolve().parent.parent / "deploy" / "prometheus" / "README.md"
ROW = re.compile(r"^\| `(?P<label>[a-z_]+)` \| (?P<on>[a-z_, ]+) \| (?P<values>.*) \|$")
SAME_AS_KILL_REASONS = "the kill reasons"
UNCHECKED = {"version"}
"""``build_info``'s version is whatever is installed, not a fixed set."""


def _documented() -> dict[tuple[str, str], set[str]]:
    """(metric without ``makerd_`` and ``_total``, label) -> the values the table names."""
    rows = [ROW.match(line) for line in README.read_text("utf-8").splitlines()]
    table = [row for row in rows if row and row["label"] not in UNCHECKED]
    documented: dict[tuple[str, str], set[str]] = {}
    for row in table:
        for metric in row["on"].split(", "):
            documented[(metric, row["label"])] = _values(row["values"])
    kill_reasons = documented[("kill_switch_trips", "reason")]
    for values in documented.values():
        if SAME_AS_KILL_REASONS in values:
            values.discard(SAME_AS_KILL_REASONS)
            values.update(kill_reasons)
    return documented


def _values(cell: str) -> set[str]:
    """``how it ended: normal, hung (why), other`` -> {normal, hung, other}."""
    cell = re.sub(r"\([^)]*\)", "", cell.split(": ", 1)[-1])
    return {value.strip() for value in re.split(r"[,;]", cell)}


def _exported() -> tuple[dict[tuple[str, str], set[str]], dict[str, str]]:
    """Label values of every series a fresh makerd registers, and each family's type."""
    registry = CollectorRegistry()
    Metrics(registry, venue="sim", symbol="BTC", process_collectors=False)
    exported: dict[tuple[str, str], set[str]] = defaultdict(set)
    types = {}
    for family in registry.collect():
        name = family.name.removeprefix("makerd_")
        types[name] = family.type
        for sample in family.samples:
            for label, value in sample.labels.items():
                if label not in {"venue", "symbol", "le"}:
                    exported[(name, label)].add(value)
    return exported, types


def test_every_exported_label_value_is_in_the_table() -> None:
    documented = _documented()
    exported, _ = _exported()

    missing = {
        key: sorted(values - documented.get(key, set()))
        for key, values in exported.items()
        if key[1] not in UNCHECKED and values - documented.get(key, set())
    }

    assert missing == {}


def test_a_counters_documented_values_are_each_a_series_from_the_start() -> None:
    documented = _documented()
    exported, types = _exported()

    never_exported = {
        key: sorted(values - exported[key])
        for key, values in documented.items()
        if types.get(key[0]) == "counter" and values - exported[key]
    }

    assert never_exported == {}


def test_the_table_names_only_metrics_that_exist() -> None:
    _, types = _exported()

    assert sorted({name for name, _ in _documented()} - set(types)) == []
