"""Several coins' recordings against several coins' paper exchanges, as one account.

Each coin's books and trades reach that coin's own :class:`PaperExchange` (its book, queue
and position), behind the :class:`PaperBasket` paper mode trades several coins through:
a batch of several coins' orders is split per coin and margin answers are joined into the
account's. What one coin's replay keeps out of matching (trades from before its first
book, trades a resubscription sent again) is kept out per coin, so a coin is matched
exactly as its own replay matches it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from makerd.config.model import PaperConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import FeedMessageDropped
from makerd.venues.paper.basket import PaperBasket
from makerd.venues.paper.exchange import PaperExchange
from makerd.venues.paper.latency import OrderLatency
from makerd.venues.replay.fresh_trades import MATCHED, FreshTrades
from makerd.venues.replay.messages import ReplayEvent
from makerd.venues.replay.venue import Recorded, RecordingReplay


class ReplayBasket(RecordingReplay[PaperBasket]):
    """The recording of several coins against one paper exchange per coin."""

    def __init__(
        self,
        events: Iterator[ReplayEvent],
        instruments: Sequence[Instrument],
        paper: PaperConfig,
        *,
        coin_of_cloid: Callable[[str], str | None],
        latency: Callable[[str], OrderLatency] | None = None,
    ) -> None:
        """``coin_of_cloid`` routes a cancel or modify to its coin; ``latency`` gives each
        coin's order latencies to draw, its own (default: the config's)."""
        super().__init__(events)
        # The fill tracker drops a repeated trade id: each coin's exchange mints its own.
        self.exchange = PaperBasket(
            {
                instrument.coin: PaperExchange(
                    instrument,
                    paper,
                    id_prefix=f"replay{self.first_ns}-{instrument.coin}",
                    latency=None if latency is None else latency(instrument.coin),
                )
                for instrument in instruments
            },
            paper=paper,
            coin_of_cloid=coin_of_cloid,
        )
        self.replayed_by_coin: dict[str, Counter[str]] = {
            instrument.coin: Counter() for instrument in instruments
        }
        """Each coin's share of :attr:`replayed` (``dropped`` and ``gaps`` name no coin)."""
        self._fresh = FreshTrades()
        self.first_book_ns: dict[str, int] = {}
        """Each coin's first book's local time: a coin whose data begins late says so."""

    def _match(self, event: Recorded) -> None:
        if isinstance(event, FeedMessageDropped):
            self.replayed["dropped"] += 1
            return
        # As for one coin, and per coin: the first book, and trades already seen.
        kind = self._fresh.kind(event)
        if kind == "books":
            self.first_book_ns.setdefault(event.coin, event.ts_local)
        self.replayed[kind] += 1
        self.replayed_by_coin[event.coin][kind] += 1
        if kind in MATCHED:
            self.exchange.on_market(event)
