"""End to end: makerd live against the local venue, behind a proxy that mixes more than
10,000 malformed frames into the real WebSocket traffic of both streams.

The proxy (:mod:`tests.hostile_proxy_kit`) passes every real frame and every HTTP request
through unchanged and adds hostile frames built from the latest real frame of the channel.
makerd must stay up, keep quoting within the band of the real mid, and count exactly what
was sent.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.limits import FrameLimits
from tests.faults.kit import FaultVenue, journal_trade_ids
from tests.hostile_proxy_kit import HostileProxy
from tests.processes import open_fds, opened_since
from tests.test_hl_live_e2e import Trader, resting, wait_until

BAND = FrameLimits().price_band_pct / 100


@pytest.fixture(scope="module")
def proxy() -> Iterator[HostileProxy]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=7, tick_interval_s=0.1))
    hostile = HostileProxy(venue.start())
    hostile.start()
    yield hostile
    hostile.stop()
    venue.stop()


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        text = page.read().decode()
    dropped: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("makerd_feed_messages_dropped_total{"):
            labels, value = line.rsplit(" ", 1)
            reason = labels.split('reason="', 1)[1].split('"', 1)[0]
            dropped[reason] = dropped.get(reason, 0.0) + float(value)
    return dropped


def _mid(trader: Trader) -> Decimal:
    book = trader.info({"type": "l2Book", "coin": "BTC"})
    assert isinstance(book, dict)
    bid, ask = (Decimal(side[0]["px"]) for side in book["levels"])
    return (bid + ask) / 2


def test_ten_thousand_malformed_frames_are_counted_by_reason_and_quoting_goes_on(
    tmp_path: Path, proxy: HostileProxy
) -> None:
    trader = Trader(tmp_path, proxy.url)
    makerd = trader.start(tmp_path)
    port = makerd.metrics_port()
    resting(trader, makerd, timeout_s=60)
    worst = Decimal(0)

    def quotes_in_band() -> bool:
        nonlocal worst
        mid = _mid(trader)
        for order in trader.open_orders():
            worst = max(worst, abs(Decimal(str(order["limitPx"])) / mid - 1))
        return proxy.done

    wait_until(quotes_in_band, timeout_s=240, step_s=0.2, process=makerd)
    expected = dict(proxy.expected)
    wait_until(
        lambda: all(_scrape(port).get(r, 0) >= n for r, n in expected.items()),
        timeout_s=120,
        step_s=0.5,
        process=makerd,
    )
    dropped = _scrape(port)
    before = {int(str(order["oid"])) for order in trader.open_orders()}
    wait_until(
        lambda: bool({int(str(o["oid"])) for o in trader.open_orders()} - before),
        timeout_s=60,
        process=makerd,
    )

    print(f"\nsent by kind: {dict(proxy.sent)}")
    print(f"expected by reason: {expected}")
    print(f"counted by reason: { {r: n for r, n in dropped.items() if n} }")
    print(f"worst order distance from the real mid: {worst * 100:.3f} %")
    assert proxy.failures == []
    assert makerd.proc.poll() is None, makerd.text
    assert sum(proxy.sent.values()) >= 10_000
    assert {r: dropped.get(r, 0) for r in expected} == expected
    assert dropped.get("handler_error", 0) == 0
    assert worst <= BAND
    assert "Traceback" not in makerd.text
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text[-4000:]
    assert trader.journal_position() == trader.venue_position()
    venue_fills = FaultVenue(proxy.upstream).account(trader.address).trade_ids
    journal = journal_trade_ids(trader.state)
    print(f"fills: venue {len(venue_fills)}, journal {len(journal)}")
    assert sorted(journal) == sorted(venue_fills), "every real fill booked exactly once"


def test_a_stopped_proxy_closes_its_client_session_and_every_socket_it_opened() -> None:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=7, tick_interval_s=0.1))
    upstream = venue.start()
    try:
        before = open_fds()
        hostile = HostileProxy(upstream)
        request = urllib.request.Request(
            hostile.start() + "/info",
            data=json.dumps({"type": "meta"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # the proxy pools upstream
            assert json.loads(answer.read())["universe"]
        hostile.stop()

        assert opened_since(before) == set()
    finally:
        venue.stop()
