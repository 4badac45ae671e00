"""The operator's hold on quoting (``makerd ctl pause|resume|flatten``), for the order_manager.

Only the order_manager changes it and only the order_manager decides from it: while
paused, a quote target places nothing (the quoter keeps computing, so a resume quotes at
once). :class:`PauseMemory` outlives one order_manager incarnation, so an order_manager
restarted by the supervisor stays paused; the process gives it one kept in the state
directory, so a restarted ``makerd run`` stays paused too.

A flatten is one reduce-only IOC for the position the order_manager knows. A thin book can
fill it only in part, and fills still on their way (orders being cancelled may fill first)
can leave the position open, or open it again, after that IOC; so while paused after a
flatten, or stopping with one (a kill switch, ``flatten_on_stop``), a position update that
finds the position open :data:`FLATTEN_SETTLE_NS` after the last closing order ended (long
enough for its own fills to reach the position) sends another, at most
:data:`MAX_FLATTEN_ORDERS` in all.

A closing order the venue refused for its rate limit never reached the book, so it gives
its attempt back (at most :data:`MAX_RATE_LIMITED_CLOSING` times), and the next one waits
until the order_manager's rate-limit pause ends: before, a 4 s limit at a stop spent all
three closing orders a second apart and the stop left the position open.

Once every closing order allowed has been sent and settled with the position still open,
the order_manager says so once (:class:`~makerd.protocol.control.FlattenGaveUp`): a stop
waiting for flat then ends its wait instead of sitting out its share of the stop's time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from enum import Enum

from makerd.protocol.clock import still_waiting
from makerd.protocol.control import FlattenGaveUp
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import OrderRejected, OrderRequest, TimeInForce
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side

log = logging.getLogger("makerd.order_manager")
MAX_FLATTEN_ORDERS = 3
MAX_RATE_LIMITED_CLOSING = 8
"""Rate-limit refusals a flatten gives back; each waits out a pause (1 s doubling to 16 s),
so a limit that never lifts costs this many requests, not one a second."""
FLATTEN_SETTLE_NS = 1_000_000_000
FLATTEN_SLIPPAGE = Decimal("0.02")
"""The closing IOC's limit is the mark moved this fraction against us: it takes the book."""


class PauseMemory:
    """Whether the operator paused quoting, and whether with a flatten; shared by every
    order_manager incarnation and read by the stop (a stop during an operator's flatten
    waits for it and says what it left open, as a stop that flattens does)."""

    def __init__(self) -> None:
        self._paused = threading.Event()
        self._flattening = threading.Event()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def flattening(self) -> bool:
        """An operator's flatten asked for since the last resume, in this process."""
        return self._flattening.is_set()

    def set_flattening(self, *, flattening: bool) -> None:
        if flattening:
            self._flattening.set()
        else:
            self._flattening.clear()

    def set(self, *, paused: bool) -> None:
        if paused:
            self._paused.set()
        else:
            self._paused.clear()


class ClosingStep(Enum):
    WAIT = "wait"
    """Nothing now: no flatten, a closing order working or settling, or a rate limit."""
    SEND = "send"
    GAVE_UP = "gave_up"
    """Every closing order allowed has been sent and the position is still open; once."""


