"""Two session summaries side by side with their divergence (live against its replay).

``makerd report --session N --replay`` will backtest the recording a live or paper
session made of its own market and hand both ``summary.json`` documents here. This
module only compares and prints; it does not know where the summaries came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

COMPARED = (
    ("fills", "fills"),
    ("volume_usd", "volume (USD)"),
    ("gross_pnl_usd", "gross pnl (USD)"),
    ("net_pnl_usd", "net pnl (USD)"),
    ("fees_usd", "fees (USD)"),
    ("maker_share", "maker share"),
    ("average_queue_wait_s", "average queue wait (s)"),
)
TERMS = ("mode", "fill_model", "latency", "fees_schedule", "sample_length_s")
SHOWN_PLACES = Decimal("0.000001")
"""Unrealized PnL is a quotient carried to 28 digits; a reader needs a millionth of a USD."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Divergence:
    """One figure in both summaries; ``difference`` is the second minus the first."""

    label: str
    first: Decimal | None
    second: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        if self.first is None or self.second is None:
            return None
        return self.second - self.first

    @property
    def relative(self) -> Decimal | None:
        """The difference as a fraction of the first; None when the first is 0 or absent."""
        difference = self.difference
        if difference is None or self.first is None or self.first == 0:
            return None
        return difference / abs(self.first)


def compare_summaries(
    first: Mapping[str, object], second: Mapping[str, object]
) -> list[Divergence]:
    """Every compared figure, absent ones (not in a summary, or "unknown") as None."""
    return [
        Divergence(label=label, first=_number(first.get(key)), second=_number(second.get(key)))
        for key, label in COMPARED
    ]


def format_comparison(
    first: Mapping[str, object],
    second: Mapping[str, object],
    *,
    names: tuple[str, str] = ("live", "replay"),
) -> str:
    """The two summaries' terms, then one aligned row per figure with the divergence."""
    pairs = zip(names, (first, second), strict=True)
    lines = [f"{name}: " + ", ".join(_terms(doc)) for name, doc in pairs]
    rows = [("", names[0], names[1], "divergence")]
    rows += [
        (d.label, _text(d.first), _text(d.second), _divergence(d))
        for d in compare_summaries(first, second)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(cell.ljust(width) for cell, width in cells).rstrip())
    return "\n".join(lines)


def _terms(document: Mapping[str, object]) -> list[str]:
    return [f"{key} {document[key]}" for key in TERMS if key in document]


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None  # "unknown" and other words: not a figure


def _text(value: Decimal | None) -> str:
    return "n/a" if value is None else _shown(value)


def _shown(value: Decimal) -> str:
    if value.as_tuple().exponent < SHOWN_PLACES.as_tuple().exponent:  # type: ignore[operator]
        value = value.quantize(SHOWN_PLACES)
    return format(value, "f")


def _divergence(divergence: Divergence) -> str:
    difference = divergence.difference
    if difference is None:
        return "n/a"
    relative = divergence.relative
    share = "" if relative is None else f" ({relative:+.1%})"
    sign = "+" if difference >= 0 else ""
    return f"{sign}{_shown(difference)}{share}"
