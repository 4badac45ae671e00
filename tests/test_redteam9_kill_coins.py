"""Several coins live: makerd killed (SIGKILL) while a taker fills two coins' orders, one
of them the builder dex's, then restarted. Every fill of every coin is booked once, and
each coin's journal position is the venue's."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess
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


def wait_booked(trader: BookedBasket, makerd: MakerdProcess) -> None:
    """Until every fill the venue has made for the account so far is in the journal."""
    made = trader.venue_trades()
    wait_until(
        lambda: all(set(made[c]) <= set(trader.journal_trades()[c]) for c in COINS),
        timeout_s=30,
        process=makerd,
    )


def assert_booked_once_per_coin(trader: BookedBasket, output: str) -> None:
    """Every coin's venue fills in the journal once each (a repeat would show in the
    sorted lists), its position the venue's, and no adjustment hiding a lost fill."""
    journal, venue = trader.journal_trades(), trader.venue_trades()
    for coin in COINS:
        assert journal[coin] == venue[coin], f"{coin}\n{output[-3000:]}"
        assert trader.coin_journal_position(coin) == trader.coin_venue_position(coin), coin
    with sqlite3.connect(trader.state / "journal.sqlite") as db:
        assert list(db.execute("SELECT coin, size FROM position_adjustments")) == []


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
    wait_booked(trader, second)
    second.signal(signal.SIGTERM)
    code = second.finish()

    assert code == EXIT_OK, second.text
    assert_booked_once_per_coin(trader, second.text)


def test_five_sigkills_among_sweeps_of_two_coins_leave_every_fill_booked_once(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BookedBasket(tmp_path, venue_url)
    draw = random.Random(5)  # fixed: the same kills and sweeps every run
    pause = threading.Event()  # never set: timed waits, not sleeps
    for cycle in range(5):
        run = trader.start(tmp_path)
        wait_until(lambda: min(trader.resting().values()) >= 2, timeout_s=40, process=run)
        side = draw.choice(["buy", "sell"])
        for coin in SWEPT:  # the kill lands among the fills and their pushes
            fault(venue_url, {"sweep": {"user": trader.address, "side": side, "coin": coin}})
            pause.wait(draw.random() * 0.3)
        if cycle % 2:
            pause.wait(draw.random() * 0.5)
        run.signal(signal.SIGKILL)
        run.finish()
        down = {"user": trader.address, "side": draw.choice(["buy", "sell"])}
        fault(venue_url, {"sweep": {**down, "coin": draw.choice(SWEPT)}})
    last = trader.start(tmp_path)
    swept = trader.venue_trades()
    wait_booked(trader, last)
    last.signal(signal.SIGTERM)

    assert last.finish() == EXIT_OK, last.text[-3000:]
    assert all(len(swept[coin]) >= 5 for coin in SWEPT), swept
    assert_booked_once_per_coin(trader, last.text)
