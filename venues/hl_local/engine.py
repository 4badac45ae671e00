"""The exchange core: places, matches, cancels and modifies orders, books every fill.

Everything runs on the venue's event loop thread, so the core holds no locks. What
happened is appended to ``events`` (drained by the WebSocket hub after each action or
tick) and kept in per-user order records for ``orderStatus``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from makerd.venues.hl_local.accounts import Account, AccountRegistry
from makerd.venues.hl_local.book import SYNTHETIC_USER, Match, OrderBook, RestingOrder
from makerd.venues.hl_local.events import OrderUpdated, VenueEvent
from makerd.venues.hl_local.fills import FillBooker
from makerd.venues.hl_local.rules import OrderRejected, check_order
from makerd.venues.hl_local.universe import Universe, wire_decimal
from makerd.venues.hl_local.user_orders import OrderRecord, UserOrders
from makerd.venues.hl_local.wire import JsonDict, OrderRequest, basic_order_json, with_cloid

MISSING_ORDER = "Order was never placed, already canceled, or filled."
MODIFY_MISSING = "Cannot modify canceled or filled order"


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
        self._orders = UserOrders()
        self._fills = FillBooker(
            accounts=accounts,
            events=self.events,
            maker_fee_rate=maker_fee_rate,
            taker_fee_rate=taker_fee_rate,
            fee_scale=universe.fee_scale,
        )
        self.last_trade_px: dict[str, Decimal] = {
            perp.coin: perp.start_mid for perp in universe.perps
        }
        self._capped_until_ms: dict[str, int] = {}
        """Coins whose open interest is at its cap, until when (the fault of that name)."""
        self._halted_until_ms: dict[str, int] = {}
        """Coins whose trading is halted, until when (the ``halt_s`` fault)."""

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

    def cap_open_interest(self, coin: str | None, until_ms: int) -> None:
        """Refuse, until ``until_ms``, orders of ``coin`` (every coin: None) that could grow
        a position, as the exchange does while a coin's open interest is at its cap."""
        for capped in self.universe.coins if coin is None else (coin,):
            self._capped_until_ms[capped] = until_ms

    def capped_coins(self, coins: list[str], now_ms: int) -> list[str]:
        """Those of ``coins`` whose open interest is at its cap at ``now_ms``."""
        return [coin for coin in coins if now_ms < self._capped_until_ms.get(coin, 0)]

    def halt(self, coin: str | None, until_ms: int) -> None:
        """Refuse, until ``until_ms``, every order of ``coin`` (every coin: None), as the
        exchange does while it halts a coin's trading (before a delisting)."""
        for halted in self.universe.coins if coin is None else (coin,):
            self._halted_until_ms[halted] = until_ms

    def open_orders(self, user: str) -> list[RestingOrder]:
        return self._orders.open_orders(user)

    def peak_open_orders(self, user: str) -> int:
        """The most orders ``user`` had resting at once since start or the last reset."""
        return self._orders.peak_open(user)

    def peak_open_orders_by_coin(self, user: str) -> dict[str, int]:
        """The most orders ``user`` had resting at once in each listed coin."""
        peaks = self._orders.peak_open_by_coin(user)
        return {coin: peaks[coin] for coin in self.universe.coins}

    def reset_peak_open_orders(self, user: str) -> int:
        """Restart the peaks (the account's and each coin's) from the current counts."""
        return self._orders.reset_peak_open(user)

    def record(self, user: str, oid_or_cloid: int | str) -> OrderRecord | None:
        return self._orders.record(user, oid_or_cloid)

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
                capped=self.now_ms < self._capped_until_ms.get(perp.coin, 0),
                halted=self.now_ms < self._halted_until_ms.get(perp.coin, 0),
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
        """Fire every dead-man switch whose time has come."""
        for account in self.accounts.all():
            due = account.schedule_cancel_ms
            if due is not None and due <= self.now_ms:
                self._fire_scheduled_cancel(account)

    def fire_scheduled_cancels(self, user: str | None = None) -> list[str]:
        """Fire now the armed switch of ``user`` (or of every account); return whose fired."""
        fired = []
        for account in self.accounts.all():
            if account.schedule_cancel_ms is None:
                continue
            if user is None or account.address == user.lower():
                self._fire_scheduled_cancel(account)
                fired.append(account.address)
        return fired

    def _fire_scheduled_cancel(self, account: Account) -> None:
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
            taker_is_buy=is_buy,
            limit_px=limit_px,
            size=size,
            taker_user=SYNTHETIC_USER,
            room=self._reduce_only_room,
        )
        self._settle(result.matches, taker_user=SYNTHETIC_USER, taker_oid=0, taker_is_buy=is_buy)
        self._cancel_reduce_only(result.reduce_only_cancelled)

    def sweep_user(self, user: str, *, is_buy: bool, coin: str | None = None) -> int:
        """A taker fills every resting order of ``user`` it hits, each at its own price.

        ``is_buy`` takes the user's asks, else its bids; best price and oldest first.
        Return how many orders were filled.
        """
        hit = [
            order
            for order in self.open_orders(user)
            if order.is_buy != is_buy and coin in (None, order.coin)
        ]
        hit.sort(key=lambda order: (-order.limit_px if order.is_buy else order.limit_px, order.oid))
        for order in hit:
            self.books[order.coin].remove(order.oid)
            match = Match(maker=order, price=order.limit_px, size=order.remaining)
            order.remaining = Decimal(0)
            self._settle((match,), taker_user=SYNTHETIC_USER, taker_oid=0, taker_is_buy=is_buy)
        return len(hit)

    # ----- internals ----------------------------------------------------------------

    def _execute(self, order: RestingOrder, book: OrderBook, *, asset: int) -> JsonDict:
        self._orders.track(order, status="open", now_ms=self.now_ms)
        if order.tif == "Alo":
            return self._rest(order, book)
        result = book.match(
            taker_is_buy=order.is_buy,
            limit_px=order.limit_px,
            size=order.remaining,
            taker_user=order.user,
            room=self._reduce_only_room,
        )
        for expired in result.self_trade_expired:
            self._untrack(expired, status="selfTradeCanceled")
        filled = result.filled_size
        if order.tif == "Ioc" and filled == 0:
            self._cancel_reduce_only(result.reduce_only_cancelled)
            self._untrack(order, status="iocCancelRejected", notify=False)
            return {
                "error": "Order could not immediately match against any resting orders."
                f" asset={asset}"
            }
        self._settle(
            result.matches, taker_user=order.user, taker_oid=order.oid, taker_is_buy=order.is_buy
        )
        self._cancel_reduce_only(result.reduce_only_cancelled)
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

    def _reduce_only_room(self, maker: RestingOrder, matched: Sequence[Match]) -> Decimal:
        """How much reduce-only ``maker`` may still trade: the size of its user's position
        on the side it reduces, after the matches of this walk (not settled yet)."""
        account = self.accounts.get(maker.user)
        size = Decimal(0) if account is None else account.position(maker.coin).size
        for match in matched:
            if match.maker.user == maker.user and match.maker.coin == maker.coin:
                size += match.size if match.maker.is_buy else -match.size
        return max(Decimal(0), -size if maker.is_buy else size)

    def _cancel_reduce_only(self, orders: tuple[RestingOrder, ...]) -> None:
        """Reduce-only orders the position left no room for (already off the book)."""
        for order in orders:
            self._untrack(order, status="reduceOnlyCanceled")

    def _rest(self, order: RestingOrder, book: OrderBook) -> JsonDict:
        book.add(order)
        self._orders.rest(order)
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
            elif self.books[maker.coin].get(maker.oid) is not None:  # still resting
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

    def _untrack(self, order: RestingOrder, *, status: str, notify: bool = True) -> None:
        self._orders.close(order, status=status, now_ms=self.now_ms)
        if notify:
            self.events.append(
                OrderUpdated(
                    user=order.user, order=basic_order_json(order), status=status, ms=self.now_ms
                )
            )

    def _new_oid(self) -> int:
        self._next_oid += 1
        return self._next_oid
