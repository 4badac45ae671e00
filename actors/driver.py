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
from itertools import repeat
from typing import cast

from makerd.actors.coin_addressing import CoinAddressing
from makerd.actors.gate import TradingGate
from makerd.actors.pong import answer_ping
from makerd.actors.routing import (
    ACTOR_ROLES,
    COIN_ROLES,
    OBSERVER,
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

Handler = Callable[[object], list[object]]
Queue = deque[tuple[Handler, object]]
"""Each message waiting to be delivered, with the handler of the actor it is for."""


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
        observed: Collection[type] | None = None,
        gate: TradingGate | None = None,
        addressing: CoinAddressing | None = None,
        join_with_data: Collection[str] = (),
    ) -> None:
        """``addressing`` names each coin's own actors when there are several coins; the
        logics of a per-coin role are then keyed ``role:COIN``. The actors of a coin of
        ``join_with_data`` start, and hear ticks, from the first venue event of that coin
        (a replay: as that coin's own replay starts its actors with its first event).
        ``observed``: the message types the observer acts on (None: every type routed to
        it); the others are not delivered to it. Actors hear every message routed to them."""
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
        # Each message is queued with its recipients' handlers, looked up once per message
        # type, not once per delivery: every replayed event passes here several times, and
        # a driver's logics are fixed from here on.
        self._handlers: dict[str, Handler] = {
            role: logic.handle for role, logic in self.logics.items()
        }
        self._handlers[VENUE] = self._submit
        self._handlers[OBSERVER] = self._observe
        self._observed = (
            frozenset() if observer is None else None if observed is None else frozenset(observed)
        )
        self._roles_by_type: dict[type, tuple[str, ...]] = {}
        self._handlers_by_type: dict[type, tuple[Handler, ...]] = {}
        self._pongs: dict[str, Handler] = {}
        self._names = None if addressing is None else addressing.names
        # The actors in supervision order, each coin's after the shared roles before it.
        self._actors = tuple(name for role in ACTOR_ROLES for name in _playing(role, self.logics))
        self._waiting = {coin: _of_coin(coin, self._actors) for coin in join_with_data}
        self._ticked = self._actors_started()
        self._tick_handlers = self._handlers_of(self._ticked, TimerFired)

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
            self._tick_handlers = self._handlers_of(self._ticked, TimerFired)
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
            # One tick for every role, as the live ticker sends it, each run to completion
            # in turn; most ticks cause nothing, and then no queue is built.
            tick = TimerFired(ts_local=now)
            self.delivered += len(self._tick_handlers)
            for handle in self._tick_handlers:
                caused = handle(tick)
                if caused:
                    queue: Queue = deque()
                    for message in caused:
                        self._enqueue(queue, message)
                    self._run(queue)

    def deliver(self, message: object) -> None:
        """Deliver one message and everything it causes, breadth first, to completion."""
        queue: Queue = deque()
        self._enqueue(queue, message)
        self._run(queue)

    def _run(self, queue: Queue) -> None:
        # Every replayed event passes here: no lookup, generator or wrapper per message.
        popleft, enqueue = queue.popleft, self._enqueue
        delivered = 0
        try:
            while queue:
                handle, item = popleft()
                delivered += 1
                for message in handle(item):
                    enqueue(queue, message)
        finally:
            self.delivered += delivered

    def _enqueue(self, queue: Queue, message: object) -> None:
        """Queue ``message`` for each of its recipients (a :class:`Directed` one unwrapped)."""
        kind = type(message)
        handlers = self._handlers_by_type.get(kind)
        if handlers is None:
            if isinstance(message, Directed):
                inner = message.message
                queue.append((self._handler(message.to, type(inner)), inner))
                return
            if self._names is None:
                handlers = self._handlers_by_type[kind] = self._handlers_of(
                    self._roles_of(message), kind
                )
            else:  # several coins: who hears it depends on the message's own coin
                names = self._names
                roles = self._roles_of(message)
                names_of = [name for role in roles for name in names(role, message)]
                handlers = self._handlers_of(tuple(names_of), kind)
        queue.extend(zip(handlers, repeat(message)))

    def _roles_of(self, message: object) -> tuple[str, ...]:
        """The roles ``message`` is routed to, less the observer if it ignores the type."""
        kind = type(message)
        roles = self._roles_by_type.get(kind)
        if roles is None:
            roles = recipients(message)  # names the type that has no route
            observed = self._observed
            if observed is not None and kind not in observed:
                roles = tuple(role for role in roles if role != OBSERVER)
            self._roles_by_type[kind] = roles
        return roles

    def _handlers_of(self, names: tuple[str, ...], kind: type) -> tuple[Handler, ...]:
        return tuple(self._handler(name, kind) for name in names)

    def _handler(self, name: str, kind: type) -> Handler:
        """What ``name`` does with a message of type ``kind``: a ping is answered for every
        actor, as the actor shell does, whatever its logic; a name with no logic hears
        nothing."""
        if issubclass(kind, Ping) and name not in _NOT_ACTORS:
            pong = self._pongs.get(name)
            if pong is None:
                pong = self._pongs[name] = partial(self._pong, name)
            return pong
        return self._handlers.get(name, _unheard)

    def _pong(self, role: str, ping: object) -> list[object]:
        return [answer_ping(role, cast(Ping, ping), self.clock.now_ns())]

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


def _unheard(message: object) -> list[object]:
    """A name with no logic here: delivered, and nothing comes of it."""
    return []


def _playing(role: str, logics: Mapping[str, Logic]) -> tuple[str, ...]:
    """The actors of ``logics`` that play ``role``: itself, or each coin's ``role:COIN``."""
    if role in logics:
        return (role,)
    if role not in COIN_ROLES:
        return ()
    return tuple(name for name in logics if name.partition(":")[0] == role)
