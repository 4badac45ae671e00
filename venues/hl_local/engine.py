"""The exchange core: places, matches, cancels and modifies orders, books every fill.

Everything runs on the venue's event loop thread, so the core holds no locks. What
happened is appended to ``events`` (drained by the WebSocket hub after each action or
tick) and kept in per-user order records for ``orderStatus``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from venues.hl_local.accounts import Account, AccountRegistry
from venues.hl_local.book import SYNTHETIC_USER, Match, OrderBook, RestingOrder
from venues.hl_local.events import OrderUpdated, VenueEvent
from venues.hl_local.fills import FillBooker
from venues.hl_local.rules import OrderRejected, check_order
from venues.hl_local.universe import Universe, wire_decimal
from venues.hl_local.wire import JsonDict, OrderRequest, basic_order_json, with_cloid

MISSING_ORDER = "Order was never placed, already canceled, or filled."
MODIFY_MISSING = "Cannot modify canceled or filled order"
# Closed orders stay queryable (orderStatus) up to this many per user, oldest dropped first.
MAX_CLOSED_RECORDS = 20_000
PRUNE_BATCH = 1_000


@dataclass(slots=True, kw_only=True)
class OrderRecord:
    """The last known status of one of a user's orders."""

    order: RestingOrder
    status: str
    status_ms: int


@dataclass(slots=True)
class _UserOrders:
    records: dict[int, OrderRecord] = field(default_factory=dict)
    by_cloid: dict[str, int] = field(default_factory=dict)
    open: dict[int, RestingOrder] = field(default_factory=dict)


