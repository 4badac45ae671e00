"""watchdog: proves every actor is alive, and says so only while it is true.

It pings each role on a timer and expects a pong within the deadline. A role that
stays silent is reported once as :class:`ChildUnresponsive` (the supervisor replaces
it); when every role answered in time it emits :class:`AllChildrenAlive`, which is what
lets the process send systemd's WATCHDOG=1, and re-arms the venue's dead-man switch. A
deadlocked tree therefore stops both: systemd restarts us, the venue cancels our orders.

A silence counts only while the watchdog itself was awake to see it. When its own ticks
stop (the process was frozen: SIGSTOP, a paused VM, a sleeping laptop) every actor was
stopped with it, and the time it could not watch is credited to every role: counted, a
nine-second freeze took all five actors for hung, replaced them, and spent the five
restarts an hour allows, so the next freeze gave up and latched the kill switch.

A step of the host's wall clock (NTP, a VM resumed) is not time passing: the ticks carry
the monotonic clock too, and when the two moved apart between ticks every time kept here
moves with the wall clock. Unfollowed, a step forward read as a freeze, and a step back
held the pings and the switch's re-arm back for the step's length, past the switch's
window when the step was longer than its last third.
"""

from __future__ import annotations

import logging

from makerd.actors.routing import Directed
from makerd.protocol.control import AllChildrenAlive, ChildUnresponsive, Ping, Pong, TimerFired
from makerd.protocol.orders import ArmDeadManSwitch

log = logging.getLogger("makerd.watchdog")

CLOCK_STEP_NS = 100_000_000
"""The wall clock moved this much more or less than the monotonic one between two ticks:
a step. Both run at the rate NTP slews them; only a step sets them apart."""


class WatchdogLogic:
    def __init__(
        self,
        *,
        roles: tuple[str, ...],
        ping_interval_ns: int,
        deadline_ns: int,
        dead_man_switch_ns: int = 0,
    ) -> None:
        self._roles = roles
        self._dead_man_ns = dead_man_switch_ns
        self._last_arm_ns: int | None = None
        self._ping_interval_ns = ping_interval_ns
        self._deadline_ns = deadline_ns
        self._seq = 0
        self._last_ping_ns: int | None = None
        self._last_pong_ns: dict[str, int] = {}
        self._last_tick_ns: int | None = None
        self._last_tick_mono_ns: int | None = None
        self._reported: set[str] = set()

    def start(self, now_ns: int) -> list[object]:
        # Every role gets a full deadline from our own start (a restart resets the clock).
        self._last_pong_ns = dict.fromkeys(self._roles, now_ns)
        self._last_tick_ns = now_ns
        return self._ping_all(now_ns)

    def handled_types(self) -> frozenset[type]:
        return frozenset({Pong, TimerFired})

    def handle(self, message: object) -> list[object]:
        if isinstance(message, Pong):
            self._last_pong_ns[message.role] = max(
                self._last_pong_ns.get(message.role, 0), message.ts_local
            )
            self._reported.discard(message.role)
            return []
        if isinstance(message, TimerFired):
            self._follow_clock_step(message)
            return self._on_timer(message.ts_local)
        return []

    def forget(self, role: str, now_ns: int) -> None:
        """A replaced role starts a fresh deadline."""
        self._last_pong_ns[role] = now_ns
        self._reported.discard(role)

    def _on_timer(self, now_ns: int) -> list[object]:
        self._credit_time_unwatched(now_ns)
        out: list[object] = []
        silent = [
            role
            for role in self._roles
            if now_ns - self._last_pong_ns.get(role, now_ns) > self._deadline_ns
        ]
        for role in silent:
            if role not in self._reported:
                self._reported.add(role)
                silent_for = now_ns - self._last_pong_ns[role]
                out.append(ChildUnresponsive(role=role, silent_for_ns=silent_for, ts_local=now_ns))
        if self._last_ping_ns is None or now_ns - self._last_ping_ns >= self._ping_interval_ns:
            if not silent:
                out.append(AllChildrenAlive(ts_local=now_ns))
                out.extend(self._rearm(now_ns))
            out.extend(self._ping_all(now_ns))
        return out

    def _follow_clock_step(self, tick: TimerFired) -> None:
        """Move every wall time kept here by the step the wall clock took since the last
        tick, as read against the monotonic clock (ticks without it: nothing to read)."""
        last_mono, self._last_tick_mono_ns = self._last_tick_mono_ns, tick.ts_mono
        if last_mono is None or tick.ts_mono is None or self._last_tick_ns is None:
            return
        step = (tick.ts_local - self._last_tick_ns) - (tick.ts_mono - last_mono)
        if abs(step) < CLOCK_STEP_NS:
            return
        log.warning("event=clock_stepped step_s=%.3f", step / 1e9)
        self._last_tick_ns += step
        self._last_pong_ns = {role: pong_ns + step for role, pong_ns in self._last_pong_ns.items()}
        if self._last_ping_ns is not None:
            self._last_ping_ns += step
        if self._last_arm_ns is not None:
            self._last_arm_ns += step

    def _credit_time_unwatched(self, now_ns: int) -> None:
        """Ticks come every fraction of a ping interval; a gap longer than one interval is
        time the watchdog was not running either, so no role's silence in it is evidence."""
        last_tick, self._last_tick_ns = self._last_tick_ns, now_ns
        if last_tick is None:
            return
        unwatched = now_ns - last_tick - self._ping_interval_ns
        if unwatched <= 0:
            return
        for role, pong_ns in self._last_pong_ns.items():
            self._last_pong_ns[role] = min(now_ns, pong_ns + unwatched)
        log.warning("event=watchdog_resumed unwatched_s=%.1f", unwatched / 1e9)

    def _rearm(self, now_ns: int) -> list[object]:
        """Push the venue's cancel-all deadline out once its last third (plus one ping) is all
        that is left: that third is the time a failed re-arm has to be retried (every second)
        before the switch fires. Each re-arm is an exchange action; re-arming sooner would
        spend the request budget without making anything safer."""
        if self._dead_man_ns <= 0:
            return []
        rearm_after = max(
            self._ping_interval_ns, 2 * self._dead_man_ns // 3 - self._ping_interval_ns
        )
        if self._last_arm_ns is not None and now_ns - self._last_arm_ns < rearm_after:
            return []
        self._last_arm_ns = now_ns
        return [ArmDeadManSwitch(cancel_at_ns=now_ns + self._dead_man_ns, ts_local=now_ns)]

    def _ping_all(self, now_ns: int) -> list[object]:
        self._seq += 1
        self._last_ping_ns = now_ns
        return [
            Directed(to=role, message=Ping(seq=self._seq, ts_local=now_ns)) for role in self._roles
        ]
