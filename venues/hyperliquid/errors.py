"""What the venue answers: ``/exchange`` replies, error texts and order status names.

The venue reports problems as English sentences (its documented error texts), often with an
`` asset=<id>`` suffix, and order outcomes as status names (``badAloPxRejected``).
Both map onto :class:`protocol.orders.RejectReason` — a small fixed set that can label
metrics — while the venue's own text travels alongside, unchanged. An ``/exchange``
reply becomes an :class:`ExchangeResponse`: a whole-action error or one typed status
per item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, TypeVar

from makerd.protocol.market import DropReason
from makerd.protocol.orders import OrderStatus
from makerd.protocol.rejections import RejectReason

_T = TypeVar("_T")


class FeedParseError(ValueError):
    """A venue message that does not have the documented shape; count it and drop it.

    ``reason`` is a :class:`protocol.market.DropReason` (a metric label), ``detail``
    the sentence for the log. The detail never quotes more than a few characters of the
    offending value: a million-character price must not become a million-character log.
    """

    def __init__(
        self, channel: str, detail: str, reason: DropReason = DropReason.BAD_FIELD
    ) -> None:
        super().__init__(f"{channel}: {detail} ({reason.value})")
        self.channel = channel
        self.detail = detail
        self.reason: str = reason.value


def clip(value: object, limit: int = 24) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error details."""
    text = repr(value) if not isinstance(value, str) or len(value) <= limit else repr(value[:limit])
    return text if len(text) <= limit + 2 else text[:limit] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueError:
    """One error the venue returned, classified.

    ``asset`` is the id from the `` asset=N`` suffix when present; ``bbo`` is the venue's
    best bid and ask quoted in a post-only rejection ("bbo was 64990@64991"), which lets
    the caller re-price without waiting for the next book. ``retry_after_s`` is set on a
    rate-limit refusal: how long the request budget will refuse new risk from now on (0 =
    not known), so that the order manager waits exactly that and no backoff of its own.
    """

    reason: RejectReason
    message: str
    asset: int | None = None
    bbo: tuple[Decimal, Decimal] | None = None
    retry_after_s: float = 0.0


_ASSET_SUFFIX: Final = re.compile(r"\s+asset=(\d+)\s*$")
_BBO: Final = re.compile(r"bbo was ([0-9.]+)@([0-9.]+)")

# Prefixes of the documented per-order strings (GitBook "error responses") and the
# top-level strings seen in the wild; matched case-sensitively on the text without
# the asset suffix. Order matters only where one prefix extends another (none do).
_PREFIX_REASONS: Final[tuple[tuple[str, RejectReason], ...]] = (
    ("Price must be divisible by tick size", RejectReason.TICK),
    ("Order has invalid size", RejectReason.LOT),
    ("Order has zero size", RejectReason.LOT),
    ("Order must have minimum value of", RejectReason.MIN_NOTIONAL),
    ("Insufficient margin to place order", RejectReason.INSUFFICIENT_MARGIN),
    ("Reduce only order would increase position", RejectReason.REDUCE_ONLY),
    ("Post only order would have immediately matched", RejectReason.POST_ONLY_WOULD_CROSS),
    ("Order could not immediately match", RejectReason.IOC_NO_MATCH),
    ("Order was never placed, already canceled, or filled", RejectReason.UNKNOWN_ORDER),
    ("Too many cumulative requests sent", RejectReason.RATE_LIMITED),
    ("Trading is halted", RejectReason.HALTED),
    ("Action expired", RejectReason.EXPIRED),
    # The open-interest cap family: "... while open interest is capped", "... too quickly",
    # and a price "more aggressive than oracle while at open interest cap".
    ("Order would increase open interest", RejectReason.OPEN_INTEREST_CAP),
    ("Order rejected due to price more aggressive than oracle", RejectReason.OPEN_INTEREST_CAP),
)
# Generic rate-limit wording (HTTP 429 bodies, WS limits) is matched anywhere, any case.
_RATE_LIMIT_MARKERS: Final = ("rate limit", "too many requests", "too many cumulative requests")


