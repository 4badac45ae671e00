"""``summary.json``: the report's figures as a JSON document, stating its terms first.

Amounts are exact decimal strings; ratios are numbers. The first keys say how the figures
were made (mode, fill model, latency, fees, sample length) so that no reader sees a PnL
without them. A funding figure the journal does not have is ``"unknown"``, never 0.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.daemon.report_stats import ReportFigures

NS_PER_S = 1_000_000_000
UNKNOWN = "unknown"

JsonValue = str | int | float | None | dict[str, "JsonValue"]


def summary_document(figures: ReportFigures) -> dict[str, JsonValue]:
    settings = figures.settings
    inventory = figures.inventory
    return {
        "mode": figures.mode,
        "fill_model": settings.fill_model,
        "latency": settings.latency,
        "fees_schedule": settings.fees,
        "sample_length_s": round(figures.sample_s, 3),
        "sample_length_days": round(figures.sample_s / 86_400, 4),
        "cut_short_by": figures.cut_short_by,
        "session": figures.session_id,
        "coin": figures.coin,
        "gross_pnl_usd": _amount(figures.gross_pnl_usd),
        "fees_usd": _amount(figures.fees_usd),
        "funding_usd": UNKNOWN if figures.funding_usd is None else _amount(figures.funding_usd),
        "net_pnl_usd": _amount(figures.net_pnl_usd),
        "net_pnl_includes_funding": figures.funding_usd is not None,
        "net_pnl_before_funding_usd": _amount(figures.gross_pnl_usd - figures.fees_usd),
        "fills": figures.fills,
        "maker_fills": figures.maker_fills,
        "maker_share": round(figures.maker_share, 6),
        "volume_usd": _amount(figures.volume_usd),
        "turnover": None if figures.turnover is None else round(float(figures.turnover), 4),
        "max_drawdown_usd": _amount(figures.max_drawdown_usd),
        "position_limit": None
        if figures.position_limit is None
        else _amount(figures.position_limit),
        "coin_limits": settings.coin_limits,
        "time_at_limit_s": round(inventory.time_at_limit_s, 3),
        "time_at_limit_share": round(inventory.time_at_limit_share, 6),
        "inventory": {
            "mean_abs_position": _amount(inventory.mean_abs, places=8),
            "time_weighted_abs_position": _amount(inventory.time_weighted_abs, places=8),
            "max_abs_position": _amount(inventory.max_abs),
        },
        "sharpe_daily": {
            "value": None if figures.sharpe.value is None else round(figures.sharpe.value, 4),
            "days": figures.sharpe.days,
            "note": figures.sharpe.note,
        },
    }


def headline(figures: ReportFigures) -> list[str]:
    """The lines every report opens with: how its figures were made."""
    cut_short = (
        ""
        if figures.cut_short_by is None
        else f", cut short by an unreadable recording: {figures.cut_short_by}"
    )
    return [
        f"session {figures.session_id}: {figures.mode} {figures.coin}, "
        f"{figures.sample_s:.0f} s of data ({figures.sample_s / 86_400:.2f} days){cut_short}",
        f"fill model: {figures.settings.fill_model}",
        f"latency: {figures.settings.latency}",
        f"fees: {figures.settings.fees}",
        *_coin_limits_line(figures),
        "funding: booked payments, in the net PnL"
        if figures.funding_usd is not None
        else "funding: not simulated (left out of the net PnL)",
    ]


def _coin_limits_line(figures: ReportFigures) -> list[str]:
    limits = figures.settings.coin_limits
    return [] if limits is None else [f"position limits: {limits}"]


def _amount(value: Decimal, *, places: int | None = None) -> str:
    """Exact text; ``places`` rounds a quotient (a mean, a ratio) that has no exact form."""
    if places is not None:
        value = round(value, places)
    return format(value, "f")
