"""Red team: a backtest must not fill where the market did not trade.

On every (re)subscription Hyperliquid first sends a ``trades`` message of recent trades:
history, already seen (or missed in the gap), not new flow. The recorder keeps it as
received; the live feed drops every trade not newer than the last it passed on. A
replay that matched them filled a resting order against a trade printed before the
order existed. Hand-written recordings, the real reader and the real paper engine.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from makerd.config.model import PaperConfig
from makerd.daemon.replay import instrument_from_steps
from makerd.protocol import Instrument, OrderFilled
from makerd.venues.hyperliquid.recording import gap_message
from makerd.venues.replay.basket import ReplayBasket
from makerd.venues.replay.recorder_file import RecorderFile
from makerd.venues.replay.venue import ReplayVenue
from tests.replay_kit import MS, T0, l2_book, post_only_bid, write_recorder_file

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
T0_MS = T0 // MS
SECOND = 1000 * MS


def sells(*rows: tuple[int, str, int]) -> dict[str, object]:
    """One ``trades`` message of sells (the aggressor hits bids): (exchange ms, px, tid)."""
    return {
        "channel": "trades",
        "data": [
            {"coin": "BTC", "side": "A", "px": px, "sz": "5", "time": ms, "tid": tid}
            for ms, px, tid in rows
        ],
    }


def reconnect(at: int) -> str:
    return gap_message(from_ns=T0 + SECOND, to_ns=at, reason="closed_error")


def recording(tmp_path: Path, after_reconnect: list[tuple[int, object]]) -> Path:
    """A sell at our future bid's price before we rest there, then a reconnection."""
    return write_recorder_file(
        tmp_path / "BTC_20250126_14.gz",
        [
            (T0, l2_book(T0_MS, "100", "101", size="0.01")),
            (T0 + 100 * MS, sells((T0_MS + 90, "100", 7))),
            (T0 + 5 * SECOND, reconnect(T0 + 5 * SECOND)),
            (T0 + 5 * SECOND + MS, l2_book(T0_MS + 5000, "100", "101", size="0.01")),
            *after_reconnect,
        ],
    )


def fills_of_a_bid_placed_before_the_gap(venue: ReplayVenue | ReplayBasket) -> list[str]:
    venue.advance(T0 + 200 * MS)
    venue.submit(post_only_bid("100", "0.2", at=T0 + 200 * MS), T0 + 200 * MS)
    delivered: list[object] = []
    for ms in range(300, 8000, 100):
        delivered += venue.advance(T0 + ms * MS)
    return [
        f"{e.ts_exchange // MS - T0_MS}ms:{e.size.normalize()}"
        for e in delivered
        if isinstance(e, OrderFilled)
    ]


def one_coin(path: Path) -> ReplayVenue:
    return ReplayVenue(iter(RecorderFile(path, coin="BTC")), BTC, PaperConfig())


def basket(path: Path) -> ReplayBasket:
    eth = Instrument(coin="ETH", asset_id=1, sz_decimals=4)
    events = iter(RecorderFile(path, coin=frozenset({"BTC", "ETH"})))
    return ReplayBasket(events, (BTC, eth), PaperConfig(), coin_of_cloid=lambda _cloid: "BTC")


def test_the_trades_a_resubscription_resends_do_not_fill_an_order_placed_after_them(
    tmp_path: Path,
) -> None:
    path = recording(
        tmp_path,
        # The subscription's history: the sell we saw before the gap, and an older one
        # through our price.
        [(T0 + 5 * SECOND + 2 * MS, sells((T0_MS + 50, "99", 3), (T0_MS + 90, "100", 7)))],
    )
    venue = one_coin(path)

    assert fills_of_a_bid_placed_before_the_gap(venue) == []
    assert venue.replayed["trades"] == 1
    assert venue.replayed["trades_seen_before"] == 2


