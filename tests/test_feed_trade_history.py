"""The live feed passes each public trade on once, however often the exchange resends it.

Every (re)subscription starts with a ``trades`` message of recent trades. A trade of the
newest time already passed on used to pass again: paper mode matched it twice (a resting
order filled twice by one print) and the quoter's trade estimates counted it twice.
"""

from __future__ import annotations

import json

from makerd.protocol.market import TradesPrinted
from tests.feed_kit import Feed

T_MS = 1_737_900_000_000
NS_PER_MS = 1_000_000


def at(ms_after: int) -> int:
    """A local receive time ``ms_after`` after the first trade printed."""
    return (T_MS + ms_after) * NS_PER_MS


def trades_frame(*trades: tuple[int, int]) -> str:
    """A ``trades`` message of BTC sells of 0.01 at 100000, each ``(time ms, tid)``."""
    data = [
        {
            "coin": "BTC",
            "side": "A",
            "px": "100000",
            "sz": "0.01",
            "time": at,
            "tid": tid,
            "hash": "0x" + "00" * 32,
            "users": ["0x" + "11" * 20, "0x" + "22" * 20],
        }
        for at, tid in trades
    ]
    return json.dumps({"channel": "trades", "data": data})


def passed_on(events: list[object]) -> list[str]:
    return [
        trade.trade_id
        for event in events
        if isinstance(event, TradesPrinted)
        for trade in event.trades
    ]


def test_a_resubscription_that_resends_the_newest_trades_passes_none_of_them_again() -> None:
    feed = Feed()
    first = feed.send(trades_frame((T_MS, 1), (T_MS + 40, 2), (T_MS + 40, 3)), at(50))
    # The connection drops and the resubscription sends the recent trades again, then a
    # trade printed in the gap, of the same block time as the newest seen.
    again = feed.send(
        trades_frame((T_MS, 1), (T_MS + 40, 2), (T_MS + 40, 3), (T_MS + 40, 4)), at(3000)
    )

    assert passed_on(first) == ["BTC:1", "BTC:2", "BTC:3"]
    assert passed_on(again) == ["BTC:4"], "only the trade not passed on before is new flow"


def test_trades_of_one_block_time_in_separate_messages_all_pass() -> None:
    feed = Feed()
    events = [
        *feed.send(trades_frame((T_MS, 1)), at(10)),
        *feed.send(trades_frame((T_MS, 2)), at(20)),
        *feed.send(trades_frame((T_MS + 1, 3)), at(30)),
        *feed.send(trades_frame((T_MS, 4)), at(40)),  # older than the newest: history
    ]

    assert passed_on(events) == ["BTC:1", "BTC:2", "BTC:3"]
