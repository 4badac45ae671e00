"""The armed faults: counters of refusals to come, deadlines and delays.

:class:`Faults` is asked at two points. Every HTTP request to ``/exchange`` or ``/info``
gets its :class:`RequestFate` on arrival (a delay, a connection reset or an error answer
instead of the real one); every signed action whose account is known asks
:meth:`Faults.take_refusal` before it runs. The keys that arm them are documented in
:mod:`venues.hl_local.faults`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Literal

from makerd.venues.hl_local.accounts import Account
from makerd.venues.hl_local.wire import HttpReply, JsonDict, error_response

if TYPE_CHECKING:
    from makerd.venues.hl_local.faults import FaultRequest

PathName = Literal["exchange", "info"]
RateLimitKind = Literal["address", "ip"]
PATH_NAMES: tuple[PathName, ...] = ("exchange", "info")
REQUEST_BUFFER = 10_000
DEFAULT_REJECT_TEXT = "Order refused by the local venue's fault injection."
DEFAULT_HTTP_ERROR_STATUS = 502
DEFAULT_HOLD_ANSWER_S = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFate:
    """What happens to one HTTP request: wait ``delay_s``, then reset, answer or run it
    (and, run, hold its answer ``hold_s`` more, the streams' news of it ``stream_hold_s``,
    and answer for its first ``keep_statuses`` items only when that is set)."""

    delay_s: float = 0.0
    hold_s: float = 0.0
    stream_hold_s: float = 0.0
    keep_statuses: int | None = None
    reset: bool = False
    reply: HttpReply | None = None

    @property
    def status(self) -> int:
        """The HTTP status it is answered with if it runs as asked (200), 0 for a reset."""
        if self.reset:
            return 0
        return self.reply.status if self.reply is not None else int(HTTPStatus.OK)


@dataclass(slots=True, kw_only=True)
class _Countdown:
    """The next ``left`` requests to one of ``paths`` are spoiled."""

    left: int = 0
    paths: frozenset[PathName] = frozenset(PATH_NAMES)
    status: int = DEFAULT_HTTP_ERROR_STATUS

    def take(self, path: PathName) -> bool:
        if self.left <= 0 or path not in self.paths:
            return False
        self.left -= 1
        return True


@dataclass(slots=True, kw_only=True)
class _Window:
    """Active from arming until ``until_ms`` (``None``: until cleared)."""

    armed: bool = False
    until_ms: int | None = None

    @staticmethod
    def closing_after(seconds: float, now_ms: int) -> _Window:
        """Active for ``seconds`` from ``now_ms``; 0 disarms."""
        return _Window(armed=seconds > 0, until_ms=now_ms + round(seconds * 1000))

    @staticmethod
    def open_for(seconds: float, now_ms: int) -> _Window:
        """Active for ``seconds`` from ``now_ms``; 0 keeps it active until cleared."""
        return _Window(armed=True, until_ms=now_ms + round(seconds * 1000) if seconds else None)

    def active(self, now_ms: int) -> bool:
        return self.armed and (self.until_ms is None or now_ms < self.until_ms)


@dataclass(slots=True, kw_only=True)
class _Delay:
    seconds: float = 0.0
    window: _Window = field(default_factory=_Window)


@dataclass(slots=True, kw_only=True)
class _Rejections:
    """``reject_next``: a count, its text, and the only action type it applies to."""

    left: int = 0
    text: str = DEFAULT_REJECT_TEXT
    action_type: str | None = None

    def take(self, action_type: str) -> bool:
        if self.left <= 0 or self.action_type not in (None, action_type):
            return False
        self.left -= 1
        return True


@dataclass(slots=True, kw_only=True)
class _Holds:
    """The next ``left`` actions run at once, and one thing of each waits ``seconds``:
    its answer (``hold_answer_next``), or the user streams' news of it
    (``hold_stream_next``)."""

    left: int = 0
    seconds: float = DEFAULT_HOLD_ANSWER_S

    def take(self) -> float:
        if self.left <= 0:
            return 0.0
        self.left -= 1
        return self.seconds


@dataclass(slots=True, kw_only=True)
class _CutStatuses:
    """``cut_statuses_next``: the next ``left`` actions run in full, answered for their
    first ``keep`` items only."""

    left: int = 0
    keep: int = 0

    def take(self) -> int | None:
        if self.left <= 0:
            return None
        self.left -= 1
        return self.keep


def answer_cut(reply: HttpReply, keep: int | None) -> HttpReply:
    """``reply`` with only its first ``keep`` item statuses (as it is when ``keep`` is
    None, or when it has no status list: a whole-action refusal, a cancel's "success")."""
    body = reply.body
    if keep is None or not isinstance(body, dict) or not isinstance(body.get("response"), dict):
        return reply
    response: JsonDict = body["response"]
    data = response.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("statuses"), list):
        return reply
    cut = {**data, "statuses": data["statuses"][:keep]}
    return HttpReply(status=reply.status, body={**body, "response": {**response, "data": cut}})


@dataclass(slots=True, kw_only=True)
class _RateLimits:
    next_left: int = 0
    next_http_429: bool = False
    window: _Window = field(default_factory=_Window)
    window_kind: RateLimitKind = "address"


