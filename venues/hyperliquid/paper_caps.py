"""Paper mode's open-interest caps: the exchange's list of capped coins, asked every 10 s.

While a coin's open interest is at its cap, the exchange refuses every order that could
grow a position on it, and live makerd holds the coin reduce-only. Paper matched those
orders as if nothing were wrong: a paper run on a capped coin filled where live would have
been refused, and its figures said more than live could earn. So paper asks the exchange
which coins are capped (``perpsAtOpenInterestCap``, each dex of the quoted coins) and its
matching refuses the same orders with the exchange's text; from there on the risk
guardian's hold is the same code as live's. An answer that does not come leaves the last
one in force (logged), and the next poll asks again; a venue that refuses the question (one
that does not serve it) is not asked again, and paper then matches as if nothing is capped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Final

from makerd.venues.hyperliquid.meta import dex_of
from makerd.venues.hyperliquid.rest import (
    VenueRefusedError,
    VenueUnreachableError,
    fetch_info_blocking,
)

log = logging.getLogger("makerd.venue.paper")
POLL_S: Final = 10.0
_QUERY_TIMEOUT_S: Final = 5.0


class PaperCapWatch:
    """Runs on the paper venue's I/O loop; ``apply`` hears each change of the capped set."""

    def __init__(
        self,
        *,
        api_url: str,
        coins: Sequence[str],
        apply: Callable[[frozenset[str]], None],
        poll_s: float = POLL_S,
    ) -> None:
        self._api_url = api_url
        self._coins = tuple(coins)
        self._dexes = tuple(dict.fromkeys(dex_of(coin) for coin in coins))
        self._apply = apply
        self._poll_s = poll_s
        self.capped: frozenset[str] = frozenset()
        self.served = True
        """False once the venue refused the question: it is not asked again."""

    async def run(self) -> None:
        while self.served:
            await self.poll()
            await asyncio.sleep(self._poll_s)

    async def poll(self) -> None:
        """Ask once; apply the answer if every dex gave one and it changed something."""
        capped: set[str] = set()
        for dex in self._dexes:
            listed = await self._ask(dex)
            if listed is None:
                return
            capped |= {coin for coin in self._coins if _named(coin, dex, listed)}
        if capped != self.capped:
            self.capped = frozenset(capped)
            log.warning("event=paper_open_interest_capped coins=%s", ",".join(sorted(capped)))
            self._apply(self.capped)

    async def _ask(self, dex: str) -> list[str] | None:
        question: dict[str, object] = {"type": "perpsAtOpenInterestCap"}
        if dex:
            question["dex"] = dex
        try:
            answer = await asyncio.to_thread(
                fetch_info_blocking, self._api_url, question, timeout_s=_QUERY_TIMEOUT_S
            )
        except VenueUnreachableError as error:
            log.warning("event=open_interest_caps_unavailable dex=%r error=%r", dex, str(error))
            return None
        except VenueRefusedError as error:
            log.error("event=open_interest_caps_not_served dex=%r error=%r", dex, str(error))
            self.served = False
            return None
        if not isinstance(answer, list) or not all(isinstance(coin, str) for coin in answer):
            log.warning("event=open_interest_caps_unreadable dex=%r answer=%.200r", dex, answer)
            return None
        return answer


def _named(coin: str, dex: str, listed: list[str]) -> bool:
    """Whether the dex's list names ``coin`` (a builder dex's coin with or without its
    ``dex:`` prefix: the exchange's spelling there is not documented)."""
    return coin in listed or (bool(dex) and coin.removeprefix(f"{dex}:") in listed)
