"""The exchange's dead-man switch (``scheduleCancel``): armed, re-armed, never let lapse.

The watchdog asks for a re-arm while every actor answers. A failed arm is retried every
second until it holds; after ``max_failures`` failures in a row quotes are pulled
(:class:`DeadManSwitchLost`) until an arm succeeds again (:class:`DeadManSwitchArmed`).
The exchange refuses the switch for accounts with little traded volume: that refusal is
permanent, logged once, and the process-side watchdog is then the only dead-man switch.

Once the trading gate is closed (a stop, a kill switch) it is neither re-armed nor retried:
the venue's cancel-all at the time already armed is what a stop wants, and no sooner than
that would ever hurt. A re-arm then only moved it later and spent requests; during an
HTTP 429 its retries every second went on into the limit the stop's sweep waited out. The
disarm after a stop the venue confirmed is still sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from makerd.protocol.orders import ArmDeadManSwitch, DeadManSwitchArmed, DeadManSwitchLost
from makerd.venues.base import OrderGate
from makerd.venues.hyperliquid.rate_budget import Priority
from makerd.venues.hyperliquid.requests import SignedSender
from makerd.venues.hyperliquid.wire import schedule_cancel_action

log = logging.getLogger("makerd.venue.orders")
_NS_PER_MS: Final = 1_000_000
_RETRY_S: Final = 1.0
_VOLUME_GATE_TEXT: Final = "enough volume traded"
"""The exchange's refusal for young accounts: permanent, so retrying cannot help."""


class DeadManSwitch:
    """Arms and disarms one account's scheduled cancel; used on the I/O loop only."""

    def __init__(
        self,
        *,
        sender: SignedSender,
        gate: OrderGate,
        emit: Callable[[object], None],
        now_ns: Callable[[], int],
        max_failures: int,
        exchange_ns: Callable[[int], int] = lambda local_ns: local_ns,
    ) -> None:
        """``exchange_ns`` turns a host time into the exchange's (the switch's time is
        judged by the exchange's clock, and must be 5 s ahead of it)."""
        self._sender = sender
        self._exchange_ns = exchange_ns
        self._gate = gate
        self._emit = emit
        self._now_ns = now_ns
        self._max_failures = max_failures
        self._generation = 0
        self.failures = 0
        """Failed arms in a row (reset by a success)."""
        self.failures_total = 0
        self.refused = False
        """The exchange refused the switch for good (too little traded volume)."""
        self.armed = False

    async def arm(self, command: ArmDeadManSwitch) -> None:
        """Arm at ``command.cancel_at_ns``, retrying a failure until it holds or the gate
        closes."""
        if self.refused or self._gate.closed:
            return
        horizon_ns = command.cancel_at_ns - command.ts_local
        cancel_at_ns = command.cancel_at_ns
        self._generation += 1
        generation = self._generation
        while True:
            problem, permanent = await self._arm_once(cancel_at_ns)
            if problem is None:
                self.failures = 0
                self._emit(DeadManSwitchArmed(cancel_at_ns=cancel_at_ns, ts_local=self._now_ns()))
                return
            if permanent:
                return
            self._failed(problem)
            await asyncio.sleep(_RETRY_S)
            if self._generation != generation or self._gate.closed:
                return  # the watchdog's newer arm carries on from here, or a stop began
            cancel_at_ns = self._now_ns() + horizon_ns

    async def disarm(self) -> None:
        """Clear the scheduled cancel (a clean shutdown; the exchange counts daily triggers)."""
        if self.armed and not self.refused:
            await self._sender.send(schedule_cancel_action(None), items=1, priority=Priority.CANCEL)
            self.armed = False

    def _failed(self, problem: str) -> None:
        self.failures += 1
        self.failures_total += 1
        log.warning(
            "event=dead_man_switch_arm_failed failures=%d message=%r", self.failures, problem
        )
        if self.failures >= self._max_failures:
            self._emit(
                DeadManSwitchLost(failures=self.failures, message=problem, ts_local=self._now_ns())
            )

    async def _arm_once(self, cancel_at_ns: int) -> tuple[str | None, bool]:
        """One scheduleCancel: the problem in words (None when accepted), and whether the
        refusal is permanent."""
        action = schedule_cancel_action(self._exchange_ns(cancel_at_ns) // _NS_PER_MS)
        response = await self._sender.send(action, items=1, priority=Priority.CANCEL)
        if response is None:
            return "no answer", False
        if response.error is not None:
            permanent = _VOLUME_GATE_TEXT in response.error.message
            if permanent:
                self.refused = True
                log.warning(
                    "event=dead_man_switch_refused message=%r: the exchange will not cancel "
                    "our orders if makerd dies; the process-side watchdog is the only "
                    "dead-man switch",
                    response.error.message,
                )
            return response.error.message, permanent
        if not self.armed:
            log.info("event=dead_man_switch_armed cancel_at_ms=%d", action.get("time", 0))
        self.armed = True
        return None, False
