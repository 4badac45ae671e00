"""Fault injection for tests, armed through ``POST /_debug/faults`` (loopback only).

The JSON body may combine any of these keys; each takes effect at once:

``drop_connections: true``
    close every WebSocket connection now (clients see an abnormal close).
``freeze_feed_s: <seconds>``
    stop pushing market data (l2Book, bbo, trades, allMids) for that long; sockets stay
    open, pings are still answered, user streams still flow.
``reject_next: <n>``, ``reject_text: "<message>"``
    refuse the next n signed actions with ``{"status":"err","response":<message>}``.
``rate_limit_next: <n>``, ``rate_limit_http_429: <bool>``
    refuse the next n signed actions with the exchange's address rate-limit text
    (HTTP 200 ``err``), or with a bare HTTP 429 when ``rate_limit_http_429`` is true.
``jump_pct: <percent>``, ``coin: "<COIN>"``
    move the synthetic mid of ``coin`` (every coin when omitted) by that percentage;
    resting user orders the new market crosses are filled by background takers.
``clear: true``
    disarm every pending fault first.

The reply lists what was armed: ``{"status":"ok","armed":{...}}``; a bad body gets HTTP
400 with every problem listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from venues.hl_local.accounts import Account
from venues.hl_local.wire import HttpReply, error_response

REQUEST_BUFFER = 10_000
DEFAULT_REJECT_TEXT = "Trading is halted."
KNOWN_KEYS = frozenset(
    {
        "drop_connections",
        "freeze_feed_s",
        "reject_next",
        "reject_text",
        "rate_limit_next",
        "rate_limit_http_429",
        "jump_pct",
        "coin",
        "clear",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRequest:
    """A parsed ``/_debug/faults`` body."""

    clear: bool = False
    drop_connections: bool = False
    freeze_feed_s: float = 0.0
    reject_next: int = 0
    reject_text: str = DEFAULT_REJECT_TEXT
    rate_limit_next: int = 0
    rate_limit_http_429: bool = False
    jump_pct: Decimal | None = None
    coin: str | None = None


def parse_fault_request(body: Any, coins: tuple[str, ...]) -> FaultRequest | list[str]:
    """Parse the admin body; return every problem found instead when it is invalid."""
    if not isinstance(body, dict):
        return ["body: expected a JSON object"]
    problems = [f"{key}: unknown key" for key in body if key not in KNOWN_KEYS]
    flags = {key: body.get(key, False) for key in ("clear", "drop_connections")}
    flags["rate_limit_http_429"] = body.get("rate_limit_http_429", False)
    problems += [
        f"{key}: expected true or false" for key, v in flags.items() if type(v) is not bool
    ]
    counts = {key: body.get(key, 0) for key in ("reject_next", "rate_limit_next")}
    problems += [
        f"{key}: expected a non-negative integer"
        for key, value in counts.items()
        if type(value) is not int or value < 0
    ]
    freeze = body.get("freeze_feed_s", 0)
    if type(freeze) not in (int, float) or freeze < 0:
        problems.append("freeze_feed_s: expected a non-negative number of seconds")
    jump = _parse_decimal(body.get("jump_pct"))
    if "jump_pct" in body and jump is None:
        problems.append("jump_pct: expected a number of percent")
    coin = body.get("coin")
    if coin is not None and coin not in coins:
        problems.append(f"coin: {coin!r} is not listed (one of {', '.join(coins)})")
    text = body.get("reject_text", DEFAULT_REJECT_TEXT)
    if not isinstance(text, str) or not text:
        problems.append("reject_text: expected a non-empty string")
    if problems:
        return problems
    return FaultRequest(
        clear=bool(flags["clear"]),
        drop_connections=bool(flags["drop_connections"]),
        freeze_feed_s=float(freeze),
        reject_next=int(counts["reject_next"]),
        reject_text=str(text),
        rate_limit_next=int(counts["rate_limit_next"]),
        rate_limit_http_429=bool(flags["rate_limit_http_429"]),
        jump_pct=jump,
        coin=coin,
    )


def _parse_decimal(value: Any) -> Decimal | None:
    if type(value) not in (int, float, str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class Faults:
    """The armed faults: counters of refusals to come and the feed freeze deadline."""

    def __init__(self) -> None:
        self._reject_left = 0
        self._reject_text = DEFAULT_REJECT_TEXT
        self._rate_limit_left = 0
        self._rate_limit_429 = False
        self._frozen_until_ms = 0

    def arm(self, request: FaultRequest, now_ms: int) -> None:
        if request.clear:
            self._reject_left = self._rate_limit_left = self._frozen_until_ms = 0
        if request.reject_next:
            self._reject_left = request.reject_next
            self._reject_text = request.reject_text
        if request.rate_limit_next:
            self._rate_limit_left = request.rate_limit_next
            self._rate_limit_429 = request.rate_limit_http_429
        if request.freeze_feed_s:
            self._frozen_until_ms = now_ms + int(request.freeze_feed_s * 1000)

    def feed_frozen(self, now_ms: int) -> bool:
        return now_ms < self._frozen_until_ms

    def take_refusal(self, account: Account) -> HttpReply | None:
        """The refusal owed to the next action, if one is armed (consumes one)."""
        if self._rate_limit_left > 0:
            self._rate_limit_left -= 1
            if self._rate_limit_429:
                return HttpReply(status=429, body="Too Many Requests")
            cap = REQUEST_BUFFER + int(account.cum_volume)
            used = max(account.n_requests, cap) + 1
            return HttpReply.json(
                error_response(
                    f"Too many cumulative requests sent ({used} > {cap}) for cumulative volume"
                    f" traded ${account.cum_volume:.2f}. Place taker orders to free up 1 request"
                    " per USDC traded."
                )
            )
        if self._reject_left > 0:
            self._reject_left -= 1
            return HttpReply.json(error_response(self._reject_text))
        return None
