"""Several coins live: makerd killed (SIGKILL) while a taker fills two coins' orders, one
of them the builder dex's, then restarted. Every fill of every coin is booked once, and
each coin's journal position is the venue's."""

from __future__ import annotations

import signal
import sqlite3
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_coins_live import COINS, BasketTrader
from tests.test_hl_live_e2e import fault, wait_until

SWEPT = ("BTC", "xyz:TSLA")


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=29, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


class BookedBasket(BasketTrader):
    """The venue's and the journal's fills and positions, coin by coin, by trade id."""

    def venue_trades(self) -> dict[str, list[str]]:
        fills = self.info({"type": "userFills"})
        assert isinstance(fills, list)
        return {
            coin: sorted(f"{coin}:{f['tid']}" for f in fills if f["coin"] == coin) for coin in COINS
        }

    def journal_trades(self) -> dict[str, list[str]]:
        with sqlite3.connect(self.state / "journal.sqlite") as db:
            rows = list(db.execute("SELECT coin, trade_id FROM fills"))
        return {coin: sorted(str(t) for c, t in rows if c == coin) for coin in COINS}

    def coin_venue_position(self, coin: str) -> Decimal:
        dex = coin.partition(":")[0] if ":" in coin else ""
        state = self.info({"type": "clearinghouseState", "dex": dex})
        assert isinstance(state, dict)
        sizes = [
            p["position"]["szi"] for p in state["assetPositions"] if p["position"]["coin"] == coin
        ]
        return Decimal(sizes[0]) if sizes else Decimal(0)

    def coin_journal_position(self, coin: str) -> Decimal:
        with sqlite3.connect(self.state / "journal.sqlite") as db:
            fills = list(db.execute("SELECT side, size FROM fills WHERE coin = ?", (coin,)))
            adjusted = list(
                db.execute("SELECT size FROM position_adjustments WHERE coin = ?", (coin,))
            )
        booked = sum((Decimal(s) * (1 if side == "B" else -1) for side, s in fills), Decimal(0))
        return booked + sum((Decimal(size) for (size,) in adjusted), Decimal(0))


def test_fills_of_two_coins_made_around_a_sigkill_are_booked_once_after_the_restart(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BookedBasket(tmp_path, venue_url)
    first = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting()[c] for c in SWEPT) >= 2, timeout_s=40, process=first)

    # One coin swept as the process dies, the builder dex's once it is dead.
    fault(venue_url, {"sweep": {"user": trader.address, "side": "buy", "coin": "BTC"}})
    first.signal(signal.SIGKILL)
    first.finish()
    fault(venue_url, {"sweep": {"user": trader.address, "side": "sell", "coin": "xyz:TSLA"}})
    swept = trader.venue_trades()
    assert all(swept[coin] for coin in SWEPT), swept

    second = trader.start(tmp_path)
    wait_until(
        lambda: all(set(swept[c]) <= set(trader.journal_trades()[c]) for c in SWEPT),
        timeout_s=30,
        process=second,
    )
    second.signal(signal.SIGTERM)
    code = second.finish()

    assert code == EXIT_OK, second.text
    journal, venue = trader.journal_trades(), trader.venue_trades()
    for coin in COINS:
        twice = [trade for trade, n in Counter(journal[coin]).items() if n > 1]
        assert twice == [], f"{coin} booked more than once: {twice}"
        assert journal[coin] == venue[coin], coin
        assert trader.coin_journal_position(coin) == trader.coin_venue_position(coin), coin
    with sqlite3.connect(trader.state / "journal.sqlite") as db:
        assert list(db.execute("SELECT coin, size FROM position_adjustments")) == []
