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
    ("net_pnl_before_funding_usd", "net pnl before funding (USD)"),
    ("funding_usd", "funding (USD)"),
    ("fees_usd", "fees (USD)"),
    ("maker_share", "maker share"),
    ("average_queue_wait_s", "average queue wait (s)"),
)
"""The account's figures. A backtest simulates no funding, so a live session's net PnL
(funding included) and its replay's (funding left out) differ by the funding alone: the
row before funding is the one that compares like with like."""
COIN_COMPARED = (
    ("fills", "fills"),
    ("volume_usd", "volume (USD)"),
    ("realized_pnl_usd", "realized pnl (USD)"),
    ("fees_usd", "fees (USD)"),
    ("maker_share", "maker share"),
    ("average_queue_wait_s", "average queue wait (s)"),
)
"""A coin's figures: what its own fills say (its PnL is the realized part; the account's
gross and net come from the account's equity rows)."""
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


Sides = tuple[Mapping[str, object], Mapping[str, object]]
"""One thing's figures in both sessions: the first's, the second's."""


def compare_summaries(
    first: Mapping[str, object],
    second: Mapping[str, object],
    figures: tuple[tuple[str, str], ...] = COMPARED,
) -> list[Divergence]:
    """Every compared figure, absent ones (not in a summary, or "unknown") as None."""
    return [
        Divergence(label=label, first=_number(first.get(key)), second=_number(second.get(key)))
        for key, label in figures
    ]


def format_comparison(
    first: Mapping[str, object],
    second: Mapping[str, object],
    *,
    names: tuple[str, str] = ("live", "replay"),
    coins: Mapping[str, Sides] | None = None,
) -> str:
    """The two summaries' terms, then one aligned row per figure with the divergence;
    ``coins``: each coin's figures in both, under the account's, in the same columns."""
    pairs = zip(names, (first, second), strict=True)
    lines = [f"{name}: " + ", ".join(_terms(doc)) for name, doc in pairs]
    rows = [("", names[0], names[1], "divergence"), *_rows(compare_summaries(first, second))]
    for coin, (coin_first, coin_second) in (coins or {}).items():
        rows.append((coin, "", "", ""))
        compared = compare_summaries(coin_first, coin_second, COIN_COMPARED)
        rows += _rows(compared, indent="  ")
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(cell.ljust(width) for cell, width in cells).rstrip())
    return "\n".join(lines)


def comparison_document(
    first: Mapping[str, object],
    second: Mapping[str, object],
    *,
    names: tuple[str, str] = ("live", "replay"),
    coins: Mapping[str, Sides] | None = None,
) -> dict[str, object]:
    """The printed comparison as a JSON document: the account's rows and each coin's,
    each figure with both sides and the divergence (exact decimal strings; the relative
    divergence a number, null where the first side is 0 or a side lacks the figure)."""
    return {
        "names": list(names),
        "terms": {
            name: {k: doc[k] for k in TERMS if k in doc}
            for name, doc in zip(names, (first, second), strict=True)
        },
        "account": _document_rows(compare_summaries(first, second), names),
        "coins": {
            coin: _document_rows(compare_summaries(*sides, COIN_COMPARED), names)
            for coin, sides in (coins or {}).items()
        },
    }


def _document_rows(
    divergences: list[Divergence], names: tuple[str, str]
) -> list[dict[str, object]]:
    return [
        {
            "figure": d.label,
            names[0]: _exact(d.first),
            names[1]: _exact(d.second),
            "difference": _exact(d.difference),
            "relative": None if d.relative is None else round(float(d.relative), 6),
        }
        for d in divergences
    ]


def _exact(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _rows(divergences: list[Divergence], indent: str = "") -> list[tuple[str, str, str, str]]:
    return [
        (indent + d.label, _text(d.first), _text(d.second), _divergence(d)) for d in divergences
    ]


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
