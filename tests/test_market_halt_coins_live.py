"""Several coins live: the exchange halts one of them, and only that one stops quoting.

Before, the halted coin's refusals counted toward a rejection storm, and the kill switch
it latched stopped every coin of the account (exit 80) until an operator cleared it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_coins_live import COINS, BasketTrader
from tests.test_hl_live_e2e import fault, wait_until

HALT_S = 10.0
OTHERS = tuple(coin for coin in COINS if coin != "ETH")


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=29, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def test_one_halted_coin_is_held_with_no_orders_while_the_others_quote_on(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BasketTrader(
        tmp_path,
        venue_url,
        hyperliquid={"api_url": venue_url},  # fault drills only against a loopback venue
        risk={"max_position": 2, "market_halt_hold_s": 2.0},
    )
    makerd = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting().values()) >= 2, timeout_s=40, process=makerd)
    pause = threading.Event()

    fault(venue_url, {"halt_s": HALT_S, "coin": "ETH"})
    fault(venue_url, {"jump_pct": 0.3})  # every coin's ladder has to move
    wait_until(lambda: trader.resting()["ETH"] == 0, timeout_s=HALT_S / 2, process=makerd)
    for _ in range(2):  # the market goes on moving under the halt
        pause.wait(HALT_S / 4)
        fault(venue_url, {"jump_pct": 0.2})
        assert trader.resting()["ETH"] == 0, "an order of the halted coin rests"
        wait_until(
            lambda: min(trader.resting()[coin] for coin in OTHERS) >= 2,
            timeout_s=HALT_S / 4,
            process=makerd,
        )
    wait_until(lambda: trader.resting()["ETH"] >= 2, timeout_s=HALT_S + 20, process=makerd)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text[-3000:]
    assert "event=kill_switch_tripped" not in makerd.text
    assert "event=market_halted coin=ETH" in makerd.text
    assert all(f"event=market_halted coin={coin}" not in makerd.text for coin in OTHERS)
    assert trader.resting() == dict.fromkeys(COINS, 0)
