"""Each coin's figures of a session of several coins, as the live/replay comparison sets
them side by side: count, volume, realized PnL and fees of its own fills, its maker share
and its average queue wait.

The session summary is the account's (its PnL comes from the account's equity rows); what
is a coin's own is what its fills say, so these are the figures compared coin by coin.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.daemon.journal import Journal, JournaledFill
from makerd.daemon.report_queue_wait import QUEUE_WAIT_KEY, average_queue_wait
from makerd.daemon.report_summary import JsonValue
from makerd.protocol.account import Liquidity


def coin_documents(
    journal: Journal, session_id: int, coins: tuple[str, ...]
) -> dict[str, dict[str, JsonValue]]:
    """Each of ``coins``' figures in the session, in ``coins``' order (keys as
    :data:`makerd.report_compare.COIN_COMPARED` names them)."""
    by_coin: dict[str, list[JournaledFill]] = {coin: [] for coin in coins}
    for booked in journal.fills(session_id):
        by_coin.setdefault(booked.fill.coin, []).append(booked)
    return {
        coin: {
            **_fill_figures(fills),
            QUEUE_WAIT_KEY: average_queue_wait(journal, session_id, coin),
        }
        for coin, fills in by_coin.items()
    }


def _fill_figures(fills: list[JournaledFill]) -> dict[str, JsonValue]:
    zero = Decimal(0)
    maker = sum(1 for booked in fills if booked.fill.liquidity is Liquidity.MAKER)
    return {
        "fills": len(fills),
        "volume_usd": format(sum((b.fill.price * b.fill.size for b in fills), zero), "f"),
        "realized_pnl_usd": format(sum((b.realized_pnl for b in fills), zero), "f"),
        "fees_usd": format(sum((b.fill.fee for b in fills), zero), "f"),
        "maker_share": round(maker / len(fills), 6) if fills else 0.0,  # as the account's
    }