def classify_error(message: str) -> VenueError:
    """Map one error text from the venue to a :class:`VenueError`; unknown → ``OTHER``."""
    asset_match = _ASSET_SUFFIX.search(message)
    core = message[: asset_match.start()] if asset_match else message
    asset = int(asset_match.group(1)) if asset_match else None
    reason = _reason_for(core)
    bbo = _quoted_bbo(core) if reason is RejectReason.POST_ONLY_WOULD_CROSS else None
    return VenueError(reason=reason, message=message, asset=asset, bbo=bbo)


def _reason_for(core: str) -> RejectReason:
    stripped = core.strip()
    for prefix, reason in _PREFIX_REASONS:
        if stripped.startswith(prefix):
            return reason
    lowered = stripped.lower()
    if any(marker in lowered for marker in _RATE_LIMIT_MARKERS):
        return RejectReason.RATE_LIMITED
    return RejectReason.OTHER


def _quoted_bbo(core: str) -> tuple[Decimal, Decimal] | None:
    match = _BBO.search(core)
    if match is None:
        return None
    try:
        # The sentence ends with a period right after the ask; the regex may take it.
        return Decimal(match.group(1)), Decimal(match.group(2).rstrip("."))
    except InvalidOperation:
        return None


_STATUS_REJECT_REASONS: Final[dict[str, RejectReason]] = {
    "tickRejected": RejectReason.TICK,
    "minTradeNtlRejected": RejectReason.MIN_NOTIONAL,
    "perpMarginRejected": RejectReason.INSUFFICIENT_MARGIN,
    "reduceOnlyRejected": RejectReason.REDUCE_ONLY,
    "badAloPxRejected": RejectReason.POST_ONLY_WOULD_CROSS,
    "iocCancelRejected": RejectReason.IOC_NO_MATCH,
    "positionIncreaseAtOpenInterestCapRejected": RejectReason.OPEN_INTEREST_CAP,
    "positionFlipAtOpenInterestCapRejected": RejectReason.OPEN_INTEREST_CAP,
    "tooAggressiveAtOpenInterestCapRejected": RejectReason.OPEN_INTEREST_CAP,
    "openInterestIncreaseRejected": RejectReason.OPEN_INTEREST_CAP,
}
_OPEN_STATUSES: Final = frozenset({"open", "triggered"})


def order_status_for(venue_status: str) -> OrderStatus:
    """The protocol status of an ``orderUpdates`` / ``orderStatus`` status name.

    Every ``…Rejected`` is REJECTED, every ``…Canceled`` (and ``scheduledCancel``) is
    CANCELLED; a name the venue adds later is UNKNOWN, never guessed.
    """
    if venue_status in _OPEN_STATUSES:
        return OrderStatus.OPEN
    if venue_status == "filled":
        return OrderStatus.FILLED
    if venue_status.endswith("Rejected") or venue_status == "rejected":
        return OrderStatus.REJECTED
    if venue_status.endswith(("Canceled", "canceled")) or venue_status == "scheduledCancel":
        return OrderStatus.CANCELLED
    return OrderStatus.UNKNOWN


def reject_reason_for_status(venue_status: str) -> RejectReason | None:
    """The reject reason of a ``…Rejected`` status; ``None`` when it is not a rejection."""
    if order_status_for(venue_status) is not OrderStatus.REJECTED:
        return None
    return _STATUS_REJECT_REASONS.get(venue_status, RejectReason.OTHER)


@dataclass(frozen=True, slots=True, kw_only=True)
class Resting:
    """The order rests on the book under ``oid``."""

    oid: int
    cloid: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FilledOnArrival:
    """The order filled as it arrived (fills still come separately, from the user stream)."""

    oid: int
    cloid: str | None
    total_size: Decimal
    average_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemAccepted:
    """A bare status string: ``"success"`` (cancels) or ``"waitingForFill"``/``…Trigger``."""

    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRejected:
    error: VenueError


