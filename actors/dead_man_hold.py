"""Whether the exchange's dead-man switch holds, as the order manager needs to know it.

While re-arming ``scheduleCancel`` keeps failing (``DeadManSwitchLost``), nothing would
cancel our orders at the venue if the process died, so no quote may stand: the order
manager pulls every quote and places none until a re-arm succeeds. Each change is one
log line, not one per failure.
"""

from __future__ import annotations

import logging

from makerd.protocol.orders import DeadManSwitchLost

log = logging.getLogger("makerd.order_manager")


class DeadManHold:
    def __init__(self) -> None:
        self.lost = False

    def switch_lost(self, message: DeadManSwitchLost) -> None:
        if not self.lost:
            log.error(
                "event=quotes_pulled reason=dead_man_switch_lost failures=%d message=%r",
                message.failures,
                message.message,
            )
        self.lost = True

    def switch_armed(self, *, stopped: bool) -> list[object]:
        """Quotes may stand again (from the next target on): nothing to send now. Once
        ``stopped`` none will, and the log must not say they resume."""
        if self.lost:
            if stopped:
                log.info("event=dead_man_switch_rearmed while=stopped")
            else:
                log.warning("event=quotes_resumed reason=dead_man_switch_armed")
        self.lost = False
        return []
