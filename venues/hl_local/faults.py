"""Fault injection for tests, armed through ``POST /_debug/faults`` (loopback only).

The JSON body may combine any of these keys; each takes effect at once. Counts and
seconds must be finite and non-negative. An unknown key, a bad value, or a key that only
qualifies another one given without it (``delay_for_s``, ``hold_answer_s``,
``hold_stream_s``, ``cut_statuses_keep``, ``http_error_status``, ``paths``, ``reject_action_type``,
``rate_limit_kind``, ``user``) gets HTTP 400 with every
problem listed: ``{"status":"err","problems":["<key>: …", …]}``.

Connections and feeds

``drop_connections: true``
    close every WebSocket connection now (clients see an abnormal close); the same as
    ``drop_stream: "all"``.
``drop_stream: "market" | "user" | "all"``
    close now the WebSocket connections holding a user subscription (one with a ``user``
    field: ``userFills``, ``orderUpdates``, ``userEvents``…) for ``"user"``, those holding
    only market subscriptions for ``"market"``, every one (a socket that only posts
    actions too) for ``"all"``. The reply's ``dropped`` counts them.
``freeze_feed_s: <seconds>``
    stop pushing market data (l2Book, bbo, trades, allMids) for that long; sockets stay
    open, pings are still answered, user streams still flow.
``lose_order_updates_s: <seconds>``
    for that long, every ``orderUpdates`` push is lost (never sent, never sent again);
    sockets stay open and fills still flow: an order whose action's answer is lost too
    is then seen only in a listing.
``malformed_frames: {"count": <n>, "kinds": [<names>], "stream": "market" | "user" | "all",
"every_ms": <ms>, "burst": <n>}``
    mix n hostile frames into the real traffic of each WebSocket connection open now on
    ``stream`` (default ``"all"``; a connection is a user stream as for ``drop_stream``, and
    its user frames name its user; one that only posts actions gets none): ``burst`` frames
    (default 6, at most 1000) every ``every_ms`` ms (default 20, 1 to 60000), from the
    venue's loop, rotating through ``kinds`` (default every kind; a connection gets those of
    its stream); a heavy kind (``deep_json``, ``long_price``, ``long_fill_price``: a
    megabyte each) takes one slot in 250. The kinds and how each is built are in
    :mod:`venues.hl_local.hostile_frames`.
    ``count`` is required; unknown kinds are named, and kinds none of which goes on
    ``stream``, or only heavy ones for a stream, are refused. Armings add up; ``clear``
    cancels what is pending. The reply's ``malformed_to_send`` says how many frames this
    arming will send in all (n per matching connection); ``GET /_debug/malformed`` what
    was written so far and what is pending (see :mod:`venues.hl_local.admin`).

HTTP transport (``/exchange`` and ``/info``; an action posted over the WebSocket meets the same
faults as ``/exchange``, see :mod:`venues.hl_local.ws_posts`)

``delay_exchange_s: <seconds>``, ``delay_info_s: <seconds>``, ``delay_for_s: <seconds>``
    wait that long before handling each ``/exchange`` (``/info``) request, so an action
    also takes effect only after the delay (even if the client gave up waiting), for
    ``delay_for_s`` seconds from now (0 or absent: until cleared). A delay of 0 disarms
    that path's delay.
``hold_answer_next: <n>``, ``hold_answer_s: <seconds>`` (default 1)
    the next n signed actions (over HTTP or a WebSocket post) take effect at once, and
    the user streams hear of it at once, but their answers are held that long: the
    stream's report of what an action did (a modify's new leg filled) comes first.
``hold_stream_next: <n>``, ``hold_stream_s: <seconds>`` (default 1)
    the next n signed actions take effect at once and are answered at once, but the
    user streams hear of what they did (order updates, fills, trades) that long later:
    the answer comes first, as it mostly does from the exchange.
``cut_statuses_next: <n>``, ``cut_statuses_keep: <k>`` (default 0)
    the next n signed actions run in full (every item takes effect, and the user streams
    hear of it), but their answers list the statuses of the first k items only: an
    answer that leaves items out, which a client must not take for their refusal. An
    answer with no status list (a refusal of the whole action, a cancel's) is sent as
    it is, and uses one of the n up too.
``http_error_next: <n>``, ``http_error_status: <500..599 or 429>`` (default 502)
    the next n requests answer that status with its reason phrase as a text body
    (``Bad Gateway``) and do nothing; 429 is the exchange's bare IP rate limit, for the
    next n requests only (``rate_limit_kind: "ip"`` refuses every request for a time).
``reset_next: <n>``
    the next n requests get their connection reset without any answer and do nothing.
``paths: ["exchange", "info"]``
    the paths ``http_error_next`` and ``reset_next`` count (default both).

    On arrival a request takes a reset first, then an HTTP error, then the IP rate limit
    below; whichever it gets, the delay applies first. A request spoiled this way never
    reaches an account, so it is not in the account's action log.

Refusals of signed actions (HTTP 200 ``{"status":"err","response":<text>}``; the nonce
is not used, and the account's action log records the action as not accepted)

``reject_next: <n>``, ``reject_text: "<message>"``, ``reject_action_type: "<type>"``
    refuse the next n signed actions with that text (default ``"Order refused by the
    local venue's fault injection."``, which makerd files as "other"); with
    ``reject_action_type`` (``"order"``, ``"cancel"``, ``"scheduleCancel"``…) only actions
    of that type are refused and counted, the others pass.
``rate_limit_next: <n>``, ``rate_limit_http_429: <bool>``
    refuse the next n signed actions with the exchange's address rate-limit text, or
    with a bare HTTP 429 when ``rate_limit_http_429`` is true.
``rate_limit_for_s: <seconds>``, ``rate_limit_kind: "address" | "ip"`` (default address)
    for that long (0 disarms) refuse every signed action with the address rate-limit
    text, or for ``"ip"`` answer every ``/exchange`` and ``/info`` request with a bare
    HTTP 429 (``Too Many Requests``). It is checked before ``rate_limit_next``, which it
    does not consume.

The market and the accounts

``jump_pct: <percent>``, ``coin: "<COIN>"``
    move the synthetic mid of ``coin`` (every coin when omitted) by that percentage
    (above -100); resting user orders the new market crosses are filled by background
    takers.
``open_interest_cap_s: <seconds>``, ``coin: "<COIN>"``
    for that long (0 lifts it) the open interest of ``coin`` (every coin when omitted)
    is at its cap: an order that could grow the account's position (anything but a
    reduction no larger than the position, reduce-only or not) is refused with the
    exchange's text, ``Order would increase open interest while open interest is
    capped.``; placements and the new orders of modifies alike. Resting orders stay.
``halt_s: <seconds>``, ``coin: "<COIN>"``
    for that long (0 lifts it) trading in ``coin`` (every coin when omitted) is halted:
    every order of it, placement or modify, is refused with ``Trading is halted.``
``sweep: {"user": "0x…", "side": "buy" | "sell", "coin": "<COIN>"}``
    a taker fills now every resting order of ``user`` on the side it hits (``"buy"``
    takes the user's asks, ``"sell"`` its bids), of ``coin`` or of every coin, each at
    its own price, as real maker fills (userFills, user streams, position, fees). The
    reply's ``swept`` counts the orders filled.
``fire_scheduled_cancel: true``, ``user: "0x…"``
    fire the armed ``scheduleCancel`` of ``user`` (of every account with one armed when
    omitted) now, as if its time had come. The reply's ``fired`` lists the accounts.
``clear: true``
    disarm every pending fault first (counters, windows, delays, freeze, the malformed
    frames still to send, open-interest caps).

The reply lists what was armed (the keys given a non-default value):
``{"status":"ok","armed":{...},"dropped":<n>}``, plus ``swept``, ``fired`` and
``malformed_to_send`` when asked for. ``GET /_debug/account`` (see
:mod:`venues.hl_local.admin`) shows what an account did.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any, cast

from makerd.venues.hl_local.actions import ACTION_TYPES
from makerd.venues.hl_local.body_fields import BodyFields
from makerd.venues.hl_local.fault_state import (
    DEFAULT_HOLD_ANSWER_S,
    DEFAULT_HTTP_ERROR_STATUS,
    DEFAULT_REJECT_TEXT,
    PATH_NAMES,
    PathName,
    RateLimitKind,
)
from makerd.venues.hl_local.hostile_frames import (
    CATALOGUE,
    HEAVY_EVERY,
    HEAVY_KINDS,
    KINDS_BY_STREAM,
    HostileStream,
)
from makerd.venues.hl_local.ws import STREAM_KINDS, StreamKind

SWEEP_KEYS = frozenset({"user", "side", "coin"})
MALFORMED_KEYS = frozenset({"count", "kinds", "stream", "every_ms", "burst"})
DEFAULT_EVERY_MS = 20.0
MAX_EVERY_MS = 60_000.0
DEFAULT_BURST = 6
HTTP_TOO_MANY_REQUESTS = 429
MAX_BURST = 1_000  # the outbox holds 5000 frames before it calls a client slow
COMPANIONS = {  # key: the keys of which at least one must come with it
    "reject_action_type": ("reject_next",),
    "rate_limit_kind": ("rate_limit_for_s",),
    "delay_for_s": ("delay_exchange_s", "delay_info_s"),
    "hold_answer_s": ("hold_answer_next",),
    "hold_stream_s": ("hold_stream_next",),
    "cut_statuses_keep": ("cut_statuses_next",),
    "http_error_status": ("http_error_next",),
    "paths": ("http_error_next", "reset_next"),
    "user": ("fire_scheduled_cancel",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepRequest:
    """A taker on demand: ``is_buy`` takes ``user``'s asks, else its bids."""

    user: str
    is_buy: bool
    coin: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MalformedFramesRequest:
    """``malformed_frames``: ``count`` hostile frames per matching connection."""

    count: int
    kinds: tuple[str, ...] = tuple(CATALOGUE)
    stream: StreamKind = "all"
    every_ms: float = DEFAULT_EVERY_MS
    burst: int = DEFAULT_BURST

    def json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "kinds": list(self.kinds),
            "stream": self.stream,
            "every_ms": self.every_ms,
            "burst": self.burst,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRequest:
    """A parsed ``/_debug/faults`` body; ``None`` means the key was absent."""

    clear: bool = False
    drop_connections: bool = False
    drop_stream: StreamKind | None = None
    freeze_feed_s: float = 0.0
    lose_order_updates_s: float = 0.0
    malformed_frames: MalformedFramesRequest | None = None
    delay_exchange_s: float | None = None
    delay_info_s: float | None = None
    delay_for_s: float = 0.0
    hold_answer_next: int = 0
    hold_answer_s: float = DEFAULT_HOLD_ANSWER_S
    hold_stream_next: int = 0
    hold_stream_s: float = DEFAULT_HOLD_ANSWER_S
    cut_statuses_next: int = 0
    cut_statuses_keep: int = 0
    http_error_next: int = 0
    http_error_status: int = DEFAULT_HTTP_ERROR_STATUS
    reset_next: int = 0
    paths: frozenset[PathName] = frozenset(PATH_NAMES)
    reject_next: int = 0
    reject_text: str = DEFAULT_REJECT_TEXT
    reject_action_type: str | None = None
    rate_limit_next: int = 0
    rate_limit_http_429: bool = False
    rate_limit_for_s: float | None = None
    rate_limit_kind: RateLimitKind = "address"
    jump_pct: Decimal | None = None
    open_interest_cap_s: float | None = None
    halt_s: float | None = None
    coin: str | None = None
    sweep: SweepRequest | None = None
    fire_scheduled_cancel: bool = False
    user: str | None = None

    @property
    def drop(self) -> StreamKind | None:
        """Which WebSocket connections to close now, if any."""
        return "all" if self.drop_connections else self.drop_stream

    def armed(self) -> dict[str, Any]:
        """What this request arms, for the reply: the keys given a non-default value."""
        idle = FaultRequest()
        return {
            item.name: _json_value(getattr(self, item.name))
            for item in fields(self)
            if getattr(self, item.name) != getattr(idle, item.name)
        }