def test_a_trade_printed_in_the_gap_after_our_bid_rested_fills_it_as_live_would(
    tmp_path: Path,
) -> None:
    path = recording(
        tmp_path,
        [
            # Sent by the resubscription, but newer than any trade seen before the gap:
            # it printed while our bid rested (the live feed passes it on too).
            (T0 + 5 * SECOND + 2 * MS, sells((T0_MS + 90, "100", 7), (T0_MS + 3000, "99", 8))),
        ],
    )
    venue = one_coin(path)

    assert fills_of_a_bid_placed_before_the_gap(venue) == ["3000ms:0.2"]
    assert venue.replayed["trades_seen_before"] == 1


def test_two_trades_of_one_block_time_both_count_but_a_resent_one_does_not(
    tmp_path: Path,
) -> None:
    path = recording(
        tmp_path,
        [
            (T0 + 6 * SECOND, sells((T0_MS + 5990, "100", 9), (T0_MS + 5990, "100", 10))),
            # The same two again (a resubscription right after): the live feed's time rule
            # alone would pass trades of the newest time again.
            (T0 + 7 * SECOND, sells((T0_MS + 5990, "100", 9), (T0_MS + 5990, "100", 10))),
        ],
    )
    venue = one_coin(path)

    assert venue.replayed["trades"] == 0
    fills_of_a_bid_placed_before_the_gap(venue)
    assert venue.replayed["trades"] == 3  # the sell at +90 ms, tids 9 and 10
    assert venue.replayed["trades_seen_before"] == 2


def test_several_coins_keep_history_out_of_matching_the_same_way(tmp_path: Path) -> None:
    path = recording(
        tmp_path,
        [(T0 + 5 * SECOND + 2 * MS, sells((T0_MS + 50, "99", 3), (T0_MS + 90, "100", 7)))],
    )
    venue = basket(path)

    assert fills_of_a_bid_placed_before_the_gap(venue) == []
    assert venue.replayed_by_coin["BTC"]["trades_seen_before"] == 2


def fills_of_a_bid_sent_at_100_ms(path: Path) -> list[OrderFilled]:
    """A post-only bid of 0.2 at 100 sent 100 ms into the recording, replayed for 900 ms."""
    venue = one_coin(path)
    venue.advance(T0 + 100 * MS)
    venue.submit(post_only_bid("100", "0.2", at=T0 + 100 * MS), T0 + 100 * MS)
    delivered: list[object] = []
    for ms in range(200, 1000, 100):
        delivered += venue.advance(T0 + ms * MS)
    return [e for e in delivered if isinstance(e, OrderFilled)]


def test_a_trade_printed_before_our_bid_reached_the_exchange_does_not_fill_it(
    tmp_path: Path,
) -> None:
    # Hyperliquid's messages reach a recorder hundreds of ms after their exchange time
    # (the real excerpt: a median of 423 ms for trades, 474 ms for books). A sell that
    # printed before our bid arrived, but was received after, was matched by the local
    # clock alone: it filled the bid.
    feed_ms = 400
    path = write_recorder_file(
        tmp_path / "BTC_20250126_14.gz",
        [
            (T0, l2_book(T0_MS - feed_ms, "100", "101", size="0.01")),
            # Printed 20 ms after we send (our bid arrives 30 ms after), received 400 ms on.
            (T0 + (120 + feed_ms) * MS, sells((T0_MS + 120, "100", 7))),
            # Printed after our bid arrived: it fills.
            (T0 + (300 + feed_ms) * MS, sells((T0_MS + 300, "100", 8))),
        ],
    )
    fills = fills_of_a_bid_sent_at_100_ms(path)
    assert [(f.ts_exchange // MS - T0_MS, f.size) for f in fills] == [(300, Decimal("0.2"))]


def test_a_book_published_before_our_bid_reached_the_exchange_does_not_fill_it(
    tmp_path: Path,
) -> None:
    feed_ms = 400
    path = write_recorder_file(
        tmp_path / "BTC_20250126_14.gz",
        [
            (T0, l2_book(T0_MS - feed_ms, "100", "101", size="0.01")),
            # The ask came down to our bid 20 ms after we sent it, before it arrived:
            # post-only, it would have been refused there, never filled.
            (T0 + (120 + feed_ms) * MS, l2_book(T0_MS + 120, "99", "100", size="0.01")),
        ],
    )
    assert not fills_of_a_bid_sent_at_100_ms(path)
