"""The deterministic single-threaded driver: the actors' logic on a simulated clock.

It runs the very same state machines as the pykka runtime, routed by the same table,
against a venue stepped on the same simulated clock. Tests and backtests use it; the
result depends only on the inputs and the seed. With several coins it names each coin's
own actors (``quoter:ETH``) with the :class:`CoinAddressing` the pykka runtime's router
uses, so a message reaches the same actors in both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Mapping
from functools import partial

from makerd.actors.coin_addressing import CoinAddressing
from makerd.actors.gate import TradingGate
from makerd.actors.pong import answer_ping
from makerd.actors.routing import (
    ACTOR_ROLES,
    COIN_ROLES,
    OBSERVER,
    ROUTES,
    VENUE,
    Directed,
    Logic,
    recipients,
)
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import Ping, TimerFired
from makerd.protocol.market import together
from makerd.protocol.orders import as_venue_command
from makerd.venues.base import SteppedVenue


class DeterministicDriver:
    def __init__(
        self,
        *,
        logics: Mapping[str, Logic],
        venue: SteppedVenue,
        clock: ManualClock,
        step_ns: int,
        timer_interval_ns: int,
        observer: Callable[[object], None] | None = None,
        gate: TradingGate | None = None,
        addressing: CoinAddressing | None = None,
        join_with_data: Collection[str] = (),
    ) -> None:
        """``addressing`` names each coin's own actors when there are several coins; the
        logics of a per-coin role are then keyed ``role:COIN``. The actors of a coin of
        ``join_with_data`` start, and hear ticks, from the first venue event of that coin
        (a replay: as that coin's own replay starts its actors with its first event)."""
        self.logics = dict(logics)
        self._venue = venue
        self.clock = clock
        self._step_ns = step_ns
        self._timer_interval_ns = timer_interval_ns
        self._observer = observer
        self.gate = gate or TradingGate()
        # Ticks fall on the simulated clock's multiples of the interval, not on instants
        # counted from where this run's data begins: a coin is ticked at the same instants
        # whichever other coins are replayed with it, and whenever their data begins.
        self._next_timer_ns = _on_grid(clock.now_ns(), timer_interval_ns)
        self.delivered = 0
        self.commands_sent = 0
        # Each recipient's handler looked up once per message, not a chain of tests: every
        # replayed event passes here several times. (So ``logics`` is fixed from here on.)
        self._handlers: dict[str, Callable[[object], list[object]]] = {
            role: logic.handle for role, logic in self.logics.items()
        }
        self._handlers[VENUE] = self._submit
        self._handlers[OBSERVER] = self._observe
        # One coin keeps the bare table lookup: the addressed one costs a call per role.
        self._enqueue: Callable[[deque[tuple[str, object]], object], None] = (
            _enqueue if addressing is None else partial(_enqueue_addressed, addressing.names)
        )
        # The actors in supervision order, each coin's after the shared roles before it.
        self._actors = tuple(name for role in ACTOR_ROLES for name in _playing(role, self.logics))
        self._waiting = {coin: _of_coin(coin, self._actors) for coin in join_with_data}
        self._ticked = self._actors_started()

    def _actors_started(self) -> tuple[str, ...]:
        waiting = {name for names in self._waiting.values() for name in names}
        return tuple(name for name in self._actors if name not in waiting)

    def start(self) -> None:
        """Start each role in supervision order, delivering what their start produces."""
        self._start(self._ticked)

    def _start(self, actors: tuple[str, ...]) -> None:
        now = self.clock.now_ns()
        for role in actors:
            start = getattr(self.logics.get(role), "start", None)
            if start is not None:
                for message in start(now):
                    self.deliver(message)

    def _join(self, event: object) -> None:
        """Start the actors of ``event``'s coin if they wait for its first event."""
        actors = self._waiting.pop(getattr(event, "coin", ""), None)
        if actors is not None:
            self._ticked = self._actors_started()
            self._start(actors)

    def stop(self) -> None:
        """Stop each role in reverse supervision order, as a supervisor's stop would."""
        for role in reversed(self._actors_started()):
            stop = getattr(self.logics.get(role), "stop", None)
            if stop is not None:
                stop()

    def run_for(self, duration_ns: int) -> None:
        end = self.clock.now_ns() + duration_ns
        while self.clock.now_ns() < end:
            self.step()

    @property
    def next_timer_ns(self) -> int:
        """When the next timer tick is due."""
        return self._next_timer_ns

    def step(self) -> None:
        self.step_to(self.clock.now_ns() + self._step_ns)

    def step_to(self, now_ns: int) -> None:
        """Move the clock to ``now_ns`` (not back) and run what is due by then.

        Event-driven runs (a replay) step straight to the next thing that happens
        instead of ticking through the empty time between.
        """
        self.clock.advance_by(max(0, now_ns - self.clock.now_ns()))
        now = self.clock.now_ns()
        # A step's trades of one coin as one message, as the threaded runtime sends them.
        for event in together(self._venue.advance(now)):
            if self._waiting:
                self._join(event)
            self.deliver(event)
        if now >= self._next_timer_ns:
            self._next_timer_ns = _on_grid(now + 1, self._timer_interval_ns)
            # One tick for every role, as the live ticker sends it.
            tick = TimerFired(ts_local=now)
            for role in self._ticked:
                self._run(deque([(role, tick)]))

    def deliver(self, message: object) -> None:
        """Deliver one message and everything it causes, breadth first, to completion."""
        queue: deque[tuple[str, object]] = deque()
        self._enqueue(queue, message)
        self._run(queue)

    def _run(self, queue: deque[tuple[str, object]]) -> None:
        # Every replayed event passes here: no generator or wrapper per message.
        handlers, popleft, enqueue = self._handlers, queue.popleft, self._enqueue
        while queue:
            role, item = popleft()
            self.delivered += 1
            if isinstance(item, Ping) and role not in _NOT_ACTORS:
                out: list[object] = [answer_ping(role, item, self.clock.now_ns())]
            else:
                handler = handlers.get(role)
                out = handler(item) if handler is not None else []
            for message in out:
                enqueue(queue, message)

    def _observe(self, message: object) -> list[object]:
        if self._observer is not None:
            self._observer(message)
        return []

    def _submit(self, command: object) -> list[object]:
        if self.gate.allows(command):
            self.commands_sent += 1
            self._venue.submit(as_venue_command(command), self.clock.now_ns())
        return []


def _of_coin(coin: str, actors: tuple[str, ...]) -> tuple[str, ...]:
    """``coin``'s own actors (``role:COIN``) among ``actors``, in their order."""
    return tuple(name for name in actors if name.partition(":")[2] == coin)


def _on_grid(now_ns: int, interval_ns: int) -> int:
    """The first multiple of ``interval_ns`` at or after ``now_ns``."""
    return -(-now_ns // interval_ns) * interval_ns


_NOT_ACTORS = frozenset({VENUE, OBSERVER})
"""Recipients that are not actors: a ping to them is not answered."""


def _enqueue(queue: deque[tuple[str, object]], message: object) -> None:
    """Queue ``message`` for each of its recipients (a :class:`Directed` one unwrapped)."""
    # The table first: every message but a directed one is in it.
    roles = ROUTES.get(type(message))
    if roles is None:
        if isinstance(message, Directed):
            queue.append((message.to, message.message))
            return
        roles = recipients(message)  # names the type that has no route
    queue.extend([(role, message) for role in roles])


def _enqueue_addressed(
    names: Callable[[str, object], tuple[str, ...]],
    queue: deque[tuple[str, object]],
    message: object,
) -> None:
    """:func:`_enqueue` with several coins: each role becomes the actors ``names`` gives it."""
    roles = ROUTES.get(type(message))
    if roles is None:
        if isinstance(message, Directed):
            queue.append((message.to, message.message))
            return
        roles = recipients(message)
    queue.extend([(name, message) for role in roles for name in names(role, message)])


def _playing(role: str, logics: Mapping[str, Logic]) -> tuple[str, ...]:
    """The actors of ``logics`` that play ``role``: itself, or each coin's ``role:COIN``."""
    if role in logics:
        return (role,)
    if role not in COIN_ROLES:
        return ()
    return tuple(name for name in logics if name.partition(":")[0] == role)
