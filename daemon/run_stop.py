"""The stop sequence and the session's last journal rows and summary.

Order of stop: close the gate and the control socket (no operator command may race the
stop), tell every actor to stop trading, sweep the venue (cancel whatever it lists) until
it confirms nothing is left; after a stop that flattens, wait for every position to read
0 (or say which did not); wait until each booked position is the venue's (the last fills
booked, or say which were not); then stop the ticker, the actors, the venue and the
metrics server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from makerd.daemon.coin_report import coin_lines
from makerd.daemon.control_desk import AnswerBox
from makerd.daemon.control_server import ControlServer
from makerd.daemon.journal_store import said_if_unwritable
from makerd.daemon.metrics import MetricsServer
from makerd.daemon.metrics_http import MAX_LINGER_S
from makerd.daemon.notify import ServiceNotifier
from makerd.daemon.report import format_summary, summarize, summary_to_json
from makerd.daemon.run_outcome import OutcomeBox, flattens, position_left_open
from makerd.daemon.run_tree import RunParts, Session, Tree
from makerd.daemon.shutdown import (
    confirm_every_coin,
    left_open,
    wait_until_booked,
    wait_until_flat,
)
from makerd.daemon.signals import SignalFlags
from makerd.daemon.timers import Ticker
from makerd.protocol.control import StopTrading
from makerd.protocol.orders import CancelReason

log = logging.getLogger("makerd")
_SWEEP_SHARE = 0.6
"""Of the stop's budget: time for the venue to confirm that no order rests."""
_FLAT_WAIT_SHARE = 0.25
"""Of the stop's budget, after the orders are confirmed gone: time for the closing orders
(each remainder is closed again a second after the last closing order ended, or once a
rate limit's pause is over), plus whatever of the sweep's share the sweep did not use:
a 4 s rate limit outlasted a fixed 5 s of a 20 s stop that had used 0.4 s to sweep."""
_BOOKS_WAIT_SHARE = 0.15
"""Of the stop's budget, once no order rests: time for the last fills to be booked."""
_STOP_OVERHEAD_S = 10.0
"""Beyond that budget: the control socket's last request, the actors' and the venue's stops."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Running:
    """What runs during a session and must be stopped at its end."""

    tree: Tree
    control: ControlServer
    ticker: Ticker
    server: MetricsServer | None


def stop_everything(
    parts: RunParts,
    session: Session,
    running: Running,
    *,
    outcome: OutcomeBox,
    notifier: ServiceNotifier,
    answers: AnswerBox,
    flags: SignalFlags,
    out: TextIO,
) -> int | None:
    """Stop the session; the venue's open-order count at the end (None: unknown)."""
    notifier.stopping("stopping: cancelling orders")
    # STOPPING=1 starts the unit's TimeoutStopSec (30 s); a longer stop_timeout_s, or the
    # last scrape a kill switch waits for, would otherwise be cut short by SIGKILL.
    notifier.extend_timeout(parts.config.stop_timeout_s + MAX_LINGER_S + _STOP_OVERHEAD_S)
    parts.gate.close(outcome.get().reason)
    answers.close()
    running.control.stop()  # first: no operator command may race the stop
    venue = session.venue
    stop_began_s = time.monotonic()
    now = parts.clock.now_ns()
    # The risk section in force now: a SIGHUP may have changed it since the start. An
    # operator's flatten still in force is waited for and reported like the stop's own.
    flatten = flattens(outcome.get(), parts.holder.get().risk) or parts.pause.flattening
    running.tree.router.dispatch(StopTrading(reason="shutdown", flatten=flatten, ts_local=now))
    # Each round sweeps the venue: it cancels everything even if an order_manager is gone.
    remaining = confirm_every_coin(
        venue=venue,
        observers=running.tree.observers.by_coin,
        clock=parts.clock,
        deadline_s=parts.config.stop_timeout_s * _SWEEP_SHARE,
        give_up=flags.second_stop,
    )
    observers = running.tree.observers.by_coin
    # The sweeps read each position after their cancels: final once no order rests.
    positions_since = now
    booked_open: dict[str, Decimal] = {}
    if flatten:
        budget_s = parts.config.stop_timeout_s
        unused_s = budget_s * (_SWEEP_SHARE + _FLAT_WAIT_SHARE) - (time.monotonic() - stop_began_s)
        booked_open = wait_until_flat(
            observers=observers,
            since_ns=now,
            deadline_s=max(budget_s * _FLAT_WAIT_SHARE, unused_s),
            give_up=flags.second_stop,
        )
        # The closing orders traded after those reads: read the positions again.
        positions_since = parts.clock.now_ns()
        venue.submit(parts.basket.sweep(CancelReason.SHUTDOWN, positions_since))
    if remaining == 0:
        _say_unbooked(
            wait_until_booked(
                observers=observers,
                since_ns=positions_since,
                deadline_s=parts.config.stop_timeout_s * _BOOKS_WAIT_SHARE,
                give_up=flags.second_stop,
            ),
            out,
        )
    still_open: dict[str, Decimal] = {}
    if flatten:
        # Said from the venue's reading after the flatten where there is one: a closing
        # fill the user stream had not yet delivered left nothing open.
        still_open = left_open(booked_open, observers, since_ns=positions_since)
        _say_open_positions(still_open, out)
    running.ticker.stop()
    abandoned = running.tree.supervisor.stop()
    confirmed = remaining == 0
    # Unconfirmed: the exchange's dead-man switch stays armed to cancel what is left.
    venue.stop(orders_confirmed_gone=confirmed)
    if running.server is not None:
        running.server.shutdown()
    _say_what_is_left(remaining, parts.basket.coins, out)
    outcome.stopped(orders_confirmed_gone=confirmed, left_open=still_open)
    if abandoned:
        log.error("event=actors_abandoned roles=%s", ",".join(abandoned))
    return remaining


