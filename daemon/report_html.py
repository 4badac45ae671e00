"""``report.html``: one self-contained page (plots embedded as base64 PNG, no scripts).

It opens with how the figures were made, then the summary table, then the plots. Every
piece of text from the journal is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping

from makerd.daemon.report_summary import JsonValue

PLOT_TITLES = {
    "equity.png": "Equity and drawdown",
    "position.png": "Position against its limit",
    "quotes.png": "Our quotes against the touch",
    "fills.png": "Fills on the price",
}
_STYLE = (
    "body{font-family:sans-serif;max-width:1040px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse}td{padding:2px 12px;border-bottom:1px solid #ddd}"
    "td:first-child{color:#555}img{max-width:100%}"
)


def render_html(
    headline: list[str], summary: Mapping[str, JsonValue], plots: Mapping[str, bytes]
) -> str:
    title = html.escape(headline[0]) if headline else "makerd session report"
    terms = "".join(f"<p>{html.escape(line)}</p>" for line in headline[1:])
    rows = "".join(
        f"<tr><td>{html.escape(key)}</td><td>{html.escape(_text(value))}</td></tr>"
        for key, value in _flatten(summary)
    )
    images = "".join(
        f"<h2>{html.escape(PLOT_TITLES.get(name, name))}</h2>"
        f'<img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}">'
        for name, png in plots.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{title}</h1>{terms}<h2>Summary</h2><table>{rows}</table>{images}"
        "</body></html>\n"
    )


def _flatten(document: Mapping[str, JsonValue], prefix: str = "") -> list[tuple[str, JsonValue]]:
    rows: list[tuple[str, JsonValue]] = []
    for key, value in document.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((prefix + key, value))
    return rows


def _text(value: JsonValue) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
