"""Red team 11: answers on the WebSocket ``post`` channel that do not match their posts.

A proxy before the real local venue lets every action through and mishandles only the
answers (``tests/post_proxy_kit.py``). Answers sent twice, or in the reverse order, are
matched by id and the extra one dropped. An answer carrying another post's id was
taken for its own: two placements sent together were each accepted under the other's
order id (the venue said which cloid each oid was), so the order state named orders
the venue did not have, and fills, which carry the oid, would have been put on the
wrong order. An answer is now checked against its action (the answer's kind, the cloid
of each status): one that belongs to another action is a lost answer, settled from the
venue, never a confirmation.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from eth_account import Account

from makerd.protocol.orders import CancelOrders, CancelReason, OrderAccepted, PlaceOrders
from makerd.venues.hyperliquid.answer_check import foreign_answer
from makerd.venues.hyperliquid.errors import ExchangeResponse, Resting
from tests.post_proxy_kit import Mode, PostAnswerProxy
from tests.test_hl_gateway import Harness, resting_bid
from tests.test_redteam11_clock_orders import venue_skewed


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    yield from venue_skewed(0.0, seed=23)  # a venue on the host's own clock


def through(venue_url: str, mode: Mode) -> Iterator[str]:
    proxy = PostAnswerProxy(venue_url, mode)
    yield proxy.start()
    proxy.stop()


@pytest.fixture
def swapping(venue_url: str) -> Iterator[str]:
    yield from through(venue_url, "swap")


def venue_oids(url: str, harness: Harness) -> dict[str, int]:
    """cloid → oid of every order the venue lists for the harness's account."""
    user = Account.from_key(harness.key).address.lower()
    body = json.dumps({"type": "frontendOpenOrders", "user": user}).encode()
    request = urllib.request.Request(
        f"{url}/info", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        return {order["cloid"]: order["oid"] for order in json.loads(reply.read())}


def place_two_together(url: str, posts_url: str, first: int) -> tuple[Harness, list[object]]:
    harness = Harness(url, posts_url=posts_url, post_timeout_s=3.0, clock=time.time_ns)
    bid, lower = resting_bid(url, first, below=200), resting_bid(url, first + 1, below=300)
    now = time.time_ns()
    events = harness.run(
        PlaceOrders(orders=(bid,), ts_local=now),
        PlaceOrders(orders=(lower,), ts_local=now),
        together=True,
    )
    return harness, events


def test_answers_swapped_between_two_placements_confirm_neither(
    venue_url: str, swapping: str
) -> None:
    harness, events = place_two_together(venue_url, swapping, 41)

    listed = venue_oids(venue_url, harness)
    accepted = {e.cloid: e.venue_order_id for e in events if isinstance(e, OrderAccepted)}
    assert len(listed) == 2  # both rest: only what makerd heard was wrong
    assert {cloid: listed[cloid] for cloid in accepted} == accepted
    assert harness.settled  # what rests is asked of the venue


@pytest.mark.parametrize("mode", ["twice", "reverse"])
def test_answers_sent_twice_or_out_of_order_accept_each_order_once_under_its_oid(
    venue_url: str, mode: Mode
) -> None:
    for posts_url in through(venue_url, mode):
        harness, events = place_two_together(venue_url, posts_url, 43 if mode == "twice" else 45)

        accepted = [e for e in events if isinstance(e, OrderAccepted)]
        listed = venue_oids(venue_url, harness)
        assert sorted((e.cloid, e.venue_order_id) for e in accepted) == sorted(listed.items())
        assert harness.settled == []


def test_a_cancel_answered_with_a_placements_answer_cancels_nothing_in_makerds_eyes(
    venue_url: str, swapping: str
) -> None:
    harness, _ = place_two_together(venue_url, venue_url, 47)  # both rest, heard rightly
    resting = sorted(venue_oids(venue_url, harness))
    third = resting_bid(venue_url, 49, below=400)
    harness.posts_url = swapping
    now = time.time_ns()

    events = harness.run(
        CancelOrders(cloids=(resting[0],), reason=CancelReason.REQUOTE, ts_local=now),
        PlaceOrders(orders=(third,), ts_local=now),
        together=True,
    )

    confirmed = [type(e).__name__ for e in events[2:]]
    assert confirmed == [], "an answer meant for another action confirmed something"
    assert harness.settled


def test_a_modify_answered_under_either_kind_the_exchange_may_use_is_its_own() -> None:
    modify = {"type": "batchModify", "modifies": [{"oid": 7, "order": {"c": "0x01"}}]}
    statuses = (Resting(oid=8, cloid="0x01"),)

    for kind in ("order", "batchModify", None):
        answer = ExchangeResponse(error=None, statuses=statuses, kind=kind)
        assert foreign_answer(modify, answer) is None
    assert foreign_answer(modify, ExchangeResponse(error=None, statuses=(), kind="cancel"))