ItemStatus = Resting | FilledOnArrival | ItemAccepted | ItemRejected


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeResponse:
    """An ``/exchange`` reply: a whole-action ``error``, or one status per item sent.

    The venue sometimes answers an n-item batch with a single item error (payload
    validation); callers must not assume ``len(statuses)`` equals the batch size.
    """

    error: VenueError | None
    statuses: tuple[ItemStatus, ...]
    kind: str | None = None
    """The answer's ``response.type`` (``order``, ``cancel``, ``default``); None for a
    whole-action refusal, which names none."""


def parse_exchange_response(payload: object) -> ExchangeResponse:
    """Parse the JSON body of an ``/exchange`` reply (ok with statuses, or a whole-action err)."""
    body = _expect(payload, dict, "reply")
    if body.get("status") == "err":
        message = body.get("response")
        return ExchangeResponse(error=classify_error(str(message)), statuses=())
    if body.get("status") != "ok":
        raise FeedParseError("exchange", f"status is {body.get('status')!r}")
    response = _expect(body.get("response"), dict, "response")
    kind = response.get("type")
    kind = kind if isinstance(kind, str) else None
    data = response.get("data")
    if data is None:  # {"type": "default"}: scheduleCancel, updateLeverage, …
        return ExchangeResponse(error=None, statuses=(), kind=kind)
    statuses = _expect(_expect(data, dict, "data").get("statuses"), list, "statuses")
    items = tuple(_item_status(item) for item in statuses)
    return ExchangeResponse(error=None, statuses=items, kind=kind)


def _item_status(item: object) -> ItemStatus:
    if isinstance(item, str):
        return ItemAccepted(status=item)
    entry = _expect(item, dict, "status item")
    if "error" in entry:
        return ItemRejected(error=classify_error(str(entry["error"])))
    if "resting" in entry:
        resting = _expect(entry["resting"], dict, "resting")
        return Resting(oid=_expect(resting.get("oid"), int, "oid"), cloid=_cloid_of(resting))
    if "filled" in entry:
        filled = _expect(entry["filled"], dict, "filled")
        return FilledOnArrival(
            oid=_expect(filled.get("oid"), int, "oid"),
            cloid=_cloid_of(filled),
            total_size=_decimal_of(filled.get("totalSz"), "totalSz"),
            average_price=_decimal_of(filled.get("avgPx"), "avgPx"),
        )
    raise FeedParseError("exchange", f"unknown status item keys {sorted(entry)}")


def _expect(value: object, kind: type[_T], what: str) -> _T:
    # bool is an int subclass; a JSON true is never an order id.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise FeedParseError("exchange", f"{what} is not a {kind.__name__}")
    return value


def _cloid_of(entry: dict[str, object]) -> str | None:
    cloid = entry.get("cloid")
    return None if cloid is None else _expect(cloid, str, "cloid")


def _decimal_of(value: object, what: str) -> Decimal:
    try:
        number = Decimal(_expect(value, str, what))
    except InvalidOperation:
        raise FeedParseError("exchange", f"{what} {clip(value)} is not a decimal") from None
    if not number.is_finite():
        raise FeedParseError("exchange", f"{what} {clip(value)} is not finite")
    return number


def per_item(statuses: tuple[ItemStatus, ...], count: int) -> tuple[ItemStatus, ...]:
    """One status per item of a ``count``-item batch: a single error for the whole batch
    (payload validation) applies to every item."""
    if len(statuses) == 1 and count > 1 and isinstance(statuses[0], ItemRejected):
        return statuses * count
    return statuses


def answered_items(response: ExchangeResponse | None, count: int) -> int:
    """How many of a ``count``-item action's items, from the first, its answer speaks
    for: none when the answer was lost, all when the action was refused whole, else one
    per status. The venue may run the rest until the action expires."""
    if response is None:
        return 0
    if response.error is not None:
        return count
    return min(count, len(per_item(response.statuses, count)))
