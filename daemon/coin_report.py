"""A session of several coins, coin by coin: what each did, from its own fills.

The session summary (:mod:`makerd.report`) is the account's: PnL and drawdown from the
equity table, which holds the account's rows when there are several coins. These lines add
what only a coin's own fills say: its count, volume, realized PnL, fees and final position.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.daemon.journal import Journal, JournaledFill


def coin_lines(journal: Journal, session_id: int, coins: tuple[str, ...]) -> str:
    by_coin: dict[str, list[JournaledFill]] = {coin: [] for coin in coins}
    for booked in journal.fills(session_id):
        by_coin.setdefault(booked.fill.coin, []).append(booked)
    width = max(len(coin) for coin in by_coin)
    return "\n".join(f"{coin:<{width}}  {_line(fills)}" for coin, fills in by_coin.items())


def _line(fills: list[JournaledFill]) -> str:
    zero = Decimal(0)
    volume = sum((b.fill.price * b.fill.size for b in fills), zero)
    realized = sum((b.realized_pnl for b in fills), zero)
    fees = sum((b.fill.fee for b in fills), zero)
    position = fills[-1].position_after if fills else zero
    return (
        f"fills={len(fills)} volume={volume:,.2f} USD realized={realized:.2f} USD "
        f"fees={fees:.2f} USD position={position:f}"
    )
