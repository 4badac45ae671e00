"""Requests posted over ``/ws`` (``{"method": "post", "id": N, "request": ...}``).

An ``info`` post is answered like ``POST /info``. An ``action`` post is a signed action
answered like ``POST /exchange``, and it meets the same armed transport faults as one
(the exchange mirrors its HTTP statuses on the socket): a delay holds its answer, an
HTTP error or the IP rate limit answers ``{"type": "error", "payload": "<status>: ..."}``,
and a reset closes the connection without an answer, and a held answer (``hold_answer_next``)
is sent that long after the action took effect; the streams' news held
(``hold_stream_next``) and an answer cut (``cut_statuses_next``) are as over HTTP. So a
client that sends its actions over the socket meets the fault suite's attacks exactly as
one that posts them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from makerd.venues.hl_local.fault_state import Faults, RequestFate, answer_cut
from makerd.venues.hl_local.feeds import FeedPublisher
from makerd.venues.hl_local.stamps import ReactionStamps, request_type
from makerd.venues.hl_local.wire import HttpReply, JsonDict


class PostReplies(Protocol):
    """The connection a post came on."""

    def send(self, frame: JsonDict) -> None: ...

    def reset(self) -> None:
        """Close the connection at once, answering nothing."""
        ...


class PostDesk:
    def __init__(
        self,
        *,
        feeds: FeedPublisher,
        faults: Faults,
        now_ms: Callable[[], int],
        stamps: ReactionStamps,
    ) -> None:
        self._feeds = feeds
        self._faults = faults
        self._stamps = stamps
        self._now_ms = now_ms
        self._delayed: set[asyncio.Task[None]] = set()

    def answer(self, replies: PostReplies, post_id: int, request: Any, arrived_ns: int) -> None:
        """Answer one post, now or (a delay is armed) later; ``arrived_ns`` is when its
        frame was read, on the venue's monotonic clock (the reaction stamps)."""
        kind = request.get("type") if isinstance(request, dict) else None
        payload = request.get("payload") if isinstance(request, dict) else None
        if kind == "info":
            reply = self._feeds.info.handle(payload)
            info_type = payload.get("type") if isinstance(payload, dict) else None
            response = _post_response(reply, "info", lambda body: {"type": info_type, "data": body})
        elif kind == "action":
            arrived_ms = self._now_ms()
            fate = self._faults.request_fate("exchange", arrived_ms)
            self._stamps.request_arrived(
                path="ws_post",
                kind=request_type("exchange", payload),
                arrived_ns=arrived_ns,
                status=fate.status,
            )
            post = _ActionPost(
                replies=replies,
                post_id=post_id,
                payload=payload,
                fate=fate,
                arrived_ms=arrived_ms,
                arrived_ns=arrived_ns,
            )
            if post.fate.delay_s <= 0:
                self._act(post)
                return
            self._track(self._later(post))
            return
        else:
            response = {"type": "error", "payload": f"Invalid post request type: {kind}"}
        replies.send({"channel": "post", "data": {"id": post_id, "response": response}})

    async def _later(self, post: _ActionPost) -> None:
        await asyncio.sleep(post.fate.delay_s)
        self._act(post)

    def _act(self, post: _ActionPost) -> None:
        if post.fate.reset:
            post.replies.reset()
            return
        reply = post.fate.reply
        if reply is None:
            reply = self._feeds.exchange.handle(
                post.payload, arrived_ms=post.arrived_ms, arrived_ns=post.arrived_ns
            )
            self._feeds.publish_events(after_s=post.fate.stream_hold_s)
            reply = answer_cut(reply, post.fate.keep_statuses)
        response = _post_response(reply, "action", lambda body: body)
        frame = {"channel": "post", "data": {"id": post.post_id, "response": response}}
        if post.fate.hold_s > 0:
            self._track(self._send_later(post, frame))
            return
        post.replies.send(frame)

    async def _send_later(self, post: _ActionPost, frame: JsonDict) -> None:
        await asyncio.sleep(post.fate.hold_s)
        post.replies.send(frame)

    def _track(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._delayed.add(task)
        task.add_done_callback(self._delayed.discard)


@dataclass(frozen=True, slots=True, kw_only=True)
class _ActionPost:
    """A signed action posted on a connection, and what its armed faults made of it."""

    replies: PostReplies
    post_id: int
    payload: Any
    fate: RequestFate
    arrived_ms: int
    arrived_ns: int


def _post_response(reply: HttpReply, kind: str, wrap: Callable[[Any], Any]) -> JsonDict:
    if reply.status != 200:
        return {"type": "error", "payload": f"{reply.status}: {reply.body}"}
    return {"type": kind, "payload": wrap(reply.body)}
