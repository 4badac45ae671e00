"""``POST /info``: the read-only queries, answered in the exchange's shapes.

Unknown request types get HTTP 422 with the exchange's deserialize text. Queries that
take ``dex`` (``meta``, ``metaAndAssetCtxs``, ``allMids``, ``clearinghouseState``,
``openOrders``, ``frontendOpenOrders``) answer for that perp dex only; without it, for the
main dex, as the exchange does.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from makerd.venues.hl_local.accounts import Account
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.funding import user_funding_json
from makerd.venues.hl_local.universe import wire_decimal
from makerd.venues.hl_local.wire import (
    HttpReply,
    JsonDict,
    deserialize_error,
    frontend_order_json,
    levels_json,
    open_order_json,
)

BOOK_DEPTH = 20
MAX_FILLS = 2000
REQUEST_BUFFER = 10_000


class InfoEndpoint:
    """Answers info requests from the engine's current state."""

    def __init__(self, engine: MatchingEngine, now_ms: Callable[[], int]) -> None:
        self._engine = engine
        self._now_ms = now_ms
        self._handlers: dict[str, Callable[[JsonDict], Any]] = {
            "meta": lambda body: engine.universe.meta_json(self._dex(body)),
            "perpDexs": lambda _: engine.universe.perp_dexs_json(),
            "spotMeta": lambda _: engine.universe.spot_meta_json(),
            "metaAndAssetCtxs": self._meta_and_asset_ctxs,
            "allMids": lambda body: self.all_mids(self._dex(body)),
            "l2Book": self._l2_book,
            "clearinghouseState": self._clearinghouse_state,
            "openOrders": self._open_orders,
            "frontendOpenOrders": self._frontend_open_orders,
            "userFills": self._user_fills,
            "userFillsByTime": self._user_fills_by_time,
            "userFunding": self._user_funding,
            "orderStatus": self._order_status,
            "userRateLimit": self._user_rate_limit,
            "exchangeStatus": lambda _: {"specialStatuses": None, "time": self._now_ms()},
            "perpsAtOpenInterestCap": lambda body: engine.capped_coins(
                self._coins(self._dex(body)), self._now_ms()
            ),
        }

    def handle(self, body: Any) -> HttpReply:
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return deserialize_error("missing field `type`")
        handler = self._handlers.get(body["type"])
        if handler is None:
            return deserialize_error(f"unknown variant `{body['type']}`")
        try:
            return HttpReply.json(handler(body))
        except _BadFieldError as bad:
            return deserialize_error(str(bad))

    def all_mids(self, dex: str = "") -> JsonDict:
        return {coin: wire_decimal(self._engine.mid(coin)) for coin in self._coins(dex)}

    def l2_book(self, coin: str) -> JsonDict:
        bids, asks = self._engine.books[coin].levels(BOOK_DEPTH)
        return {"coin": coin, "time": self._now_ms(), "levels": levels_json(bids, asks)}

    def asset_ctxs(self, dex: str = "") -> list[JsonDict]:
        ctxs = []
        for coin in self._coins(dex):
            mid = wire_decimal(self._engine.mid(coin))
            ctxs.append(
                {
                    "dayNtlVlm": "0.0",
                    "funding": "0.0000125",
                    "impactPxs": [mid, mid],
                    "markPx": mid,
                    "midPx": mid,
                    "openInterest": "0.0",
                    "oraclePx": mid,
                    "premium": "0.0",
                    "prevDayPx": mid,
                    "dayBaseVlm": "0.0",
                }
            )
        return ctxs

    def _coins(self, dex: str) -> list[str]:
        return [perp.coin for perp in self._engine.universe.dex_perps(dex)]

    def _dex(self, body: JsonDict) -> str:
        dex = body.get("dex", "")
        if not isinstance(dex, str):
            raise _BadFieldError("invalid type for `dex`: expected a string")
        if not self._engine.universe.has_dex(dex):
            raise _BadFieldError(f"unknown perp dex `{dex}`")
        return dex

    def _meta_and_asset_ctxs(self, body: JsonDict) -> list[Any]:
        dex = self._dex(body)
        return [self._engine.universe.meta_json(dex), self.asset_ctxs(dex)]

    def _l2_book(self, body: JsonDict) -> JsonDict | None:
        coin = body.get("coin")
        if coin not in self._engine.books:
            return None  # the exchange answers null for an unknown coin
        return self.l2_book(str(coin))

    def _account(self, body: JsonDict) -> Account | None:
        return self._engine.accounts.get(_user(body))

    def _clearinghouse_state(self, body: JsonDict) -> JsonDict:
        account = self._account(body)
        dex_coins = set(self._coins(self._dex(body)))
        marks = self._engine.marks()
        positions: list[JsonDict] = []
        margin_used = notional = Decimal(0)
        value = Decimal(0) if account is None else account.account_value(marks)
        for coin, position in [] if account is None else account.positions.items():
            if position.size == 0 or coin not in dex_coins:
                continue
            perp = self._engine.universe.by_coin(coin)
            max_leverage = 50 if perp is None else perp.instrument.max_leverage
            leverage = account.leverage_for(coin, max_leverage) if account else 1
            position_value = abs(position.size) * marks[coin]
            margin = position_value / leverage
            margin_used += margin
            notional += position_value
            unrealized = position.size * (marks[coin] - position.entry_px)
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": coin,
                        "szi": wire_decimal(position.size),
                        "entryPx": wire_decimal(position.entry_px),
                        "leverage": {"type": "cross", "value": leverage},
                        "liquidationPx": None,
                        "marginUsed": _usd(margin),
                        "maxLeverage": max_leverage,
                        "positionValue": _usd(position_value),
                        "returnOnEquity": _usd(unrealized / margin if margin else Decimal(0)),
                        "unrealizedPnl": _usd(unrealized),
                        "cumFunding": {"allTime": "0.0", "sinceChange": "0.0", "sinceOpen": "0.0"},
                    },
                }
            )
        summary = {
            "accountValue": _usd(value),
            "totalMarginUsed": _usd(margin_used),
            "totalNtlPos": _usd(notional),
            "totalRawUsd": _usd(
                value - sum((p.size * marks[c] for c, p in _items(account)), Decimal(0))
            ),
        }
        return {
            "assetPositions": positions,
            "crossMaintenanceMarginUsed": _usd(margin_used / 2),
            "crossMarginSummary": summary,
            "marginSummary": summary,
            "time": self._now_ms(),
            "withdrawable": _usd(max(Decimal(0), value - margin_used)),
        }

    def _open_orders(self, body: JsonDict) -> list[JsonDict]:
        return [open_order_json(order) for order in self._sorted_open_orders(body)]

    def _frontend_open_orders(self, body: JsonDict) -> list[JsonDict]:
        return [frontend_order_json(order) for order in self._sorted_open_orders(body)]

    def _sorted_open_orders(self, body: JsonDict) -> list[Any]:
        dex_coins = set(self._coins(self._dex(body)))
        orders = [
            order for order in self._engine.open_orders(_user(body)) if order.coin in dex_coins
        ]
        return sorted(orders, key=lambda order: order.oid, reverse=True)

    def _user_fills(self, body: JsonDict) -> list[JsonDict]:
        account = self._account(body)
        return [] if account is None else list(reversed(account.fills[-MAX_FILLS:]))

    def _user_fills_by_time(self, body: JsonDict) -> list[JsonDict]:
        account = self._account(body)
        fills = [] if account is None else account.fills
        return self._by_time(body, fills, "userFillsByTime")[:MAX_FILLS]

    def _user_funding(self, body: JsonDict) -> list[JsonDict]:
        account = self._account(body)
        paid = [] if account is None else account.fundings
        return [user_funding_json(p) for p in self._by_time(body, paid, "userFunding")][:500]

    def _by_time(self, body: JsonDict, items: list[JsonDict], kind: str) -> list[JsonDict]:
        start, end = body.get("startTime"), body.get("endTime")
        if type(start) is not int or (end is not None and type(end) is not int):
            raise _BadFieldError(f"{kind}: `startTime`/`endTime` must be integers")
        last = self._now_ms() if end is None else end
        return [item for item in items if start <= item["time"] <= last]

    def _order_status(self, body: JsonDict) -> JsonDict:
        target = body.get("oid")
        if isinstance(target, str):
            target = target.lower()
        elif type(target) is not int:
            raise _BadFieldError("orderStatus: `oid` must be an integer or a cloid")
        record = self._engine.record(_user(body), target)
        if record is None:
            return {"status": "unknownOid"}
        return {
            "status": "order",
            "order": {
                "order": frontend_order_json(record.order),
                "status": record.status,
                "statusTimestamp": record.status_ms,
            },
        }

    def _user_rate_limit(self, body: JsonDict) -> JsonDict:
        account = self._account(body)
        volume = Decimal(0) if account is None else account.cum_volume
        return {
            "cumVlm": _usd(volume),
            "nRequestsUsed": 0 if account is None else account.n_requests,
            "nRequestsCap": REQUEST_BUFFER + int(volume),
            "nRequestsSurplus": 0,
        }


class _BadFieldError(ValueError):
    """A request field of the wrong type."""


def _user(body: JsonDict) -> str:
    user = body.get("user")
    if not isinstance(user, str):
        raise _BadFieldError("missing field `user`")
    return user.lower()


def _items(account: Account | None) -> list[Any]:
    return [] if account is None else list(account.positions.items())


def _usd(value: Decimal) -> str:
    return wire_decimal(value.quantize(Decimal("0.000001")))
