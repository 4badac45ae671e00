"""Funding on the local venue, paid when a test asks (``POST /_debug/funding``).

Hyperliquid settles funding hourly: every open position receives −size × oracle price ×
rate in USDC (longs pay a positive rate, shorts receive it). Here a payment runs at once,
at the rate the request names, on the coin's mark. Each payment moves the balance, is
kept on the account (what ``userFunding`` answers) and is queued for the account's
``userFundings`` stream.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.events import UserFunded
from makerd.venues.hl_local.universe import wire_decimal
from makerd.venues.hl_local.wire import JsonDict

USDC_UNIT = Decimal("0.000001")
MAX_RATE = Decimal("0.04")  # the exchange caps funding at 4% an hour
# Funding entries carry the hash of the system transaction that paid them; one will do.
FUNDING_HASH = "0x" + "0" * 64


def parse_funding_request(body: Any, coins: tuple[str, ...]) -> tuple[str, Decimal] | list[str]:
    """``{"coin": "BTC", "rate": "0.0001"}`` as ``(coin, rate)``, or the problems."""
    if not isinstance(body, dict):
        return ["body: expected {'coin': '<coin>', 'rate': '<decimal>'}"]
    problems = [f"{key}: unknown key" for key in body if key not in ("coin", "rate")]
    coin = body.get("coin")
    if coin not in coins:
        problems.append(f"coin: expected one of {', '.join(coins)}")
    try:
        rate = Decimal(str(body.get("rate")))
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or abs(rate) > MAX_RATE:
        problems.append(f"rate: expected a decimal within ±{MAX_RATE}")
    return problems if problems else (str(coin), rate)


def pay_funding(
    engine: MatchingEngine, *, coin: str, rate: Decimal, time_ms: int
) -> list[JsonDict]:
    """Charge every open position in ``coin``; return what each account received."""
    mark = engine.mid(coin)
    paid = []
    for account in engine.accounts.all():
        position = account.positions.get(coin)
        if position is None or position.size == 0:
            continue
        usdc = (-position.size * mark * rate).quantize(USDC_UNIT)
        account.balance += usdc
        payment = {
            "time": time_ms,
            "coin": coin,
            "usdc": wire_decimal(usdc),
            "szi": wire_decimal(position.size),
            "fundingRate": wire_decimal(rate),
            "nSamples": None,
        }
        account.fundings.append(payment)
        engine.events.append(UserFunded(user=account.address, funding=payment))
        paid.append({"user": account.address, "usdc": payment["usdc"], "szi": payment["szi"]})
    return paid


def user_funding_json(payment: JsonDict) -> JsonDict:
    """A payment as a REST ``userFunding`` entry."""
    delta = {"type": "funding", **{key: value for key, value in payment.items() if key != "time"}}
    return {"delta": delta, "hash": FUNDING_HASH, "time": payment["time"]}