class Faults:
    """Every armed fault; ``clear`` puts each back to its idle state."""

    _rejections: _Rejections
    _rate_limits: _RateLimits
    _frozen: _Window
    _order_updates_lost: _Window
    _delays: dict[PathName, _Delay]
    _http_errors: _Countdown
    _resets: _Countdown
    _held_answers: _Holds
    _held_streams: _Holds
    _cut_statuses: _CutStatuses

    def __init__(self) -> None:
        self._disarm()

    def _disarm(self) -> None:
        self._rejections = _Rejections()
        self._rate_limits = _RateLimits()
        self._frozen = _Window()
        self._order_updates_lost = _Window()
        self._delays = {path: _Delay() for path in PATH_NAMES}
        self._http_errors = _Countdown()
        self._resets = _Countdown()
        self._held_answers = _Holds()
        self._held_streams = _Holds()
        self._cut_statuses = _CutStatuses()

    def arm(self, request: FaultRequest, now_ms: int) -> None:
        """Arm what ``request`` names, after disarming everything if it says ``clear``."""
        if request.clear:
            self._disarm()
        if request.reject_next:
            self._rejections = _Rejections(
                left=request.reject_next,
                text=request.reject_text,
                action_type=request.reject_action_type,
            )
        if request.rate_limit_next:
            self._rate_limits.next_left = request.rate_limit_next
            self._rate_limits.next_http_429 = request.rate_limit_http_429
        if request.rate_limit_for_s is not None:
            self._rate_limits.window = _Window.closing_after(request.rate_limit_for_s, now_ms)
            self._rate_limits.window_kind = request.rate_limit_kind
        if request.freeze_feed_s:
            self._frozen = _Window.closing_after(request.freeze_feed_s, now_ms)
        if request.lose_order_updates_s:
            self._order_updates_lost = _Window.closing_after(request.lose_order_updates_s, now_ms)
        delays: tuple[tuple[PathName, float | None], ...] = (
            ("exchange", request.delay_exchange_s),
            ("info", request.delay_info_s),
        )
        for path, seconds in delays:
            if seconds is not None:
                window = _Window.open_for(request.delay_for_s, now_ms)
                self._delays[path] = _Delay(seconds=seconds, window=window)
        if request.http_error_next:
            self._http_errors = _Countdown(
                left=request.http_error_next, paths=request.paths, status=request.http_error_status
            )
        if request.reset_next:
            self._resets = _Countdown(left=request.reset_next, paths=request.paths)
        self._arm_answers(request)

    def _arm_answers(self, request: FaultRequest) -> None:
        """The faults that let an action run and spoil what is told of it."""
        if request.hold_answer_next:
            self._held_answers = _Holds(
                left=request.hold_answer_next, seconds=request.hold_answer_s
            )
        if request.hold_stream_next:
            self._held_streams = _Holds(
                left=request.hold_stream_next, seconds=request.hold_stream_s
            )
        if request.cut_statuses_next:
            self._cut_statuses = _CutStatuses(
                left=request.cut_statuses_next, keep=request.cut_statuses_keep
            )

    def feed_frozen(self, now_ms: int) -> bool:
        return self._frozen.active(now_ms)

    def order_updates_lost(self, now_ms: int) -> bool:
        return self._order_updates_lost.active(now_ms)

    def request_fate(self, path: PathName, now_ms: int) -> RequestFate:
        """Decide on arrival what becomes of one HTTP request (consumes a counted fault).

        The counted faults come first (a reset, then an HTTP error), then the IP rate
        limit; the delay applies whatever the answer.
        """
        delay = self._delays[path]
        delay_s = delay.seconds if delay.window.active(now_ms) else 0.0
        if self._resets.take(path):
            return RequestFate(delay_s=delay_s, reset=True)
        if self._http_errors.take(path):
            status = self._http_errors.status
            return RequestFate(delay_s=delay_s, reply=HttpReply(status=status, body=_text(status)))
        limits = self._rate_limits
        if limits.window_kind == "ip" and limits.window.active(now_ms):
            return RequestFate(delay_s=delay_s, reply=HttpReply(status=429, body=_text(429)))
        if path == "info":
            return RequestFate(delay_s=delay_s)
        return RequestFate(
            delay_s=delay_s,
            hold_s=self._held_answers.take(),
            stream_hold_s=self._held_streams.take(),
            keep_statuses=self._cut_statuses.take(),
        )

    def take_refusal(self, account: Account, action_type: str, now_ms: int) -> HttpReply | None:
        """The refusal owed to a signed action, if one is armed (consumes a counted one)."""
        limits = self._rate_limits
        if limits.window_kind == "address" and limits.window.active(now_ms):
            return HttpReply.json(error_response(address_rate_limit_text(account)))
        if limits.next_left > 0:
            limits.next_left -= 1
            if limits.next_http_429:
                return HttpReply(status=429, body=_text(429))
            return HttpReply.json(error_response(address_rate_limit_text(account)))
        if self._rejections.take(action_type):
            return HttpReply.json(error_response(self._rejections.text))
        return None


def address_rate_limit_text(account: Account) -> str:
    """The exchange's refusal when an address has used up its request budget."""
    cap = REQUEST_BUFFER + int(account.cum_volume)
    used = max(account.n_requests, cap) + 1
    return (
        f"Too many cumulative requests sent ({used} > {cap}) for cumulative volume"
        f" traded ${account.cum_volume:.2f}. Place taker orders to free up 1 request"
        " per USDC traded."
    )


def _text(status: int) -> str:
    """The short body of a bare HTTP error: its reason phrase."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Server Error"
