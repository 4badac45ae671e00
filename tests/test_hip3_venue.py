"""The unmodified Hyperliquid SDK trades a builder-deployed (HIP-3) perp on the local venue.

The venue lists one builder dex, ``xyz``, with ``xyz:TSLA``: the SDK finds it the way it
finds any builder dex's coins (``perpDexs``, then that dex's ``meta``), and what it
places there is kept apart from the main dex, as on the exchange.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import eth_account
import pytest
import requests
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from makerd.protocol.instrument import Instrument
from makerd.venues.hl_local.universe import DEFAULT_DEXES, ListedPerp, Universe
from tests.local_venue_kit import still_venue

ALO: Any = {"limit": {"tif": "Alo"}}
IOC: Any = {"limit": {"tif": "Ioc"}}
TSLA = "xyz:TSLA"
DEXES = ["", "xyz"]
BASE_TAKER_RATE = Decimal("0.00045")


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    """A still market (no drift, no background takers): the book holds between calls."""
    with still_venue(seed=3) as url:
        yield url


@pytest.fixture
def info(venue_url: str) -> Info:
    return Info(venue_url, skip_ws=True, perp_dexs=DEXES)


@pytest.fixture
def exchange(venue_url: str) -> Exchange:
    """A fresh funded account (the venue funds any signer), trading on both dexes."""
    return Exchange(eth_account.Account.create(), venue_url, perp_dexs=DEXES)


def touch(info: Info) -> tuple[Decimal, Decimal]:
    bids, asks = info.l2_snapshot(TSLA)["levels"]
    return Decimal(bids[0]["px"]), Decimal(asks[0]["px"])


def first_status(response: Any) -> Any:
    assert response["status"] == "ok", response
    return response["response"]["data"]["statuses"][0]


def test_the_sdk_resolves_the_builder_dex_coin_at_the_offset_asset_id(info: Info) -> None:
    assert info.perp_dexs()[0] is None
    assert [dex["name"] for dex in info.perp_dexs()[1:]] == ["xyz"]
    assert info.name_to_asset(TSLA) == 110_000
    assert info.name_to_asset("BTC") == 0
    assert [asset["name"] for asset in info.meta(dex="xyz")["universe"]] == [TSLA]
    assert TSLA not in {asset["name"] for asset in info.meta()["universe"]}


def test_an_order_rests_on_the_builder_dex_book_only_and_its_cancel_removes_it(
    info: Info, exchange: Exchange
) -> None:
    address = exchange.wallet.address
    bid, ask = touch(info)
    price = bid + Decimal("0.01")  # inside the spread: a level of its own, at the top
    assert price < ask

    resting = first_status(exchange.order(TSLA, True, 0.2, float(price), ALO))["resting"]
    on_builder_dex = info.open_orders(address, dex="xyz")
    on_main_dex = info.open_orders(address)
    best_bid = info.l2_snapshot(TSLA)["levels"][0][0]
    cancelled = first_status(exchange.cancel(TSLA, resting["oid"]))

    assert [(order["coin"], order["oid"]) for order in on_builder_dex] == [(TSLA, resting["oid"])]
    assert on_main_dex == []
    assert (Decimal(best_bid["px"]), best_bid["sz"], best_bid["n"]) == (price, "0.2", 1)
    assert cancelled == "success"
    assert info.open_orders(address, dex="xyz") == []


def test_a_fill_on_the_builder_dex_pays_its_fee_scale_and_counts_in_its_own_position(
    info: Info, exchange: Exchange
) -> None:
    address = exchange.wallet.address
    _, ask = touch(info)

    filled = first_status(exchange.order(TSLA, True, 0.1, float(ask + 1), IOC))["filled"]
    fill = info.user_fills(address)[0]
    builder_state = info.user_state(address, dex="xyz")
    main_state = info.user_state(address)

    scale = Decimal(1) + Decimal(info.perp_dexs()[1]["deployerFeeScale"])
    assert Decimal(filled["totalSz"]) == Decimal("0.1")
    assert fill["coin"] == TSLA
    assert Decimal(fill["fee"]) == (
        Decimal(fill["px"]) * Decimal(fill["sz"]) * BASE_TAKER_RATE * scale
    ).quantize(Decimal("0.000001"))
    assert scale == 2
    assert [item["position"]["coin"] for item in builder_state["assetPositions"]] == [TSLA]
    assert main_state["assetPositions"] == []


def test_mids_and_contexts_answer_for_the_dex_asked_and_an_unknown_dex_is_refused(
    venue_url: str, info: Info
) -> None:
    main_mids = info.all_mids()
    builder_mids = info.post("/info", {"type": "allMids", "dex": "xyz"})
    meta, ctxs = info.post("/info", {"type": "metaAndAssetCtxs", "dex": "xyz"})
    unknown = requests.post(f"{venue_url}/info", json={"type": "meta", "dex": "nope"}, timeout=5)

    assert TSLA not in main_mids
    assert list(builder_mids) == [TSLA]
    assert len(meta["universe"]) == len(ctxs) == 1
    assert ctxs[0]["midPx"] == builder_mids[TSLA]
    assert unknown.status_code == 422
    assert "nope" in unknown.text


@pytest.mark.parametrize(("coin", "asset_id"), [("xyz:NVDA", 120_000), ("abc:NVDA", 110_000)])
def test_a_listing_that_breaks_the_asset_id_rule_is_refused_at_start(
    coin: str, asset_id: int
) -> None:
    wrong = ListedPerp(
        instrument=Instrument(coin=coin, asset_id=asset_id, sz_decimals=2), start_mid=Decimal(1)
    )

    with pytest.raises(ValueError, match=coin):
        Universe((wrong,), DEFAULT_DEXES)
