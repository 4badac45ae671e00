"""The unmodified Hyperliquid SDK trades end to end against the local venue."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import eth_account
import pytest
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
from hyperliquid.utils.types import Cloid

from makerd.venues.hl_local import LiquidityConfig, VenueConfig, VenueThread

ALO: Any = {"limit": {"tif": "Alo"}}
IOC: Any = {"limit": {"tif": "Ioc"}}
GTC: Any = {"limit": {"tif": "Gtc"}}


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    """A still market (no drift, no background takers): the book holds between calls."""
    still = LiquidityConfig(step_volatility_bps=0.0, taker_probability=0.0)
    running = VenueThread(
        VenueConfig(port=0, auto_provision=True, seed=1, tick_interval_s=0.1, liquidity=still)
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def lively_venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=6, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def info(venue: VenueThread) -> Info:
    return Info(venue.url, skip_ws=True)


def touch(info: Info, coin: str = "BTC") -> tuple[Decimal, Decimal]:
    bids, asks = info.l2_snapshot(coin)["levels"]
    return Decimal(bids[0]["px"]), Decimal(asks[0]["px"])


def statuses(response: Any) -> list[Any]:
    assert response["status"] == "ok", response
    return list(response["response"]["data"]["statuses"])


def test_info_reads_the_universe_a_twenty_level_book_mids_and_an_empty_account(
    info: Info, wallet: LocalAccount
) -> None:
    meta = info.meta()
    book = info.l2_snapshot("BTC")
    mids = info.all_mids()
    state = info.user_state(wallet.address)

    universe = {asset["name"]: asset["szDecimals"] for asset in meta["universe"]}
    assert universe == {"BTC": 5, "ETH": 4, "DOGE": 0}
    assert info.name_to_asset("ETH") == 1
    bids, asks = book["levels"]
    assert len(bids) == 20
    assert len(asks) == 20
    assert [Decimal(b["px"]) for b in bids] == sorted(
        (Decimal(b["px"]) for b in bids), reverse=True
    )
    assert Decimal(bids[0]["px"]) < Decimal(asks[0]["px"])
    assert all(isinstance(level["n"], int) and Decimal(level["sz"]) > 0 for level in bids + asks)
    assert Decimal(bids[0]["px"]) < Decimal(mids["BTC"]) < Decimal(asks[0]["px"])
    assert state["marginSummary"]["accountValue"] == "0.0"
    assert state["assetPositions"] == []
    assert info.open_orders(wallet.address) == []


def test_a_post_only_order_rests_is_modified_to_a_new_oid_and_is_cancelled(
    exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    best_bid, _ = touch(info)
    price = float(int(best_bid * Decimal("0.98")))

    placed = statuses(exchange.order("BTC", True, 0.001, price, ALO, cloid=Cloid.from_int(7)))
    oid = placed[0]["resting"]["oid"]
    modified = statuses(exchange.modify_order(oid, "BTC", True, 0.002, price - 10, ALO))
    new_oid = modified[0]["resting"]["oid"]
    open_after_modify = info.open_orders(wallet.address)
    cancelled = statuses(exchange.cancel("BTC", new_oid))

    assert placed[0]["resting"]["cloid"] == "0x00000000000000000000000000000007"
    assert new_oid != oid
    assert [(o["oid"], o["sz"], o["limitPx"]) for o in open_after_modify] == [
        (new_oid, "0.002", f"{price - 10:.1f}")
    ]
    assert cancelled == ["success"]
    assert info.open_orders(wallet.address) == []
    assert info.query_order_by_cloid(wallet.address, Cloid.from_int(7))["order"]["status"] == (
        "canceled"
    )
    assert statuses(exchange.cancel("BTC", new_oid)) == [
        {"error": "Order was never placed, already canceled, or filled."}
    ]


def test_a_crossing_ioc_fills_and_shows_in_user_fills_and_the_position(
    exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    _, best_ask = touch(info)
    limit = float(int(best_ask * Decimal("1.003")))

    result = statuses(exchange.order("BTC", True, 0.01, limit, IOC))
    fills = info.user_fills(wallet.address)
    state = info.user_state(wallet.address)

    assert result[0]["filled"]["totalSz"] == "0.01"
    assert sum(Decimal(f["sz"]) for f in fills) == Decimal("0.01")
    first = fills[-1]
    assert first["crossed"] is True
    assert first["dir"] == "Open Long"
    assert first["startPosition"] == "0.0"
    assert Decimal(first["fee"]) == (
        Decimal(first["px"]) * Decimal(first["sz"]) * Decimal("0.00045")
    ).quantize(Decimal("0.000001"))
    assert {"tid", "hash", "oid", "closedPnl", "time", "feeToken"} <= first.keys()
    position = state["assetPositions"][0]["position"]
    assert (position["coin"], position["szi"]) == ("BTC", "0.01")


def test_orders_breaking_the_exchange_rules_get_the_exchange_texts(
    exchange: Exchange, info: Info
) -> None:
    best_bid, best_ask = touch(info)
    orders: Any = [
        {"coin": "BTC", "is_buy": True, "sz": 0.001, "limit_px": float(best_bid) - 0.5,
         "order_type": GTC, "reduce_only": False},
        {"coin": "BTC", "is_buy": True, "sz": 0.00001, "limit_px": float(best_bid),
         "order_type": GTC, "reduce_only": False},
        {"coin": "BTC", "is_buy": True, "sz": 0.001, "limit_px": float(best_ask),
         "order_type": ALO, "reduce_only": False},
        {"coin": "BTC", "is_buy": False, "sz": 0.001, "limit_px": float(best_ask),
         "order_type": GTC, "reduce_only": True},
    ]  # fmt: skip

    result = statuses(exchange.bulk_orders(orders))

    assert result[0] == {"error": "Price must be divisible by tick size. asset=0"}
    assert result[1] == {"error": "Order must have minimum value of $10. asset=0"}
    assert result[2]["error"].startswith("Post only order would have immediately matched, bbo was ")
    assert result[2]["error"].endswith(f"@{best_ask.normalize():f}. asset=0")
    assert result[3] == {"error": "Reduce only order would increase position. asset=0"}


def test_an_unmatched_ioc_an_order_beyond_the_margin_and_self_trades_are_refused(
    exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    best_bid, best_ask = touch(info)
    own_ask = float(best_ask - 1)
    resting = statuses(exchange.order("BTC", False, 0.001, own_ask, ALO, cloid=Cloid.from_int(9)))

    unmatched = statuses(exchange.order("BTC", True, 0.001, float(best_bid), IOC))
    too_big = statuses(exchange.order("BTC", True, 300, float(best_bid), GTC))
    crossing_self = statuses(exchange.order("BTC", True, 0.001, float(best_ask), IOC))
    own = info.query_order_by_oid(wallet.address, resting[0]["resting"]["oid"])

    assert unmatched == [
        {"error": "Order could not immediately match against any resting orders. asset=0"}
    ]
    assert too_big == [{"error": "Insufficient margin to place order. asset=0"}]
    assert Decimal(crossing_self[0]["filled"]["avgPx"]) == best_ask
    assert own["order"]["status"] == "selfTradeCanceled"


def test_cancel_by_cloid_and_leverage_updates_are_accepted(
    exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    best_bid, _ = touch(info, "ETH")
    price = float((best_bid * Decimal("0.99")).quantize(Decimal("0.1")))
    exchange.order("ETH", True, 0.01, price, ALO, cloid=Cloid.from_int(11))

    cancelled = exchange.cancel_by_cloid("ETH", Cloid.from_int(11))
    leverage = exchange.update_leverage(5, "ETH")
    too_much = exchange.update_leverage(51, "ETH")

    assert statuses(cancelled) == ["success"]
    assert info.open_orders(wallet.address) == []
    assert leverage == {"status": "ok", "response": {"type": "default"}}
    assert too_much == {"status": "err", "response": "Invalid leverage value"}


def _signed_order(wallet: LocalAccount, price: str, nonce: int) -> dict[str, Any]:
    action = {
        "type": "order",
        "orders": [{"a": 0, "b": True, "p": price, "s": "0.001", "r": False,
                    "t": {"limit": {"tif": "Alo"}}}],
        "grouping": "na",
    }  # fmt: skip
    signature = sign_l1_action(wallet, action, None, nonce, None, False)
    return {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}


def test_a_tampered_signature_is_refused_as_an_unknown_wallet(wallet: LocalAccount) -> None:
    strict = VenueThread(
        VenueConfig(
            port=0,
            seed=2,
            funded_accounts=(wallet.address,),
        )
    )
    url = strict.start()
    try:
        genuine = _signed_order(wallet, "90000", get_timestamp_ms())
        tampered = _signed_order(wallet, "90000", get_timestamp_ms() + 1)
        tampered["action"]["orders"][0]["p"] = "80000"  # signed for 90000, sent for 80000

        genuine_reply = requests.post(f"{url}/exchange", json=genuine, timeout=5).json()
        tampered_reply = requests.post(f"{url}/exchange", json=tampered, timeout=5).json()
    finally:
        strict.stop()

    assert "resting" in genuine_reply["response"]["data"]["statuses"][0]
    assert tampered_reply["status"] == "err"
    assert tampered_reply["response"].startswith("User or API Wallet 0x")
    assert tampered_reply["response"].endswith(" does not exist.")
    assert wallet.address.lower() not in tampered_reply["response"]


def test_a_venue_started_with_defaults_trades_only_for_accounts_it_was_told_to_fund(
    wallet: LocalAccount,
) -> None:
    stranger: LocalAccount = eth_account.Account.create()
    strict = VenueThread(VenueConfig(port=0, seed=2, funded_accounts=(wallet.address,)))
    url = strict.start()
    try:
        funded = _signed_order(wallet, "90000", get_timestamp_ms())
        unknown = _signed_order(stranger, "90000", get_timestamp_ms())
        funded_reply = requests.post(f"{url}/exchange", json=funded, timeout=5).json()
        unknown_reply = requests.post(f"{url}/exchange", json=unknown, timeout=5).json()
    finally:
        strict.stop()

    assert "resting" in funded_reply["response"]["data"]["statuses"][0]
    assert unknown_reply == {
        "status": "err",
        "response": f"User or API Wallet {stranger.address.lower()} does not exist.",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("v", 99), ("v", "27"), ("r", "0x" + "1" * 65), ("s", "not hex"), ("r", 5)],
)
def test_a_malformed_signature_is_refused_before_any_address_is_recovered(
    venue: VenueThread, wallet: LocalAccount, field: str, value: object
) -> None:
    payload = _signed_order(wallet, "90000", get_timestamp_ms())
    payload["signature"][field] = value

    reply = requests.post(f"{venue.url}/exchange", json=payload, timeout=5)

    assert reply.status_code == 422
    assert f"signature: invalid value: {field}" in reply.text


def test_a_reused_nonce_is_refused(venue: VenueThread, wallet: LocalAccount) -> None:
    nonce = get_timestamp_ms()
    payload = _signed_order(wallet, "90000", nonce)

    first = requests.post(f"{venue.url}/exchange", json=payload, timeout=5).json()
    second = requests.post(f"{venue.url}/exchange", json=payload, timeout=5).json()

    assert first["status"] == "ok"
    assert second == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}


def test_an_unknown_info_type_gets_http_422(venue: VenueThread) -> None:
    reply = requests.post(f"{venue.url}/info", json={"type": "l2book"}, timeout=5)

    assert reply.status_code == 422
    assert reply.text.startswith("Failed to deserialize the JSON body into the target type")


def test_a_resting_maker_bid_at_the_touch_is_filled_by_background_takers_within_seconds(
    lively_venue: VenueThread, wallet: LocalAccount
) -> None:
    exchange = Exchange(wallet, lively_venue.url)
    stream = Info(lively_venue.url, skip_ws=False)
    maker_fills: list[dict[str, Any]] = []
    filled = threading.Event()

    def on_fills(message: Any) -> None:
        maker_fills.extend(f for f in message["data"]["fills"] if not f["crossed"])
        if maker_fills:
            filled.set()

    try:
        stream.subscribe({"type": "userFills", "user": wallet.address}, on_fills)
        for _ in range(5):  # the book moves every tick; re-read it if our bid would cross
            best_bid, _ = touch(stream, "DOGE")
            result = statuses(exchange.order("DOGE", True, 100, float(best_bid), ALO))
            if "resting" in result[0]:
                break

        assert filled.wait(timeout=8), "no background taker filled the resting bid"
    finally:
        stream.disconnect_websocket()

    assert maker_fills[0]["coin"] == "DOGE"
    assert maker_fills[0]["dir"] == "Open Long"
    assert Decimal(maker_fills[0]["fee"]) > 0


def test_selling_through_a_long_closes_it_with_realized_pnl_and_opens_a_short(
    exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    best_bid, best_ask = touch(info, "ETH")
    exchange.order("ETH", True, 0.5, float(best_ask), IOC)

    sold = statuses(exchange.order("ETH", False, 1.0, float(best_bid), IOC))
    fills = info.user_fills(wallet.address)
    position = info.user_state(wallet.address)["assetPositions"][0]["position"]

    assert sold[0]["filled"]["totalSz"] == "1.0"
    flip = fills[0]
    assert (flip["dir"], flip["startPosition"], flip["side"]) == ("Long > Short", "0.5", "A")
    assert Decimal(flip["closedPnl"]) == (best_bid - best_ask) * Decimal("0.5")
    assert position["szi"] == "-0.5"
    assert Decimal(position["entryPx"]) == best_bid


def test_a_batch_costs_the_address_budget_one_request_an_item_as_on_the_exchange(
    exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    """The exchange counts a batch of n orders, cancels or modifies as n requests against
    the address's budget (once against the IP's weight): the venue counted one per action,
    and a bench reading its ``userRateLimit`` saw a third of what a ladder spends."""
    best_bid, _ = touch(info)
    bids: Any = [
        {"coin": "BTC", "is_buy": True, "sz": 0.001, "limit_px": float(best_bid - 10 * i),
         "order_type": ALO, "reduce_only": False, "cloid": Cloid.from_int(100 + i)}
        for i in range(1, 4)
    ]  # fmt: skip

    def used() -> int:
        return int(info.user_rate_limit(wallet.address)["nRequestsUsed"])

    placed = statuses(exchange.bulk_orders(bids))
    after_orders = used()
    exchange.noop(get_timestamp_ms())
    after_noop = used()
    oids = [status["resting"]["oid"] for status in placed]
    statuses(exchange.bulk_cancel([{"coin": "BTC", "oid": oid} for oid in oids[:2]]))
    after_cancels = used()

    assert after_orders == 3
    assert after_noop - after_orders == 1
    assert after_cancels - after_noop == 2
