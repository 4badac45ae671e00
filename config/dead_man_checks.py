"""The dead-man switch's horizon against the exchange's rule and the watchdog's clock."""

from __future__ import annotations

from makerd.config.model import MakerdConfig

EXCHANGE_MIN_SCHEDULED_CANCEL_S = 5
"""The exchange refuses a scheduled cancel less than 5 s in the future."""
ARM_TRIP_ALLOWANCE_S = 1
"""An arm's cancel time is counted from when it is sent, the exchange's 5 s from when it
arrives: a horizon of exactly 5 s was refused at every arm, and quotes were pulled."""
MIN_DEAD_MAN_SWITCH_S = EXCHANGE_MIN_SCHEDULED_CANCEL_S + ARM_TRIP_ALLOWANCE_S
REARMS_PER_HORIZON = 3
"""The watchdog re-arms the dead-man switch after a third of its horizon has passed."""


def dead_man_switch_problems(config: MakerdConfig) -> list[str]:
    watchdog = config.watchdog
    horizon = watchdog.dead_man_switch_s
    path = "watchdog.dead_man_switch_s"
    if horizon == 0:
        return []
    if horizon < MIN_DEAD_MAN_SWITCH_S:
        return [
            f"{path}: must be 0 (off) or at least {MIN_DEAD_MAN_SWITCH_S} s (the exchange "
            f"refuses a scheduled cancel less than {EXCHANGE_MIN_SCHEDULED_CANCEL_S} s after "
            f"the arm reaches it; {ARM_TRIP_ALLOWANCE_S} s is left for the arm's trip), "
            f"got {horizon}"
        ]
    problems = []
    if horizon < REARMS_PER_HORIZON * watchdog.ping_interval_s:
        problems.append(
            f"{path}: must be at least {REARMS_PER_HORIZON} x watchdog.ping_interval_s "
            f"({REARMS_PER_HORIZON * watchdog.ping_interval_s}): the watchdog re-arms it on "
            f"its pings, so a shorter horizon lapses while every actor is alive; got {horizon}"
        )
    if horizon <= watchdog.deadline_s:
        problems.append(
            f"{path}: must be longer than watchdog.deadline_s ({watchdog.deadline_s}): the "
            "watchdog's budget for a silent actor; a shorter switch cancels every order "
            f"before the watchdog has judged anything, got {horizon}"
        )
    return problems
