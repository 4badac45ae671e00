"""The deterministic single-threaded driver: the actors' logic on a simulated clock.

It runs the very same state machines as the pykka runtime, routed by the same table,
against a venue stepped on the same simulated clock. Tests and backtests use it; the
result depends only on the inputs and the seed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

from makerd.actors.gate import TradingGate
from makerd.actors.pong import answer_ping
from makerd.actors.routing import (
    ACTOR_ROLES,
    OBSERVER,
    ROUTES,
    VENUE,
    Directed,
    Logic,
    recipients,
)
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import Ping, TimerFired
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
    ) -> None:
        self.logics = dict(logics)
        self._venue = venue
        self.clock = clock
        self._step_ns = step_ns
        self._timer_interval_ns = timer_interval_ns
        self._observer = observer
        self.gate = gate or TradingGate()
        self._next_timer_ns = clock.now_ns()
        self.delivered = 0
        self.commands_sent = 0

    def start(self) -> None:
        """Start each role in supervision order, delivering what their start produces."""
        now = self.clock.now_ns()
        for role in ACTOR_ROLES:
            start = getattr(self.logics.get(role), "start", None)
            if start is not None:
                for message in start(now):
                    self.deliver(message)

    def stop(self) -> None:
        """Stop each role in reverse supervision order, as a supervisor's stop would."""
        for role in reversed(ACTOR_ROLES):
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
        for event in self._venue.advance(now):
            self.deliver(event)
        if now >= self._next_timer_ns:
            self._next_timer_ns = now + self._timer_interval_ns
            # One tick for every role, as the live ticker sends it.
            tick = TimerFired(ts_local=now)
            for role in ACTOR_ROLES:
                if role in self.logics:
                    self._run(deque([(role, tick)]))

    def deliver(self, message: object) -> None:
        """Deliver one message and everything it causes, breadth first, to completion."""
        queue: deque[tuple[str, object]] = deque()
        _enqueue(queue, message)
        self._run(queue)

    def _run(self, queue: deque[tuple[str, object]]) -> None:
        # Every replayed event passes here: no generator or wrapper per message.
        while queue:
            role, item = queue.popleft()
            for out in self._handle(role, item):
                _enqueue(queue, out)

    def _handle(self, role: str, message: object) -> list[object]:
        self.delivered += 1
        if role == VENUE:
            self._submit(message)
            return []
        if role == OBSERVER:
            if self._observer is not None:
                self._observer(message)
            return []
        if isinstance(message, Ping):
            return [answer_ping(role, message, self.clock.now_ns())]
        logic = self.logics.get(role)
        return logic.handle(message) if logic is not None else []

    def _submit(self, command: object) -> None:
        if not self.gate.allows(command):
            return
        self.commands_sent += 1
        self._venue.submit(as_venue_command(command), self.clock.now_ns())


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
