"""Paper mode's funding: the real market's current rate, charged on the paper position.

At each funding time (hourly, as on Hyperliquid) the position held then pays or
receives position × oracle price × the coin's current rate, read from
``metaAndAssetCtxs`` (its dex's, for a builder-deployed coin). A venue that does not
answer is asked again with backoff: the payment is late, never skipped or guessed. With
several coins each has its own, on its own coin's position.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Final

from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.meta import dex_of
from makerd.venues.hyperliquid.parse_funding import parse_asset_funding
from makerd.venues.hyperliquid.rest import VenueUnreachableError, fetch_info_blocking
from makerd.venues.paper.exchange import PaperExchange
from makerd.venues.paper.funding import FundingSchedule, funding_payment

log = logging.getLogger("makerd.venue.paper")
NS_PER_S: Final = 1_000_000_000
HOURLY_S: Final = 3600.0
_POLL_S: Final = 0.5
_QUERY_TIMEOUT_S: Final = 5.0
_FIRST_BACKOFF_S: Final = 1.0
_MAX_BACKOFF_S: Final = 60.0


class PaperFunding:
    """Runs on the paper venue's I/O loop, the only thread that touches ``exchange``."""

    def __init__(
        self,
        *,
        api_url: str,
        coin: str,
        exchange: PaperExchange,
        deliver: Callable[[object], None],
        now_ns: Callable[[], int],
        interval_s: float = HOURLY_S,
    ) -> None:
        self._api_url = api_url
        self._coin = coin
        # A builder dex's coin is listed only in that dex's contexts (``dex`` in the request).
        dex = dex_of(coin)
        self._question: dict[str, object] = {"type": "metaAndAssetCtxs"}
        if dex:
            self._question["dex"] = dex
        self._exchange = exchange
        self._deliver = deliver
        self._now_ns = now_ns
        self._schedule = FundingSchedule(
            interval_ns=round(interval_s * NS_PER_S), start_ns=now_ns()
        )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(_POLL_S)
            for time_ns in self._schedule.due(self._now_ns()):
                position = self._exchange.position  # what is held at the funding time
                if position == 0:
                    continue
                rate, oracle = await self._current_rate()
                payment = funding_payment(
                    coin=self._coin,
                    position=position,
                    mark=oracle,
                    rate=rate,
                    time_ns=time_ns,
                    ts_local=self._now_ns(),
                )
                if payment is not None:
                    self._exchange.book_funding(payment.amount)  # the paper account's value
                    self._deliver(payment)

    async def _current_rate(self) -> tuple[Decimal, Decimal]:
        backoff_s = _FIRST_BACKOFF_S
        while True:
            try:
                answer = await asyncio.to_thread(
                    fetch_info_blocking,
                    self._api_url,
                    self._question,
                    timeout_s=_QUERY_TIMEOUT_S,
                )
                return parse_asset_funding(answer, self._coin)
            except (VenueUnreachableError, FeedParseError) as error:
                log.warning(
                    "event=funding_rate_unavailable error=%r retry_in_s=%.0f", str(error), backoff_s
                )
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, _MAX_BACKOFF_S)
