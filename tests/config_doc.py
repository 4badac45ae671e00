"""The "Every key" table of docs/config.md, as the tests of the config read it."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "config.md"
ROW = re.compile(r"^\| `(?P<key>[a-z_.]+)` \| `(?P<default>[^`]*)` \| (?P<values>.*) \|$")


def documented_keys() -> dict[str, tuple[str, str]]:
    """Key -> (its default as written, its "may be" column)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in DOC.read_text("utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match["key"]] = (match["default"], match["values"])
    return rows
