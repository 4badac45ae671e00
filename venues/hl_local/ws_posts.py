"""Requests posted over ``/ws`` (``{"method": "post", "id": N, "request": ...}``).

An ``info`` post is answered like ``POST /info``. An ``action`` post is a signed action
answered like ``POST /exchange``, and it meets the same armed transport faults as one
(the exchange mirrors its HTTP statuses on the socket): a delay holds its answer, an
HTTP error or the IP rate limit answers ``{"type": "error", "payload": "<status>: ..."}``,
and a reset closes the connection without an answer. So a client that sends its actions
over the socket meets the fault suite's attacks exactly as one that posts them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from makerd.venues.hl_local.fault_state import Faults, RequestFate
from makerd.venues.hl_local.feeds import FeedPublisher
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
    ) -> None:
        self._feeds = feeds
        self._faults = faults
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
            if fate.delay_s > 0:
                task = asyncio.create_task(
                    self._later(replies, post_id, payload, fate, (arrived_ms, arrived_ns))
                )
                self._delayed.add(task)
                task.add_done_callback(self._delayed.discard)
                return
            self._act(replies, post_id, payload, fate, (arrived_ms, arrived_ns))
            return
        else:
            response = {"type": "error", "payload": f"Invalid post request type: {kind}"}
        replies.send({"channel": "post", "data": {"id": post_id, "response": response}})

    async def _later(
        self,
        replies: PostReplies,
        post_id: int,
        payload: Any,
        fate: RequestFate,
        arrived: tuple[int, int],
    ) -> None:
        await asyncio.sleep(fate.delay_s)
        self._act(replies, post_id, payload, fate, arrived)

    def _act(
        self,
        replies: PostReplies,
        post_id: int,
        payload: Any,
        fate: RequestFate,
        arrived: tuple[int, int],
    ) -> None:
        if fate.reset:
            replies.reset()
            return
        if fate.reply is not None:
            reply = fate.reply
        else:
            arrived_ms, arrived_ns = arrived
            reply = self._feeds.exchange.handle(
                payload, arrived_ms=arrived_ms, arrived_ns=arrived_ns
            )
            self._feeds.publish_events()
        response = _post_response(reply, "action", lambda body: body)
        replies.send({"channel": "post", "data": {"id": post_id, "response": response}})


def _post_response(reply: HttpReply, kind: str, wrap: Callable[[Any], Any]) -> JsonDict:
    if reply.status != 200:
        return {"type": "error", "payload": f"{reply.status}: {reply.body}"}
    return {"type": kind, "payload": wrap(reply.body)}
