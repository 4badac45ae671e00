"""The local venue's record of an account (``/_debug/account``): what the fault suite and
the soak judge makerd by, so it must count exactly, per account and per coin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import eth_account
import pytest
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange

from makerd.venues.hl_local import VenueConfig, VenueThread
from tests.local_venue_kit import GTC, account_record, an_order, resting_oid


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


def test_the_peak_of_open_orders_is_the_most_resting_at_once_until_reset(
    venue: VenueThread, exchange: Exchange, wallet: LocalAccount
) -> None:
    five: Any = [
        {
            "coin": "BTC",
            "is_buy": True,
            "sz": 0.001,
            "limit_px": 60000.0 + i,
            "order_type": GTC,
            "reduce_only": False,
        }
        for i in range(5)
    ]
    placed = exchange.bulk_orders(five)
    oids = [resting_oid(placed, i) for i in range(5)]
    exchange.bulk_cancel([{"coin": "BTC", "oid": oid} for oid in oids])
    an_order(exchange)
    an_order(exchange)

    record = account_record(venue, wallet.address)
    reset = requests.post(
        f"{venue.url}/_debug/account",
        json={"user": wallet.address, "reset_peak": True},
        timeout=5,
    )
    an_order(exchange)
    after_reset = account_record(venue, wallet.address)

    assert (record["open_orders"], record["peak_open_orders"]) == (2, 5)
    assert record["actions"][0]["orders"] == 5
    assert reset.json() == {"status": "ok", "open_orders": 2, "peak_open_orders": 2}
    assert (after_reset["open_orders"], after_reset["peak_open_orders"]) == (3, 3)


def test_each_coins_peak_of_open_orders_is_its_own_and_a_reset_restarts_them_all(
    venue: VenueThread, exchange: Exchange, wallet: LocalAccount
) -> None:
    def bids(coin: str, size: float, low_px: float, count: int) -> Any:
        orders: Any = [
            {
                "coin": coin,
                "is_buy": True,
                "sz": size,
                "limit_px": low_px + i,
                "order_type": GTC,
                "reduce_only": False,
            }
            for i in range(count)
        ]
        return exchange.bulk_orders(orders)

    btc = bids("BTC", 0.001, 60000.0, 3)
    bids("ETH", 0.01, 2000.0, 2)
    exchange.bulk_cancel([{"coin": "BTC", "oid": resting_oid(btc, i)} for i in range(3)])
    bids("ETH", 0.01, 2100.0, 1)

    record = account_record(venue, wallet.address)
    requests.post(
        f"{venue.url}/_debug/account", json={"user": wallet.address, "reset_peak": True}, timeout=5
    )
    after_reset = account_record(venue, wallet.address)

    listed = {"BTC": 0, "ETH": 0, "DOGE": 0, "xyz:TSLA": 0}
    assert record["peak_open_orders"] == 5  # 3 BTC and 2 ETH, before the BTC cancel
    assert record["peak_open_orders_by_coin"] == {**listed, "BTC": 3, "ETH": 3}
    assert record["open_orders_by_coin"] == {**listed, "ETH": 3}
    assert after_reset["peak_open_orders_by_coin"] == {**listed, "ETH": 3}


def test_the_account_record_refuses_bad_users_and_unknown_accounts(venue: VenueThread) -> None:
    stranger = eth_account.Account.create().address
    url = f"{venue.url}/_debug/account"

    malformed = requests.get(url, params={"user": "0x12"}, timeout=5)
    unknown = requests.get(url, params={"user": stranger}, timeout=5)
    bad_post = requests.post(url, json={"user": stranger, "reset": True}, timeout=5)

    assert malformed.status_code == 400
    assert unknown.status_code == 404
    assert bad_post.status_code == 400
    assert bad_post.json()["problems"] == ["reset: unknown key"]
