"""A connection lost while a post's own send is still writing: the post is lost once, and
the operator's log gets no ERROR line for it.

The socket's reader hears the close and fails the posts waiting for an answer, the one
still in its send among them; the send then fails too, and that is what the caller hears.
The answer's exception was left unread, and asyncio logged "Future exception was never
retrieved" at ERROR whenever the answer was collected (about one run in 20 of the stop
tests). The connection here is a stand-in: the interleaving (a send suspended while the
reader reports the close) cannot be arranged on a real socket on demand.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError

from makerd.venues.hyperliquid.post_channel import PostChannel
from makerd.venues.hyperliquid.rest import RequestLostError
from makerd.venues.hyperliquid.ws_connection import ReconnectPolicy


class _ClosedDuringSend:
    """A connection whose send yields to the loop, and meanwhile the reader hears it close."""

    def __init__(self, channel: PostChannel) -> None:
        self._channel = channel

    async def send(self, text: str) -> None:
        await asyncio.sleep(0)
        self._channel.socket._report(connected=False, reason="closed_error")
        raise ConnectionClosedError(None, None)


async def _post_over(channel: PostChannel) -> str | None:
    """Why the post was lost (None: it was not); only the text, so that no traceback keeps
    the post's frame, and its answer, alive past the collection."""
    channel.socket.connection = _ClosedDuringSend(channel)  # type: ignore[assignment]
    try:
        await channel.post_action({"type": "noop", "nonce": 1})
    except RequestLostError as lost:
        return str(lost)
    return None


def test_a_post_whose_connection_closes_during_its_send_leaves_no_error_in_the_log() -> None:
    channel = PostChannel(url="ws://127.0.0.1:9/ws", policy=ReconnectPolicy(), now_ns=lambda: 0)
    unread: list[dict[str, Any]] = []

    async def scenario() -> str | None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: unread.append(ctx))
        lost = await _post_over(channel)
        gc.collect()  # the abandoned answer is collected here, as it would be later in a run
        await asyncio.sleep(0)
        return lost

    lost = asyncio.run(scenario())

    assert lost == "post 1: ConnectionClosedError", "the caller hears the post as lost"
    assert [context.get("message") for context in unread] == []


@pytest.mark.parametrize("answered", [True, False])
def test_an_answer_read_or_still_awaited_is_not_reported_either(answered: bool) -> None:
    """The ordinary endings stay silent too: an answer that came, a post still waiting."""
    channel = PostChannel(url="ws://127.0.0.1:9/ws", policy=ReconnectPolicy(), now_ns=lambda: 0)
    unread: list[dict[str, Any]] = []

    class _Answering:
        async def send(self, text: str) -> None:
            if answered:
                channel._on_frame("post", {"id": 1, "response": _ACCEPTED}, 0)

    async def scenario() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: unread.append(ctx))
        channel.socket.connection = _Answering()  # type: ignore[assignment]
        post = asyncio.ensure_future(channel.post_action({"type": "noop", "nonce": 1}))
        await asyncio.sleep(0.01)
        if not answered:
            post.cancel()
        await asyncio.gather(post, return_exceptions=True)
        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(scenario())

    assert [context.get("message") for context in unread] == []


_ACCEPTED = {"type": "action", "payload": {"status": "ok", "response": {"type": "default"}}}
