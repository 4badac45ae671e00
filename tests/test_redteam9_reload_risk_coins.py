"""Several coins live: a SIGHUP that lowers the per-coin notional limit under one coin's
position makes that coin alone reduce-only, at once; the others keep quoting both sides."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import write_config
from tests.test_coins_live import BasketTrader
from tests.test_hl_live_e2e import fault, wait_until

STATE = r"makerd live BTC,ETH,xyz:TSLA \| .*state=(\S+)"


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=43, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def _sides(trader: BasketTrader, coin: str) -> set[str]:
    dex = coin.partition(":")[0] if ":" in coin else ""
    orders = trader.info({"type": "openOrders", "dex": dex})
    assert isinstance(orders, list)
    return {str(order["side"]) for order in orders if order["coin"] == coin}


def test_a_reload_lowering_the_notional_limit_under_one_coins_position_binds_that_coin_alone(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BasketTrader(tmp_path, venue_url, quoting={"first_level_bps": 30, "levels": 2})
    makerd = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting().values()) >= 2, timeout_s=40, process=makerd)
    fault(venue_url, {"sweep": {"user": trader.address, "side": "buy", "coin": "BTC"}})
    wait_until(lambda: bool(trader.journal_fills("BTC")), timeout_s=20, process=makerd)
    short_usd = sum(size * price for size, price in trader.venue_fills("BTC"))
    assert makerd.wait_for(STATE).group(1) == "normal"

    # Reduce-only from 80 % of the limit: BTC's short is at 90 %, the other coins' quotes
    # (about 30 and 25 USD a level) far below it.
    reloaded = yaml.safe_load(trader.config.read_text())
    reloaded["risk"]["max_position_usd"] = float(round(short_usd / Decimal("0.9"), 2))
    write_config(trader.config, reloaded)
    makerd.signal(signal.SIGHUP)
    makerd.wait_for(r"event=config_reload result=applied")
    states = [makerd.wait_for(STATE, timeout=5).group(1) for _ in range(3)]
    wait_until(lambda: _sides(trader, "BTC") == {"B"}, timeout_s=5, process=makerd)
    others = {coin: _sides(trader, coin) for coin in ("ETH", "xyz:TSLA")}
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text[-3000:]
    assert states[1:] == ["BTC:reduce_only", "BTC:reduce_only"], states
    assert others == {"ETH": {"A", "B"}, "xyz:TSLA": {"A", "B"}}, others
