"""The replay half of the fill-model check: the paper engine on the ladder's recording.

The recorded stream is replayed as the backtest reads it, less our own resting size in
each book and our own fills in the trades (:mod:`venues.replay.own_orders`, as
``makerd report --replay`` does for a session), into a :class:`PaperExchange` that gets
each ladder order at the local time the venue acknowledged it, and each cancel at the
time the venue confirmed it. The paper engine's fills are then compared order by order
with the venue's: filled or not, filled size, time of the first fill.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from makerd.config.model import PaperConfig, QueueModel
from makerd.protocol.account import OrderFilled
from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.protocol.orders import CancelOrders, CancelReason, OrderRequest, PlaceOrders
from makerd.venues.hyperliquid.recording_rules import RULES_NAME, load_rules
from makerd.venues.paper.exchange import PaperExchange
from makerd.venues.replay.messages import ReplayEvent
from makerd.venues.replay.own_orders import OwnOrderChange, OwnOrders, without_own_orders
from makerd.venues.replay.stream import ReplayStream
from tests.fill_model_live import COIN, LiveFill, LiveLadder, LiveOrder

ZERO = Decimal(0)
NS_PER_MS = 1_000_000
PROMPT_MS = 50.0
"""A replayed fill this close to the venue's (in exchange time) came from the same event:
the venue pushes its market every 100 ms."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FillModel:
    """A way to replay: a paper queue model, or one broken on purpose (``ignore_trades``)."""

    name: str
    queue_model: QueueModel
    ignore_trades: bool = False
    """A model never filled by trades: only a book through its price fills an order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderOutcome:
    size: Decimal = ZERO
    first_ns: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Agreement:
    """The paper engine's fills against the venue's, order by order."""

    orders: int
    live_filled: int
    """Orders with at least one fill, live."""
    replay_filled: int
    live_volume: Decimal
    replay_volume: Decimal
    matched: int
    """Orders filled in both or in neither."""
    same_size: int
    """Orders filled in both to the same total size."""
    offsets_ms: tuple[float, ...]
    """Replay's first fill time less the venue's, for orders filled in both."""

    @property
    def match_rate(self) -> float:
        return self.matched / self.orders if self.orders else 0.0

    @property
    def volume_ratio(self) -> float:
        return float(self.replay_volume / self.live_volume) if self.live_volume else 0.0

    @property
    def count_ratio(self) -> float:
        return self.replay_filled / self.live_filled if self.live_filled else 0.0

    @property
    def prompt_rate(self) -> float:
        """Of the orders filled in both, the share first filled within PROMPT_MS of the venue."""
        if not self.offsets_ms:
            return 0.0
        return sum(abs(offset) <= PROMPT_MS for offset in self.offsets_ms) / len(self.offsets_ms)

    def line(self) -> str:
        median = statistics.median(map(abs, self.offsets_ms)) if self.offsets_ms else 0.0
        return (
            f"orders={self.orders} filled live={self.live_filled} replay={self.replay_filled} "
            f"(x{self.count_ratio:.2f}) volume live={self.live_volume.normalize()} "
            f"replay={self.replay_volume.normalize()} (x{self.volume_ratio:.2f}) "
            f"match={self.match_rate:.1%} same size={self.same_size}/{len(self.offsets_ms)} "
            f"within {PROMPT_MS:.0f} ms={self.prompt_rate:.0%} median |dt|={median:.0f} ms"
        )


def replay_ladder(ladder: LiveLadder, model: FillModel) -> dict[str, OrderOutcome]:
    """Each ladder order's fills in the paper engine, replayed on the ladder's recording."""
    instrument = load_rules(ladder.recording / RULES_NAME, COIN)
    config = replace(
        PaperConfig(), order_entry_latency_ms=0, ack_latency_ms=0, queue_model=model.queue_model
    )
    exchange = PaperExchange(instrument, config, id_prefix="fidelity")
    commands = _commands(ladder)
    files = sorted(ladder.recording.glob(f"{COIN}_*.gz"))
    own = OwnOrders(_own_changes(ladder), (fill.trade_id for fill in ladder.fills))
    outcomes: dict[str, OrderOutcome] = {}
    for event in _market(ReplayStream(files, coin=COIN), own, model):
        while commands and commands[0][0] <= event.ts_local:
            at_ns, command = commands.popleft()
            exchange.submit(command, at_ns)
        exchange.on_market(event)
        _book(exchange.events_until(event.ts_local), outcomes)
    _book(exchange.events_until(2**62), outcomes)
    return outcomes


def agreement(ladder: LiveLadder, replayed: dict[str, OrderOutcome]) -> Agreement:
    live = _live_outcomes(ladder.fills)
    matched = same_size = live_filled = replay_filled = 0
    offsets: list[float] = []
    for order in ladder.orders:
        venue = live.get(order.cloid, OrderOutcome())
        paper = replayed.get(order.cloid, OrderOutcome())
        live_filled += venue.size > 0
        replay_filled += paper.size > 0
        matched += (venue.size > 0) == (paper.size > 0)
        if venue.first_ns is not None and paper.first_ns is not None:
            same_size += venue.size == paper.size
            offsets.append((paper.first_ns - venue.first_ns) / NS_PER_MS)
    return Agreement(
        orders=len(ladder.orders),
        live_filled=live_filled,
        replay_filled=replay_filled,
        live_volume=sum((o.size for o in live.values()), ZERO),
        replay_volume=sum((o.size for o in replayed.values()), ZERO),
        matched=matched,
        same_size=same_size,
        offsets_ms=tuple(offsets),
    )


def _market(
    stream: ReplayStream, own: OwnOrders, model: FillModel
) -> Iterator[BookSnapshotReceived | TradePrinted]:
    events: Iterator[ReplayEvent] = without_own_orders(iter(stream), own)
    for event in events:
        if isinstance(event, BookSnapshotReceived):
            yield event
        if isinstance(event, TradePrinted) and not model.ignore_trades:
            yield event


def _commands(ladder: LiveLadder) -> deque[tuple[int, PlaceOrders | CancelOrders]]:
    """Every order placed at its acknowledgement, every cancel at its confirmation."""
    commands: list[tuple[int, PlaceOrders | CancelOrders]] = []
    for order in ladder.orders:
        request = OrderRequest(
            cloid=order.cloid, coin=COIN, side=order.side, price=order.price, size=order.size
        )
        commands.append((order.acked_ns, PlaceOrders(orders=(request,), ts_local=order.acked_ns)))
    for cloid, at_ns in ladder.cancels.items():
        cancel = CancelOrders(cloids=(cloid,), reason=CancelReason.REQUOTE, ts_local=at_ns)
        commands.append((at_ns, cancel))
    commands.sort(key=lambda entry: entry[0])
    return deque(commands)


def _own_changes(ladder: LiveLadder) -> list[OwnOrderChange]:
    """Where our orders rested, when: to take them out of the recorded books."""
    by_cloid: dict[str, LiveOrder] = {order.cloid: order for order in ladder.orders}
    changes = [_change(order, order.acked_ns, order.size) for order in ladder.orders]
    left = {order.cloid: order.size for order in ladder.orders}
    for fill in sorted(ladder.fills, key=lambda fill: fill.ts_exchange):
        left[fill.cloid] -= fill.size
        changes.append(_change(by_cloid[fill.cloid], fill.ts_exchange, left[fill.cloid]))
    for cloid, at_ns in ladder.cancels.items():
        changes.append(_change(by_cloid[cloid], at_ns, ZERO))
    return changes


def _change(order: LiveOrder, at_ns: int, size: Decimal) -> OwnOrderChange:
    return OwnOrderChange(
        ts_local=at_ns,
        cloid=order.cloid,
        side=order.side,
        price=order.price,
        size=size,
        resting=size > 0,
    )


def _live_outcomes(fills: tuple[LiveFill, ...]) -> dict[str, OrderOutcome]:
    outcomes: dict[str, OrderOutcome] = {}
    for fill in sorted(fills, key=lambda fill: fill.ts_exchange):
        _add(outcomes, fill.cloid, fill.size, fill.ts_exchange)
    return outcomes


def _book(events: Sequence[object], outcomes: dict[str, OrderOutcome]) -> None:
    for event in events:
        if isinstance(event, OrderFilled) and event.cloid is not None:
            _add(outcomes, event.cloid, event.size, event.ts_exchange)


def _add(outcomes: dict[str, OrderOutcome], cloid: str, size: Decimal, at_ns: int) -> None:
    before = outcomes.get(cloid, OrderOutcome())
    first = before.first_ns if before.first_ns is not None else at_ns
    outcomes[cloid] = OrderOutcome(size=before.size + size, first_ns=first)
