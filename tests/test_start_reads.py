"""What a start asks the exchange before any thread runs: each dex's ``meta`` once, and
the same patience in paper mode as in live.

``meta`` weighs 20 of the 1200 an IP may spend a minute, and these reads happen before
the request budget that paces everything else exists. Asked once per coin, a 32-coin
start spent 640 of them, and a restart inside the minute began over the exchange's
limit. The local venue lists every request it received (``/_debug/stamps``).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import eth_account
import pytest

from makerd.config.model import CoinSpec, HyperliquidConfig, MakerdConfig, Mode
from makerd.protocol.clock import WallClock
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.paper import PaperHyperliquidVenue
from makerd.venues.hyperliquid.venue import HyperliquidVenue
from tests.start_failure_kit import requests_received

EVERY_LOCAL_COIN = ("BTC", "ETH", "DOGE", "xyz:TSLA")


@pytest.fixture
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=5, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def _config(mode: Mode, api_url: str, *, start_retry_s: float = 0.0) -> MakerdConfig:
    base = MakerdConfig(mode=mode, coins=tuple(CoinSpec(coin=c) for c in EVERY_LOCAL_COIN))
    return dataclasses.replace(
        base, hyperliquid=HyperliquidConfig(api_url=api_url, start_retry_s=start_retry_s)
    )


def _info_types(venue_url: str) -> Counter[object]:
    return Counter(r["type"] for r in requests_received(venue_url) if r["path"] == "info")


def test_a_live_start_of_four_coins_on_two_dexes_asks_each_dex_meta_once(venue_url: str) -> None:
    key = eth_account.Account.create().key.hex()
    venue = HyperliquidVenue(
        _config(Mode.LIVE, venue_url), clock=WallClock(), env={"MAKERD_PRIVATE_KEY": key}
    )
    try:
        assert [i.coin for i in venue.instruments] == list(EVERY_LOCAL_COIN)
        asked = _info_types(venue_url)
    finally:
        venue.stop()
    # The main dex's meta for BTC, ETH and DOGE; perpDexs and xyz's meta for xyz:TSLA.
    assert asked["meta"] == 2, asked
    assert asked["perpDexs"] == 1, asked


def test_a_paper_start_asks_the_same_once_and_keeps_every_coin_rules(venue_url: str) -> None:
    venue = PaperHyperliquidVenue(_config(Mode.PAPER, venue_url), clock=WallClock())
    try:
        rules = {i.coin: (i.asset_id, i.sz_decimals) for i in venue.instruments}
        asked = _info_types(venue_url)
    finally:
        venue.stop()
    assert rules == {"BTC": (0, 5), "ETH": (1, 4), "DOGE": (2, 0), "xyz:TSLA": (110_000, 3)}
    assert asked["meta"] == 2, asked


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_paper_mode_waits_for_an_exchange_unreachable_at_start_as_live_does() -> None:
    """Before, paper asked once and gave up (exit 75) where live waited ``start_retry_s``."""
    port = _free_port()
    venue = VenueThread(VenueConfig(port=port, auto_provision=True, seed=5, tick_interval_s=0.1))
    late_start = threading.Timer(1.5, venue.start)
    late_start.start()
    started = time.monotonic()
    try:
        paper = PaperHyperliquidVenue(
            _config(Mode.PAPER, f"http://127.0.0.1:{port}", start_retry_s=30.0),
            clock=WallClock(),
        )
        paper.stop()
    finally:
        late_start.join()
        venue.stop()
    assert time.monotonic() - started >= 1.0, "the listing came from the venue once it was up"