KNOWN_KEYS = frozenset(item.name for item in fields(FaultRequest))


def parse_fault_request(body: Any, coins: tuple[str, ...]) -> FaultRequest | list[str]:
    """Parse the admin body; return every problem found instead when it is invalid."""
    if not isinstance(body, dict):
        return ["body: expected a JSON object"]
    given = BodyFields(body)
    given.unknown(KNOWN_KEYS)
    given.problems += [
        f"{key}: only with {' or '.join(needs)}"
        for key, needs in COMPANIONS.items()
        if key in body and not any(need in body for need in needs)
    ]
    paths = given.choices("paths", PATH_NAMES)
    request = FaultRequest(
        clear=given.flag("clear"),
        drop_connections=given.flag("drop_connections"),
        drop_stream=cast("StreamKind | None", given.choice("drop_stream", STREAM_KINDS)),
        freeze_feed_s=given.seconds("freeze_feed_s") or 0.0,
        lose_order_updates_s=given.seconds("lose_order_updates_s") or 0.0,
        malformed_frames=_parse_malformed(given),
        delay_exchange_s=given.seconds("delay_exchange_s"),
        delay_info_s=given.seconds("delay_info_s"),
        delay_for_s=given.seconds("delay_for_s") or 0.0,
        hold_answer_next=given.count("hold_answer_next"),
        hold_answer_s=_or_default(given.seconds("hold_answer_s"), DEFAULT_HOLD_ANSWER_S),
        hold_stream_next=given.count("hold_stream_next"),
        hold_stream_s=_or_default(given.seconds("hold_stream_s"), DEFAULT_HOLD_ANSWER_S),
        cut_statuses_next=given.count("cut_statuses_next"),
        cut_statuses_keep=given.count("cut_statuses_keep"),
        http_error_next=given.count("http_error_next"),
        http_error_status=_http_error_status(given),
        reset_next=given.count("reset_next"),
        paths=cast("frozenset[PathName]", paths or frozenset(PATH_NAMES)),
        reject_next=given.count("reject_next"),
        reject_text=given.text("reject_text") or DEFAULT_REJECT_TEXT,
        reject_action_type=given.choice("reject_action_type", tuple(sorted(ACTION_TYPES))),
        rate_limit_next=given.count("rate_limit_next"),
        rate_limit_http_429=given.flag("rate_limit_http_429"),
        rate_limit_for_s=given.seconds("rate_limit_for_s"),
        rate_limit_kind=cast(
            "RateLimitKind", given.choice("rate_limit_kind", ("address", "ip")) or "address"
        ),
        jump_pct=given.percent("jump_pct"),
        open_interest_cap_s=given.seconds("open_interest_cap_s"),
        halt_s=given.seconds("halt_s"),
        coin=given.choice("coin", coins),
        sweep=_parse_sweep(given, coins),
        fire_scheduled_cancel=given.flag("fire_scheduled_cancel"),
        user=given.address("user"),
    )
    return given.problems or request


