"""A modify the exchange refuses, on paper and at the venue.

Hyperliquid's modify is cancel-and-replace: the venue takes the old order off the book,
then checks the new one. When the new one is refused (a post-only price that would cross,
margin the account does not have), the old order is gone too. Paper used to answer the
refusal and leave the old order resting, so a paper run kept quoting with an order the
exchange would have cancelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from makerd.actors.order_manager import OrderManagerLogic
from makerd.config.model import OrderManagerConfig, PaperConfig
from makerd.daemon.cloids import CloidFactory
from makerd.protocol.orders import (
    ModifyOrders,
    ModifyRejected,
    OpenOrdersReported,
    OrderAmendment,
    OrderCancelled,
    PlaceOrders,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.paper import PaperExchange
from tests.kit import BTC, T0, S, snapshot, target
from tests.paper_parity_kit import Twins, now, request, still_venue


@pytest.fixture
def venue_url() -> Iterator[str]:
    with still_venue(seed=101) as url:
        yield url


def test_a_post_only_modify_that_would_cross_cancels_the_order_on_paper_as_at_the_venue(
    venue_url: str,
) -> None:
    twins = Twins(venue_url)
    bid = request(1, Side.BUY, twins.best(Side.BUY) - 50, "0.001")
    crossing = OrderAmendment(cloid=bid.cloid, price=twins.best(Side.SELL) + 1, size=bid.size)

    live, paper = twins.run(
        PlaceOrders(orders=(bid,), ts_local=now()),
        ModifyOrders(amendments=(crossing,), ts_local=now()),
    )

    assert live.refused == ((bid.cloid, RejectReason.POST_ONLY_WOULD_CROSS),)
    assert live.resting == (), "the venue cancelled the old order with the refused modify"
    assert paper == live


@dataclass(frozen=True, slots=True)
class Round:
    sent: list[PlaceOrders | ModifyOrders]
    """The commands the order manager sent."""
    heard: list[object]
    """The paper venue's answers, handed back to it."""


def exchange_round(
    manager: OrderManagerLogic, exchange: PaperExchange, message: object, at_ns: int
) -> Round:
    """The order manager handles ``message``; paper executes what it sends and answers."""
    sent = [m for m in manager.handle(message) if isinstance(m, PlaceOrders | ModifyOrders)]
    for command in sent:
        exchange.submit(command, at_ns)
    heard = exchange.advance(at_ns + S // 2)
    for event in heard:
        manager.handle(event)
    return Round(sent=sent, heard=heard)


def test_a_modify_refused_for_its_order_leaves_the_order_manager_without_it_on_paper() -> None:
    """Paper says so at once (the refusal, then the cancel of the old order): the order
    manager does not keep an order the venue no longer has. Live, the gateway asks the
    venue after such a refusal, and the listing without the order settles it the same."""
    exchange = PaperExchange(BTC, PaperConfig(), id_prefix="om")
    exchange.on_market(snapshot("60000", "60001"))
    manager = OrderManagerLogic(
        instrument=BTC, config=OrderManagerConfig(), new_cloid=CloidFactory(run_prefix=1)
    )
    manager.handle(OpenOrdersReported(coin="BTC", orders=(), ts_exchange=T0, ts_local=T0))
    first = exchange_round(manager, exchange, target([("59990", "0.001")], []), T0)
    (placed,) = first.sent
    assert isinstance(placed, PlaceOrders)
    cloid = placed.orders[0].cloid

    crossing = target([("60050", "0.001")], [], ts=T0 + S)
    second = exchange_round(manager, exchange, crossing, T0 + S)

    assert [type(c) for c in second.sent] == [ModifyOrders]
    answers = [type(e) for e in second.heard if isinstance(e, ModifyRejected | OrderCancelled)]
    assert answers == [ModifyRejected, OrderCancelled]
    assert manager.orders.get(cloid) is None, "the order manager still counts a cancelled order"
    assert exchange.open_order_count == 0


def test_a_modify_refused_for_its_rules_leaves_the_order_resting_on_both(venue_url: str) -> None:
    """A size off the lot never reaches the venue live: the gateway refuses it, and the
    order rests as it did. Paper refuses it the same way and keeps the order too."""
    twins = Twins(venue_url)
    bid = request(3, Side.BUY, twins.best(Side.BUY) - 50, "0.001")
    off_lot = OrderAmendment(cloid=bid.cloid, price=bid.price, size=Decimal("0.0010001"))

    live, paper = twins.run(
        PlaceOrders(orders=(bid,), ts_local=now()),
        ModifyOrders(amendments=(off_lot,), ts_local=now()),
    )

    assert live.refused == ((bid.cloid, RejectReason.LOT),)
    assert live.resting == ((bid.cloid, bid.price, bid.size),)
    assert paper == live


def test_live_asks_the_venue_after_a_modify_it_refused_for_its_order_and_not_otherwise(
    venue_url: str,
) -> None:
    """The live half of the order manager's view: a refusal the venue gave (the old order
    may be gone) makes the gateway ask what rests; a lot refusal made before sending,
    which cancelled nothing, does not."""
    twins = Twins(venue_url)
    bid = request(5, Side.BUY, twins.best(Side.BUY) - 50, "0.001")
    crossing = OrderAmendment(cloid=bid.cloid, price=twins.best(Side.SELL) + 1, size=bid.size)
    off_lot = OrderAmendment(cloid=bid.cloid, price=bid.price, size=Decimal("0.0010001"))
    twins.harness.run(PlaceOrders(orders=(bid,), ts_local=now()))

    twins.harness.run(ModifyOrders(amendments=(off_lot,), ts_local=now()))
    asked_after_lot = list(twins.harness.settled)
    twins.harness.run(ModifyOrders(amendments=(crossing,), ts_local=now()))

    assert asked_after_lot == []
    assert twins.harness.settled == [True]
