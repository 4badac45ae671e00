"""The venue's universe read at start: blocking ``/info`` queries, retried while the
venue is unreachable, before any thread of the run starts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Final

from makerd.venues.hyperliquid.meta import Listing, asking_once, resolve_listing
from makerd.venues.hyperliquid.rest import VenueUnreachableError, fetch_info_blocking

log = logging.getLogger("makerd.venue")
_META_TIMEOUT_S: Final = 10.0
_START_FIRST_BACKOFF_S: Final = 0.5
_START_MAX_BACKOFF_S: Final = 5.0


def fetch_listing(
    api_url: str,
    coin: str,
    *,
    retry_for_s: float = 0.0,
    stop_requested: threading.Event | None = None,
) -> Listing:
    """One coin's listing (see :func:`fetch_listings`)."""
    (listing,) = fetch_listings(
        api_url, (coin,), retry_for_s=retry_for_s, stop_requested=stop_requested
    )
    return listing


def fetch_listings(
    api_url: str,
    coins: Sequence[str],
    *,
    retry_for_s: float = 0.0,
    stop_requested: threading.Event | None = None,
) -> tuple[Listing, ...]:
    """Read ``meta`` now (blocking, before any thread starts): each coin and its dex's coins.

    A ``dex:COIN`` name is looked up on its builder dex (``perpDexs``, then that dex's
    ``meta``). Each dex's ``meta`` is asked once for all its coins, and a retry asks only
    what was not answered yet.

    A venue that is unreachable, slow, rate limiting or failing is a temporary problem:
    it is retried with backoff for ``retry_for_s`` (or until a stop is requested), then
    :class:`VenueUnreachableError` says so. An unknown coin is not retried.
    """
    query = asking_once(lambda body: fetch_info_blocking(api_url, body, timeout_s=_META_TIMEOUT_S))
    deadline = time.monotonic() + retry_for_s
    backoff_s = _START_FIRST_BACKOFF_S
    attempt = 1
    while True:
        try:
            return tuple(resolve_listing(query, coin) for coin in coins)
        except VenueUnreachableError as error:
            left_s = deadline - time.monotonic()
            stopping = stop_requested is not None and stop_requested.is_set()
            if left_s <= 0 or stopping:
                raise VenueUnreachableError(f"{error} (after {attempt} attempts)") from None
            wait_s = min(backoff_s, left_s)
            log.warning(
                "event=venue_unreachable_at_start attempt=%d retry_in_s=%.1f error=%r",
                attempt,
                wait_s,
                str(error),
            )
            if stop_requested is not None:
                stop_requested.wait(wait_s)
            else:
                time.sleep(wait_s)
            backoff_s = min(backoff_s * 2, _START_MAX_BACKOFF_S)
            attempt += 1
