"""HTTP to ``/info`` and ``/exchange``: aiohttp on the I/O loop, inside the rate budget.

Signed actions take the WebSocket ``post`` channel instead while it is connected
(:mod:`venues.hyperliquid.post_channel`): the same budget, the same answers, faster.

A request whose answer never arrives (timeout, reset connection), or that a server or
gateway failed (HTTP 5xx), raises :class:`RequestLostError`: the caller must treat the
outcome as unknown, never as refused. An HTTP 429 raises :class:`RateLimitedError` (the
request was refused) and starts the budget's backoff. Bodies are returned decoded and unparsed; only
:mod:`venues.hyperliquid.parse` and :mod:`venues.hyperliquid.errors` read them.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import Final, Protocol

import aiohttp

from makerd.venues.hyperliquid.io_loop import VenueStoppedError
from makerd.venues.hyperliquid.probe import SendProbe, SendStage
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget, action_weight, info_weight

_HTTP_TOO_MANY_REQUESTS: Final = 429
_HTTP_SERVER_ERROR: Final = 500
_JSON_HEADERS: Final = {"Content-Type": "application/json"}


class RequestLostError(Exception):
    """The request may or may not have reached the exchange; its outcome is unknown."""


class RateLimitedError(Exception):
    """The request was refused for rate limits: by the exchange (HTTP 429) or by the local
    budget before it was sent. ``retry_after_s`` is how long the budget now refuses new risk."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class VenueUnreachableError(Exception):
    """A start-up query failed for a reason that may pass (unreachable, slow, 429, 5xx)."""


class VenueRefusedError(Exception):
    """A start-up query was refused in a way retrying cannot fix (HTTP 4xx other than 429)."""


def fetch_info_blocking(api_url: str, body: dict[str, object], *, timeout_s: float) -> object:
    """One ``/info`` query with the standard library, for start-up before the loop runs."""
    request = urllib.request.Request(
        api_url.rstrip("/") + "/info",
        data=json.dumps(body).encode(),
        headers=_JSON_HEADERS,
        method="POST",
    )
    what = f"{body.get('type')} from {api_url}"
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            decoded: object = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500 and error.code != _HTTP_TOO_MANY_REQUESTS:
            # Not a blip: this URL does not serve the exchange's API (a configuration problem).
            raise VenueRefusedError(f"{what} was refused: HTTP {error.code}") from None
        raise VenueUnreachableError(f"{what} failed: HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError, json.JSONDecodeError) as error:
        raise VenueUnreachableError(f"{what} failed: {error}") from None
    return decoded


class ActionPoster(Protocol):
    """Another way for signed actions to reach ``/exchange`` (the WebSocket ``post``)."""

    @property
    def ready(self) -> bool: ...

    async def post_action(
        self, payload: dict[str, object], *, decided_ns: int | None = None
    ) -> object: ...


class RestClient:
    """The exchange's HTTP API for one base URL; create and use it on the I/O loop only.

    Signed actions go through ``posts`` (the WebSocket ``post`` channel) while it is
    connected, over HTTP otherwise; either way they spend the same budget.
    """

    def __init__(
        self,
        api_url: str,
        budget: RateBudget,
        *,
        timeout_s: float = 5.0,
        probe: SendProbe | None = None,
        posts: ActionPoster | None = None,
    ) -> None:
        """``probe`` (a benchmark's) hears when each order action's bytes are written."""
        self._base = api_url.rstrip("/")
        self._probe = probe
        self._posts = posts
        self._budget = budget
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def budget(self) -> RateBudget:
        return self._budget

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers=_JSON_HEADERS, trace_configs=self._traces()
            )

    def _traces(self) -> list[aiohttp.TraceConfig] | None:
        """aiohttp's own hook: it runs as the body is handed to the socket."""
        probe = self._probe
        if probe is None:
            return None

        async def written(
            _session: aiohttp.ClientSession,
            context: SimpleNamespace,
            _params: aiohttp.TraceRequestChunkSentParams,
        ) -> None:
            if context.trace_request_ctx is not None:
                probe.stamp(SendStage.WRITTEN, context.trace_request_ctx)

        trace = aiohttp.TraceConfig()
        trace.on_request_chunk_sent.append(written)
        return [trace]

    async def close(self) -> None:
        """Close the session for good; a request after this raises VenueStoppedError."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            # Let go of it first: a request made while it closes is refused, not sent on
            # a closing session (aiohttp's RuntimeError('Session is closed')).
            await session.close()

    async def info(self, body: dict[str, object], *, priority: Priority = Priority.QUERY) -> object:
        """A read query; waits for budget (the query reserve, or all of it when stopping)."""
        await self._budget.acquire(info_weight(str(body.get("type"))), priority=priority)
        return await self._post("/info", body)

    async def exchange(
        self,
        payload: dict[str, object],
        *,
        items: int,
        priority: Priority,
        decided_ns: int | None = None,
    ) -> object:
        """A signed action. New risk is refused (never queued) when the budget says wait."""
        weight = action_weight(items)
        if priority is Priority.TRADE:
            wait_s = self._budget.try_spend(weight, priority=priority)
            if wait_s > 0:
                raise RateLimitedError(
                    f"local request budget: next order in {wait_s:.1f}s", retry_after_s=wait_s
                )
        else:
            await self._budget.acquire(weight, priority=priority)
        self._budget.record_action(items)
        posts = self._posts
        if posts is None or not posts.ready:
            return await self._post("/exchange", payload, decided_ns)
        sent_at = self._budget.now()
        try:
            return await posts.post_action(payload, decided_ns=decided_ns)
        except RateLimitedError as error:  # a 429 on the socket: the budget backs off
            pause = self._budget.record_rate_limited(sent_at=sent_at)
            raise RateLimitedError(
                f"{error}; backing off {pause:.1f}s", retry_after_s=pause
            ) from None

    async def _post(self, path: str, body: dict[str, object], trace: int | None = None) -> object:
        if self._session is None:
            if self._closed:
                raise VenueStoppedError(f"{path}: the venue has stopped; not sent")
            raise RuntimeError("RestClient used before open()")
        sent_at = self._budget.now()
        try:
            async with self._session.post(
                self._base + path, data=json.dumps(body), trace_request_ctx=trace
            ) as response:
                if response.status == _HTTP_TOO_MANY_REQUESTS:
                    pause = self._budget.record_rate_limited(sent_at=sent_at)
                    raise RateLimitedError(
                        f"HTTP 429 from {path}; backing off {pause:.1f}s", retry_after_s=pause
                    )
                if response.status >= _HTTP_SERVER_ERROR:
                    # A gateway's or the server's failure: the request may or may not have
                    # been served (an action settles from the venue, a query is asked
                    # again). Said as what it is, not as an answer the parser cannot read.
                    raise RequestLostError(f"{path}: HTTP {response.status} {response.reason}")
                text = await response.text()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise RequestLostError(f"{path}: {type(error).__name__}: {error}") from None
        try:
            decoded: object = json.loads(text)
        except json.JSONDecodeError:
            # A non-JSON body (a proxy page, "Too Many Requests") is an answer, not a loss.
            return text
        return decoded
