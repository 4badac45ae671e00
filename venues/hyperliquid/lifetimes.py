"""When an action sent to the exchange can no longer take effect.

The exchange runs an action until its ``expiresAfter``; makerd writes that time as the
decision's time plus :data:`ACTION_TTL_NS` and judges it on the host's wall clock, with
:data:`CLOCK_SKEW_NS` to spare. NTP stepping that clock forward made an action look
expired while the exchange could still run it: a placement in doubt was written off at
once and came to rest 3 s later. So, given a monotonic clock, an action's lifetime (the
TTL and the skew) must also have passed on it since the action was sent. Every record
of an action whose answer never came, or left it out, ends by this one rule
(:class:`~.unsettled.UnsettledActions`, :class:`~.state.OrderLegs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from makerd.protocol.orders import ACTION_TTL_NS, CLOCK_SKEW_NS


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionLifetime:
    """An action sent: its ``expiresAfter`` on the host's wall clock, and when it left on
    the process's monotonic clock (None: judged on the wall clock alone)."""

    expires_ns: int
    sent_mono_ns: int | None = None


class LifetimeClock:
    """Starts and judges :class:`ActionLifetime` s; without ``monotonic_ns``, on the wall
    clock alone."""

    def __init__(self, monotonic_ns: Callable[[], int] | None = None) -> None:
        self._monotonic_ns = monotonic_ns

    def start(self, expires_ns: int) -> ActionLifetime:
        """An action that expires at ``expires_ns`` (wall clock) leaves now."""
        sent = None if self._monotonic_ns is None else self._monotonic_ns()
        return ActionLifetime(expires_ns=expires_ns, sent_mono_ns=sent)

    def lived_out(self, lifetime: ActionLifetime, now_ns: int) -> bool:
        """Whether the action can no longer take effect at ``now_ns`` (wall clock): its
        expiry and the skew allowed have passed, and its lifetime on the monotonic clock
        too (when both this clock and the lifetime have one)."""
        if lifetime.expires_ns + CLOCK_SKEW_NS > now_ns:
            return False
        if self._monotonic_ns is None or lifetime.sent_mono_ns is None:
            return True
        return self._monotonic_ns() - lifetime.sent_mono_ns >= ACTION_TTL_NS + CLOCK_SKEW_NS