def _or_default(seconds: float | None, default: float) -> float:
    return default if seconds is None else seconds


def _http_error_status(given: BodyFields) -> int:
    """A server error, or 429: the exchange's bare IP rate limit, here for n requests."""
    value = given.body.get("http_error_status", DEFAULT_HTTP_ERROR_STATUS)
    if type(value) is int and (value == HTTP_TOO_MANY_REQUESTS or 500 <= value <= 599):
        return value
    given.bad("http_error_status", f"an integer from 500 to 599, or {HTTP_TOO_MANY_REQUESTS}")
    return DEFAULT_HTTP_ERROR_STATUS


def _parse_sweep(given: BodyFields, coins: tuple[str, ...]) -> SweepRequest | None:
    value = given.body.get("sweep")
    if value is None:
        return None
    if not isinstance(value, dict):
        given.bad("sweep", "an object with user, side and optionally coin")
        return None
    nested = BodyFields(value, prefix="sweep.")
    nested.unknown(SWEEP_KEYS)
    nested.required("user", "side")
    user = nested.address("user")
    side = nested.choice("side", ("buy", "sell"))
    coin = nested.choice("coin", coins)
    given.problems += nested.problems
    if user is None or side is None:
        return None
    return SweepRequest(user=user, is_buy=side == "buy", coin=coin)


