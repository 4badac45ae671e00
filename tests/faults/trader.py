"""A trader acting by hand on the account a makerd quotes, through the real SDK.

The trader signs with an agent wallet of the account, approved by the account's key
before makerd starts: its nonces are its own, so its actions never collide with makerd's.
Used by ``tests/faults/test_others_on_the_account.py`` and the soak (``bench/soak.py``).
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal
from typing import Any

import eth_account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from tests.faults.kit import LiveBot

IOC: Any = {"limit": {"tif": "Ioc"}}
GTC: Any = {"limit": {"tif": "Gtc"}}
ALO: Any = {"limit": {"tif": "Alo"}}


class Trader:
    """A trader acting by hand on the bot's account, through an agent wallet it approved
    before makerd started."""

    def __init__(self, bot: LiveBot) -> None:
        master = Exchange(eth_account.Account.from_key(bot.key), bot.venue.url)
        approval, agent_key = master.approve_agent()
        assert approval["status"] == "ok", approval
        agent = eth_account.Account.from_key(agent_key)
        self.exchange = Exchange(agent, bot.venue.url, account_address=bot.address)
        self.info = Info(bot.venue.url, skip_ws=True)
        self.address = bot.address
        universe = self.info.meta()["universe"]
        self._lot = {a["name"]: Decimal(1).scaleb(-int(a["szDecimals"])) for a in universe}

    def worth(self, coin: str, price: Decimal, usd: int = 20) -> Decimal:
        """A size of ``coin`` worth about ``usd`` at ``price``, on the coin's lot."""
        return (Decimal(usd) / price).quantize(self._lot[coin], rounding=ROUND_UP)

    def touch(self, coin: str = "BTC") -> tuple[Decimal, Decimal]:
        bids, asks = self.info.l2_snapshot(coin)["levels"]
        return Decimal(bids[0]["px"]), Decimal(asks[0]["px"])

    def take(self, *, buy: bool, size: Decimal, coin: str = "BTC") -> Decimal:
        """An IOC through the touch by 1 %: the position moves at once; what filled."""
        bid, ask = self.touch(coin)
        limit = ask * Decimal("1.01") if buy else bid * Decimal("0.99")
        answer = self.exchange.order(coin, buy, float(size), _price(limit), IOC)
        return Decimal(answer["response"]["data"]["statuses"][0]["filled"]["totalSz"])

    def rest(self, coin: str, *, buy: bool, away: Decimal = Decimal("0.02")) -> int:
        """A GTC ``away`` behind the touch, worth about $20: it rests; its oid."""
        bid, ask = self.touch(coin)
        price = bid * (1 - away) if buy else ask * (1 + away)
        answer = self.exchange.order(coin, buy, float(self.worth(coin, price)), _price(price), GTC)
        oid: int = answer["response"]["data"]["statuses"][0]["resting"]["oid"]
        return oid

    def at_touch(self, coin: str, *, buy: bool) -> None:
        """A GTC at the touch, worth about $20. The market moves between reading the touch
        and the order's arrival, so it may rest, or trade at once against a touch that
        moved through it: either is a trader's order; a refusal is not."""
        bid, ask = self.touch(coin)
        price = bid if buy else ask
        answer = self.exchange.order(coin, buy, float(self.worth(coin, price)), _price(price), GTC)
        status = answer["response"]["data"]["statuses"][0]
        assert "resting" in status or "filled" in status, answer

    def modify(self, order: dict[str, Any], *, keep_cloid: bool) -> int:
        """Move one of makerd's orders 1 % away at twice its size (by oid, or by cloid
        keeping it); the new leg's oid."""
        cloid = Cloid(order["cloid"])
        buy = order["side"] == "B"
        price = Decimal(order["limitPx"]) * (Decimal("0.99") if buy else Decimal("1.01"))
        answer = self.exchange.modify_order(
            cloid if keep_cloid else order["oid"],
            "BTC",
            buy,
            float(order["sz"]) * 2,
            _price(price),
            ALO,
            cloid=cloid if keep_cloid else None,
        )
        oid: int = answer["response"]["data"]["statuses"][0]["resting"]["oid"]
        return oid

    def resting_oids(self, coin: str) -> list[int]:
        return [o["oid"] for o in self.info.open_orders(self.address) if o["coin"] == coin]

    def makerds_orders(self) -> list[dict[str, Any]]:
        """The BTC orders resting with a client id (the trader's own carry none)."""
        orders = self.info.frontend_open_orders(self.address)
        return [o for o in orders if o["coin"] == "BTC" and o.get("cloid")]

    def resting_cloids(self) -> set[str]:
        return {o["cloid"] for o in self.makerds_orders()}


def _price(price: Decimal) -> float:
    return float(f"{price:.5g}")