class MatchingEngine:
    """Books of every coin plus the accounts trading on them."""

    def __init__(
        self,
        *,
        universe: Universe,
        accounts: AccountRegistry,
        maker_fee_rate: Decimal = Decimal("0.00015"),
        taker_fee_rate: Decimal = Decimal("0.00045"),
    ) -> None:
        self.universe = universe
        self.accounts = accounts
        self.books = {coin: OrderBook(coin) for coin in universe.coins}
        self.events: list[VenueEvent] = []
        self.now_ms = 0
        self._next_oid = 1_000_000
        self._users: dict[str, _UserOrders] = {}
        self._fills = FillBooker(
            accounts=accounts,
            events=self.events,
            maker_fee_rate=maker_fee_rate,
            taker_fee_rate=taker_fee_rate,
        )
        self.last_trade_px: dict[str, Decimal] = {
            perp.coin: perp.start_mid for perp in universe.perps
        }

    # ----- market state -------------------------------------------------------------

    def mid(self, coin: str) -> Decimal:
        """Book mid, falling back to the last trade when a side is empty (as allMids does)."""
        book = self.books[coin]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return self.last_trade_px[coin]

    def marks(self) -> dict[str, Decimal]:
        return {coin: self.mid(coin) for coin in self.books}

    def open_orders(self, user: str) -> list[RestingOrder]:
        orders = self._users.get(user.lower())
        return [] if orders is None else list(orders.open.values())

    def record(self, user: str, oid_or_cloid: int | str) -> OrderRecord | None:
        orders = self._users.get(user.lower())
        if orders is None:
            return None
        oid = orders.by_cloid.get(oid_or_cloid) if isinstance(oid_or_cloid, str) else oid_or_cloid
        return None if oid is None else orders.records.get(oid)

    # ----- user actions -------------------------------------------------------------

    def place(self, account: Account, request: OrderRequest) -> JsonDict | str:
        """Validate, match and rest one order; return its status for the action response."""
        perp = self.universe.by_asset(request.asset)
        if perp is None:
            return {"error": f"Order has invalid asset. asset={request.asset}"}
        book = self.books[perp.coin]
        try:
            size = check_order(
                request=request,
                perp=perp,
                account=account,
                book=book,
                marks=self.marks(),
                open_orders=self.open_orders(account.address),
            )
        except OrderRejected as rejection:
            return {"error": f"{rejection} asset={request.asset}"}
        order = RestingOrder(
            oid=self._new_oid(),
            user=account.address,
            coin=perp.coin,
            is_buy=request.is_buy,
            limit_px=request.price,
            remaining=size,
            orig_size=size,
            timestamp_ms=self.now_ms,
            cloid=request.cloid,
            reduce_only=request.reduce_only,
            tif=request.tif,
        )
        return self._execute(order, book, asset=request.asset)

    def cancel(self, account: Account, asset: int, oid_or_cloid: int | str) -> JsonDict | str:
        """Cancel one of the account's resting orders."""
        perp = self.universe.by_asset(asset)
        record = self.record(account.address, oid_or_cloid)
        if perp is None or record is None or record.status != "open":
            return {"error": MISSING_ORDER}
        if record.order.coin != perp.coin:
            return {"error": MISSING_ORDER}
        self._remove_resting(record.order, status="canceled")
        return "success"

    def modify(self, account: Account, oid_or_cloid: int | str, request: OrderRequest) -> JsonDict:
        """Replace a resting order by a new one (which gets a new oid)."""
        record = self.record(account.address, oid_or_cloid)
        if record is None or record.status != "open":
            return {"error": MODIFY_MISSING}
        self._remove_resting(record.order, status="canceled")
        status = self.place(account, request)
        return status if isinstance(status, dict) else {"error": status}

    def cancel_all(self, user: str, *, status: str) -> int:
        """Cancel every resting order of ``user`` (the dead-man switch); return how many."""
        orders = self.open_orders(user)
        for order in orders:
            self._remove_resting(order, status=status)
        return len(orders)

    def run_scheduled_cancels(self) -> None:
        for account in self.accounts.all():
            due = account.schedule_cancel_ms
            if due is not None and due <= self.now_ms:
                account.schedule_cancel_ms = None
                self.cancel_all(account.address, status="scheduledCancel")

    # ----- background liquidity -----------------------------------------------------

    def rest_synthetic(self, coin: str, *, is_buy: bool, price: Decimal, size: Decimal) -> None:
        order = RestingOrder(
            oid=self._new_oid(),
            user=SYNTHETIC_USER,
            coin=coin,
            is_buy=is_buy,
            limit_px=price,
            remaining=size,
            orig_size=size,
            timestamp_ms=self.now_ms,
        )
        self.books[coin].add(order)

    def clear_synthetic(self, coin: str) -> None:
        book = self.books[coin]
        for order in book.orders():
            if order.user == SYNTHETIC_USER:
                book.remove(order.oid)

    def synthetic_take(self, coin: str, *, is_buy: bool, limit_px: Decimal, size: Decimal) -> None:
        """A background taker: trade against whatever the book offers up to ``limit_px``."""
        result = self.books[coin].match(
            taker_is_buy=is_buy, limit_px=limit_px, size=size, taker_user=SYNTHETIC_USER
        )
        self._settle(result.matches, taker_user=SYNTHETIC_USER, taker_oid=0, taker_is_buy=is_buy)

    # ----- internals ----------------------------------------------------------------

    def _execute(self, order: RestingOrder, book: OrderBook, *, asset: int) -> JsonDict:
        self._track(order, status="open")
        if order.tif == "Alo":
            return self._rest(order, book)
        result = book.match(
            taker_is_buy=order.is_buy,
            limit_px=order.limit_px,
            size=order.remaining,
            taker_user=order.user,
        )
        for expired in result.self_trade_expired:
            self._untrack(expired, status="selfTradeCanceled")
        filled = result.filled_size
        if order.tif == "Ioc" and filled == 0:
            self._untrack(order, status="iocCancelRejected", notify=False)
            return {
                "error": "Order could not immediately match against any resting orders."
                f" asset={asset}"
            }
        self._settle(
            result.matches, taker_user=order.user, taker_oid=order.oid, taker_is_buy=order.is_buy
        )
        order.remaining -= filled
        if order.remaining > 0 and order.tif != "Ioc":
            return self._rest(order, book)
        status = "filled" if order.remaining == 0 else "canceled"
        self._untrack(order, status=status)
        notional = sum((match.price * match.size for match in result.matches), Decimal(0))
        body = {
            "totalSz": wire_decimal(filled),
            "avgPx": wire_decimal(notional / filled),
            "oid": order.oid,
        }
        return {"filled": with_cloid(body, order.cloid)}

    def _rest(self, order: RestingOrder, book: OrderBook) -> JsonDict:
        book.add(order)
        self._users[order.user].open[order.oid] = order
        self.events.append(
            OrderUpdated(
                user=order.user, order=basic_order_json(order), status="open", ms=self.now_ms
            )
        )
        return {"resting": with_cloid({"oid": order.oid}, order.cloid)}

    def _settle(
        self, matches: tuple[Match, ...], *, taker_user: str, taker_oid: int, taker_is_buy: bool
    ) -> None:
        for match in matches:
            self.last_trade_px[match.maker.coin] = match.price
            self._fills.book(
                match,
                taker_user=taker_user,
                taker_oid=taker_oid,
                taker_is_buy=taker_is_buy,
                now_ms=self.now_ms,
            )
            maker = match.maker
            if maker.user == SYNTHETIC_USER:
                continue
            if maker.remaining <= 0:
                self._untrack(maker, status="filled")
            else:
                self.events.append(
                    OrderUpdated(
                        user=maker.user,
                        order=basic_order_json(maker),
                        status="open",
                        ms=self.now_ms,
                    )
                )

    def _remove_resting(self, order: RestingOrder, *, status: str) -> None:
        self.books[order.coin].remove(order.oid)
        self._untrack(order, status=status)

    def _track(self, order: RestingOrder, *, status: str) -> None:
        orders = self._users.setdefault(order.user, _UserOrders())
        orders.records[order.oid] = OrderRecord(order=order, status=status, status_ms=self.now_ms)
        if order.cloid is not None:
            orders.by_cloid[order.cloid] = order.oid

    def _untrack(self, order: RestingOrder, *, status: str, notify: bool = True) -> None:
        orders = self._users.setdefault(order.user, _UserOrders())
        orders.open.pop(order.oid, None)
        orders.records[order.oid] = OrderRecord(order=order, status=status, status_ms=self.now_ms)
        if len(orders.records) > MAX_CLOSED_RECORDS + PRUNE_BATCH:
            _prune_closed(orders)
        if notify:
            self.events.append(
                OrderUpdated(
                    user=order.user, order=basic_order_json(order), status=status, ms=self.now_ms
                )
            )

    def _new_oid(self) -> int:
        self._next_oid += 1
        return self._next_oid


def _prune_closed(orders: _UserOrders) -> None:
    """Forget the oldest closed orders so a long-running venue stays bounded in memory."""
    closed = [oid for oid, record in orders.records.items() if record.status != "open"]
    for oid in closed[:PRUNE_BATCH]:
        cloid = orders.records.pop(oid).order.cloid
        if cloid is not None and orders.by_cloid.get(cloid) == oid:
            del orders.by_cloid[cloid]