def _parse_malformed(given: BodyFields) -> MalformedFramesRequest | None:
    value = given.body.get("malformed_frames")
    if value is None:
        return None
    if not isinstance(value, dict):
        given.bad("malformed_frames", "an object with count and optionally kinds, stream, …")
        return None
    nested = BodyFields(value, prefix="malformed_frames.")
    nested.unknown(MALFORMED_KEYS)
    nested.required("count")
    request = MalformedFramesRequest(
        count=nested.count("count"),
        stream=cast("StreamKind", nested.choice("stream", STREAM_KINDS) or "all"),
        every_ms=nested.number_in("every_ms", 1, MAX_EVERY_MS, DEFAULT_EVERY_MS),
        burst=nested.integer_in("burst", 1, MAX_BURST, DEFAULT_BURST),
    )
    kinds = _parse_kinds(nested, request.stream)
    given.problems += nested.problems
    return None if nested.problems else replace(request, kinds=kinds)


def _parse_kinds(nested: BodyFields, stream: StreamKind) -> tuple[str, ...]:
    """The kinds listed, in catalogue order; each problem with them noted."""
    value = nested.body.get("kinds", list(CATALOGUE))
    if not isinstance(value, list) or not value or any(type(v) is not str for v in value):
        nested.bad("kinds", "a non-empty list of kind names")
        return ()
    unknown = [name for name in value if name not in CATALOGUE]
    if unknown:
        nested.problems.append(
            f"{nested.prefix}kinds: unknown {', '.join(map(repr, unknown))}"
            f" (known: {', '.join(CATALOGUE)})"
        )
        return ()
    kinds = tuple(name for name in CATALOGUE if name in value)
    served: tuple[HostileStream, ...] = ("market", "user") if stream == "all" else (stream,)
    on_stream = {name: [k for k in kinds if k in KINDS_BY_STREAM[name]] for name in served}
    if not any(on_stream.values()):
        nested.problems.append(f"{nested.prefix}kinds: none is sent on the {stream} stream")
    for name, listed in on_stream.items():
        if listed and set(listed) <= HEAVY_KINDS:
            nested.problems.append(
                f"{nested.prefix}kinds: only heavy kinds on the {name} stream; they take"
                f" one slot in {HEAVY_EVERY}, so list a light kind too"
            )
    return kinds


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, MalformedFramesRequest):
        return value.json()
    if isinstance(value, SweepRequest):
        return {"user": value.user, "side": "buy" if value.is_buy else "sell", "coin": value.coin}
    return value