class OperatorHold:
    """The pause and the flatten in progress; plain state, driven by the order_manager."""

    def __init__(self, memory: PauseMemory | None = None) -> None:
        self._memory = memory or PauseMemory()
        self._flatten_orders_left = 0
        self._rate_limited_left = 0
        self._flatten_cloid: str | None = None
        self._settling_since_ns: int | None = None
        self._closing_on_stop = False
        self._closing = False
        """A flatten asked for (an operator's since the last resume, or the stop's)."""
        self._gave_up = False
        """Every closing order allowed was sent and the position stayed open (said once)."""

    @property
    def paused(self) -> bool:
        return self._memory.paused

    @property
    def flatten_cloid(self) -> str | None:
        """The newest closing order sent (None before the first)."""
        return self._flatten_cloid

    def pause(self) -> None:
        self._memory.set(paused=True)

    def resume(self) -> None:
        self._memory.set(paused=False)
        self._memory.set_flattening(flattening=False)
        self._flatten_orders_left = 0
        self._closing = False

    def flatten_requested(self) -> None:
        """Pause, and keep closing (bounded) until the position reads 0."""
        self.pause()
        self._memory.set_flattening(flattening=True)
        self._keep_closing()

    def close_on_stop(self) -> ClosingStep:
        """A stop that flattens: keep closing (bounded) until the position reads 0. No
        pause is kept: the stop has ended quoting, and a pause would outlive the process.
        Once: a kill switch and the shutdown after it both ask. The second asking hears
        again that the first gave up: the shutdown waits for the flatten until it hears
        so after it asked."""
        if self._closing_on_stop:
            return ClosingStep.GAVE_UP if self._gave_up else ClosingStep.WAIT
        self._closing_on_stop = True
        self._keep_closing()
        return ClosingStep.SEND

    def _keep_closing(self) -> None:
        self._closing, self._gave_up = True, False
        self._flatten_orders_left = MAX_FLATTEN_ORDERS
        self._rate_limited_left = MAX_RATE_LIMITED_CLOSING

    def flatten_sent(self, cloid: str) -> None:
        self._flatten_cloid = cloid
        self._flatten_orders_left = max(0, self._flatten_orders_left - 1)
        self._settling_since_ns = None

    def closing_refused(self, refusal: OrderRejected) -> None:
        """The newest closing order refused for the rate limit: it gives its attempt back."""
        rate_limited = refusal.reason is RejectReason.RATE_LIMITED
        if refusal.cloid != self._flatten_cloid or not rate_limited:
            return
        if self._rate_limited_left > 0:
            self._rate_limited_left -= 1
            self._flatten_orders_left += 1

    def next_closing(
        self, *, position: Decimal, closing_order_working: bool, rate_limited: bool, now_ns: int
    ) -> ClosingStep:
        """What a flatten does on a position update (see the module); ``rate_limited``: the
        order_manager's rate-limit pause is on."""
        holding = self.paused or self._closing_on_stop
        if not holding or closing_order_working or self._gave_up:
            return ClosingStep.WAIT
        if self._settling_since_ns is None:
            self._settling_since_ns = now_ns  # the last closing order has just ended
        settled = not still_waiting(now_ns, self._settling_since_ns, FLATTEN_SETTLE_NS)
        if position == 0 or not settled:
            return ClosingStep.WAIT
        if self._flatten_orders_left > 0:
            return ClosingStep.WAIT if rate_limited else ClosingStep.SEND
        if not self._closing:
            return ClosingStep.WAIT  # a plain pause: no flatten asked for since a resume
        self._gave_up = True
        return ClosingStep.GAVE_UP


def flatten_gave_up(coin: str, position: Decimal, now_ns: int) -> FlattenGaveUp:
    log.error(
        "event=flatten_gave_up coin=%s position=%s closing_orders_sent=all: "
        "close it on the exchange",
        coin,
        position,
    )
    return FlattenGaveUp(coin=coin, position=position, ts_local=now_ns)


def closing_order(
    instrument: Instrument, *, position: Decimal, mark: Decimal, new_cloid: Callable[[], str]
) -> OrderRequest | None:
    """A reduce-only IOC that closes ``position`` at up to 2 % past ``mark``; None if flat."""
    size = instrument.round_size(abs(position))
    if size <= 0 or mark <= 0:
        return None
    side = Side.SELL if position > 0 else Side.BUY
    limit = mark * (1 + side.sign * FLATTEN_SLIPPAGE)
    return OrderRequest(
        cloid=new_cloid(),
        coin=instrument.coin,
        side=side,
        price=instrument.round_price(limit, side.opposite),
        size=size,
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        reduce_only=True,
    )
