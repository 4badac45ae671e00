"""Validation and normalization of WebSocket subscriptions.

A subscription's key (``"l2Book:BTC"``, ``"userFills:0xabc…"``) identifies it within a
connection; the normalized form is what the acknowledgement echoes, as the exchange
echoes ``l2Book`` with ``nSigFigs``/``mantissa`` filled in.
"""

from __future__ import annotations

import json
from typing import Any

from makerd.venues.hl_local.wire import JsonDict

COIN_CHANNELS = frozenset({"l2Book", "bbo", "trades"})
USER_CHANNELS = frozenset({"orderUpdates", "userFills", "userEvents", "userFundings"})


class SubscriptionError(ValueError):
    """A subscription the venue refuses; the message is the exchange's error text."""


def normalize_subscription(raw: Any, coins: tuple[str, ...]) -> tuple[str, JsonDict]:
    """Return ``(key, normalized)`` or raise :class:`SubscriptionError`."""
    invalid = SubscriptionError(f"Invalid subscription {json.dumps(raw)}")
    if not isinstance(raw, dict):
        raise invalid
    kind = raw.get("type")
    if kind == "allMids":
        return "allMids", {"type": "allMids"}
    if kind in COIN_CHANNELS:
        coin = raw.get("coin")
        if coin not in coins:
            raise invalid
        normalized: JsonDict = {"type": kind, "coin": coin}
        if kind == "l2Book":
            normalized.update(
                nSigFigs=raw.get("nSigFigs"), mantissa=raw.get("mantissa"), fast=False
            )
        return f"{kind}:{coin}", normalized
    if kind in USER_CHANNELS:
        user = raw.get("user")
        if not isinstance(user, str) or not user.startswith("0x") or len(user) != 42:
            raise invalid
        return f"{kind}:{user.lower()}", {"type": kind, "user": user.lower()}
    raise invalid
