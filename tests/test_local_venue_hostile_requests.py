"""Hostile requests to the local venue get the exchange's refusal, never an HTTP 500.

Hypothesis writes ``/info`` bodies of every known type with values of every JSON kind,
correctly signed ``/exchange`` actions whose fields hold the same (so they pass signature
checks and reach the handlers), and ``/_debug/faults`` bodies. The venue must answer each
with a 2xx or a 4xx, and stay up for the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import eth_account
import pytest
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig

INFO_TYPES = (
    "meta", "metaAndAssetCtxs", "l2Book", "allMids", "clearinghouseState", "openOrders",
    "frontendOpenOrders", "userFills", "userFillsByTime", "orderStatus", "userRateLimit",
    "historicalOrders", "userFunding", "perpDexs",
)  # fmt: skip
ACTION_TYPES = ("order", "cancel", "cancelByCloid", "modify", "batchModify", "scheduleCancel")
FIELDS = ("coin", "user", "oid", "startTime", "endTime", "nSigFigs", "orders", "cancels",
          "modifies", "time", "grouping", "a", "b", "p", "s", "r", "t", "c", "asset",
          "dex")  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["BTC", "0x" + "ab" * 20, "1e999999", "-0", "NaN", "", "0x"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=12,
)
HYPOTHESIS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=19, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def wallet() -> LocalAccount:
    account: LocalAccount = eth_account.Account.create()
    return account


def _refused_or_answered(venue: VenueThread, path: str, body: object) -> requests.Response:
    reply = requests.post(venue.url + path, json=cast(Any, body), timeout=10)
    assert reply.status_code < 500, f"{path} {body!r}: HTTP {reply.status_code} {reply.text[:200]}"
    assert "Traceback" not in reply.text
    return reply


@HYPOTHESIS
@given(
    info_type=st.sampled_from(INFO_TYPES),
    fields=st.dictionaries(st.sampled_from(FIELDS), json_values),
)
def test_any_info_body_is_answered_or_refused(
    venue: VenueThread, info_type: str, fields: dict[str, Any]
) -> None:
    _refused_or_answered(venue, "/info", {**fields, "type": info_type})


@HYPOTHESIS
@given(
    action_type=st.sampled_from(ACTION_TYPES),
    fields=st.dictionaries(st.sampled_from(FIELDS), json_values),
)
def test_any_signed_action_is_answered_or_refused(
    venue: VenueThread, wallet: LocalAccount, action_type: str, fields: dict[str, Any]
) -> None:
    action = {"type": action_type, **fields}
    nonce = get_timestamp_ms()
    signature = sign_l1_action(wallet, action, None, nonce, None, False)
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}

    _refused_or_answered(venue, "/exchange", body)


@HYPOTHESIS
@given(
    body=st.dictionaries(
        st.sampled_from(
            ["jump_pct", "coin", "sweep", "reject_next", "delay_info_s", "malformed_frames"]
        ),
        json_values,
    )
)
def test_any_fault_body_is_armed_or_refused(venue: VenueThread, body: dict[str, Any]) -> None:
    reply = _refused_or_answered(venue, "/_debug/faults", body)
    requests.post(venue.url + "/_debug/faults", json={"clear": True}, timeout=10)

    assert reply.status_code in (200, 400)


def test_the_values_that_used_to_break_a_handler_are_refused(venue: VenueThread) -> None:
    book = _refused_or_answered(venue, "/info", {"type": "l2Book", "coin": ["BTC"]})
    jump = _refused_or_answered(venue, "/_debug/faults", {"jump_pct": "1e999999"})
    after = _refused_or_answered(venue, "/info", {"type": "l2Book", "coin": "BTC"})

    assert book.status_code == 422
    assert jump.status_code == 400
    assert after.status_code == 200, "the venue keeps serving"
