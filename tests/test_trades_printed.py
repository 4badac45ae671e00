"""Trades that arrive together reach the book feed and the quoter as one message.

Each public trade used to be its own message to two actors: a frame of ten trades woke
each of them ten times. Now a frame (live, paper) or a venue step (sim, backtest) is one
:class:`TradesPrinted` per coin; the readers still see every trade exactly once, in order.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from makerd.actors.book_feed import BookFeedLogic
from makerd.protocol.control import TimerFired
from makerd.protocol.market import FeedMessageDropped, TradePrinted, TradesPrinted, together
from makerd.protocol.side import Side
from tests.feed_kit import Feed
from tests.kit import T0, S, snapshot
from tests.test_feed_trade_history import at, trades_frame

T_MS = 1_737_900_000_000


def trade(coin: str, number: int, *, ts: int = T0) -> TradePrinted:
    return TradePrinted(
        coin=coin,
        side=Side.BUY,
        price=Decimal(100),
        size=Decimal(1),
        trade_id=f"{coin}:{number}",
        ts_exchange=ts,
        ts_local=ts,
    )


def test_a_frame_of_three_trades_is_one_message_carrying_the_three_in_order() -> None:
    feed = Feed()

    events = feed.send(trades_frame((T_MS, 1), (T_MS + 1, 2), (T_MS + 2, 3)), at(50))

    assert [type(event) for event in events] == [TradesPrinted]
    (printed,) = events
    assert isinstance(printed, TradesPrinted)
    assert [t.trade_id for t in printed.trades] == ["BTC:1", "BTC:2", "BTC:3"]


EVENTS = st.lists(
    st.one_of(
        st.builds(trade, st.sampled_from(["BTC", "ETH"]), st.integers(0, 10**6)),
        st.builds(TimerFired, ts_local=st.integers(0, 10)),
    ),
    max_size=30,
)


@given(EVENTS)
def test_every_trade_is_passed_on_once_in_its_place_and_each_message_is_one_coin(
    events: list[object],
) -> None:
    grouped = together(events)

    unpacked = [
        item
        for event in grouped
        for item in (event.trades if isinstance(event, TradesPrinted) else (event,))
    ]
    assert unpacked == events
    for event in grouped:
        if isinstance(event, TradesPrinted):
            assert event.trades
            assert {t.coin for t in event.trades} == {event.coin}


def test_the_book_feed_keeps_the_newest_trade_of_a_message_and_drops_a_strangers() -> None:
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=5 * S)
    book_feed.handle(snapshot("99", "101", ts=T0))
    printed = TradesPrinted(
        coin="BTC",
        trades=(trade("BTC", 1, ts=T0 + 4 * S), trade("ETH", 2), trade("BTC", 3, ts=T0 + S)),
        ts_local=T0 + 4 * S,
    )

    out = book_feed.handle(printed)
    # A book of a block older than the newest trade seen: reordered after a reconnect.
    older = book_feed.handle(snapshot("99", "101", ts=T0 + 2 * S))

    assert [d.reason for d in out if isinstance(d, FeedMessageDropped)] == ["wrong_coin"]
    assert [d.reason for d in older if isinstance(d, FeedMessageDropped)] == ["out_of_order"]
