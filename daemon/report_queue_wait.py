"""Average queue wait: how long our maker orders rested at their price before each fill.

For each maker fill of a session, the wait runs from the moment its order came to rest at
the price it filled at to the fill, both on the local clock: the order came to rest when
the venue's acknowledgement of its placement, or of the modify that set that price, reached
makerd (the order's ``open`` row in ``own_orders`` whose price differs from its previous
``open`` row's); the fill when makerd heard of it (``ts_local``). A modify that keeps the
price, or a partial fill, does not restart the wait. Taker fills have no queue and are left
out, and so is a fill whose order has no ``open`` row at its price before it (a session
that did not journal its orders, or a fill heard of before its acknowledgement).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from makerd.daemon.journal import Journal
from makerd.protocol.account import Liquidity, OrderFilled
from makerd.protocol.orders import OrderStatus

QUEUE_WAIT_KEY = "average_queue_wait_s"
NS_PER_S = 1_000_000_000
SHOWN = Decimal("0.001")


def queue_waits_ns(
    statuses: Iterable[tuple[int, str, OrderStatus, Decimal]], fills: Sequence[OrderFilled]
) -> list[int]:
    """Each maker fill's wait (ns) that can be measured, in the fills' order."""
    rested_at: defaultdict[str, list[int]] = defaultdict(list)
    rested_price: defaultdict[str, list[Decimal]] = defaultdict(list)
    for ts, cloid, status, price in statuses:
        prices = rested_price[cloid]
        if status is OrderStatus.OPEN and (not prices or prices[-1] != price):
            rested_at[cloid].append(ts)
            prices.append(price)
    waits: list[int] = []
    for fill in fills:
        if fill.liquidity is not Liquidity.MAKER or fill.cloid is None:
            continue
        times = rested_at.get(fill.cloid, [])
        latest = bisect_right(times, fill.ts_local) - 1
        if latest >= 0 and rested_price[fill.cloid][latest] == fill.price:
            waits.append(fill.ts_local - times[latest])
    return waits


def average_queue_wait(journal: Journal, session_id: int, coin: str | None = None) -> str | None:
    """The session's average queue wait in seconds (to the millisecond), None when no fill
    has one; ``coin``: over that coin's fills only."""
    fills = journal.session_fills(session_id)
    if coin is not None:
        fills = [fill for fill in fills if fill.coin == coin]
    waits = queue_waits_ns(journal.own_orders.statuses(session_id), fills)
    if not waits:
        return None
    average = Decimal(sum(waits)) / len(waits) / NS_PER_S
    return format(average.quantize(SHOWN), "f")