def _say_unbooked(apart: dict[str, tuple[Decimal, Decimal | None]], out: TextIO) -> None:
    for coin, (booked, venue) in apart.items():
        shown = "unknown" if venue is None else str(venue)
        log.error("event=position_unbooked_at_stop coin=%s booked=%s venue=%s", coin, booked, shown)
        print(
            f"makerd: {coin} booked position {booked} but the venue's is {shown}: the next "
            "start repairs the fills it missed",
            file=out,
            flush=True,
        )


def _say_open_positions(still_open: dict[str, Decimal], out: TextIO) -> None:
    for coin, position in still_open.items():
        log.error("event=position_left_open coin=%s position=%s", coin, position)
    if still_open:
        print(
            f"makerd: {position_left_open(still_open)} (the flatten could not close it): "
            "close it on the exchange",
            file=out,
            flush=True,
        )


def _say_what_is_left(remaining: int | None, coins: Sequence[str], out: TextIO) -> None:
    if remaining == 0:
        # Of the coins this run quotes: the account may rest orders on others (a trader's
        # by hand), which the stop neither sweeps nor counts.
        said = ", ".join(coins)
        print(f"makerd: venue confirms 0 open orders for {said}", file=out, flush=True)
        return
    left = "an unknown number of" if remaining is None else str(remaining)
    log.error("event=orders_left_open count=%s", "unknown" if remaining is None else left)
    print(
        f"makerd: could not confirm that no order is left open: the venue may still "
        f"hold {left} orders (its dead-man switch, if armed, cancels them)",
        file=out,
        flush=True,
    )


def finish_journal(
    parts: RunParts, session: Session, *, open_at_stop: int | None, reason: str, out: TextIO
) -> None:
    """The stop row, the session's end with its summary, and the summary printed."""
    journal, session_id = session.journal, session.session_id
    with said_if_unwritable("ack_latencies"):
        session.ack_latencies.flush()
    left = "unknown" if open_at_stop is None else str(open_at_stop)
    with said_if_unwritable("stopped"):
        journal.record_order_event(
            session_id,
            ts_ns=parts.clock.now_ns(),
            cloid="*",
            event="stopped",
            detail=f"venue_open_orders={left} reason={reason}",
        )
    ended_ns = parts.clock.now_ns()
    summary = summarize(journal, session_id, ended_ns=ended_ns)
    with said_if_unwritable("session_end"):
        journal.end_session(session_id, ts_ns=ended_ns, summary_json=summary_to_json(summary))
    print(format_summary(summary), file=out, flush=True)
    if parts.basket.several:
        print(coin_lines(journal, session_id, parts.basket.coins), file=out, flush=True)
