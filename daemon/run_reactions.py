"""What the run does when its tree reports trouble: a kill switch, a give-up, a restart.

A reaction that ends the run closes the trading gate or cancels at the venue first (safety
before bookkeeping), then journals, then records the run's outcome, which wakes the run loop.
They run on actor threads: each touches only thread-safe parts (gate, venue, journal, box).
"""

from __future__ import annotations

import logging

from makerd.daemon.control_desk import AnswerBox
from makerd.daemon.journal_store import said_if_unwritable
from makerd.daemon.notify import ServiceNotifier
from makerd.daemon.run_outcome import Ending, OutcomeBox
from makerd.daemon.run_tree import RunParts, Session, TreeHooks, TreeSlot
from makerd.protocol.control import ChildUnresponsive
from makerd.protocol.orders import CancelAll, CancelReason
from makerd.protocol.risk import KillSwitchTripped
from makerd.supervisor import Escalation, ExitKind, RestartRecord

log = logging.getLogger("makerd")
NS_PER_S = 1_000_000_000


class Reactions:
    def __init__(
        self,
        parts: RunParts,
        session: Session,
        *,
        outcome: OutcomeBox,
        tree: TreeSlot,
    ) -> None:
        self._parts = parts
        self._session = session
        self._outcome = outcome
        self._tree = tree

    def hooks(self, *, notifier: ServiceNotifier, answers: AnswerBox) -> TreeHooks:
        return TreeHooks(
            on_unresponsive=self.on_unresponsive,
            on_alive=notifier.watchdog,
            on_kill_switch=self.on_kill_switch,
            on_operator_command=answers.deliver,
            on_escalate=self.on_escalate,
            on_coin_gave_up=self.on_coin_gave_up,
            on_restart=self.on_restart,
        )

    def on_kill_switch(self, tripped: KillSwitchTripped) -> None:
        self._parts.gate.close(f"kill switch: {tripped.reason.value}")
        with said_if_unwritable("kill_switch"):
            self._session.journal.record_kill_switch(
                ts_ns=tripped.ts_local,
                action="trip",
                reason=tripped.reason.value,
                detail=tripped.detail,
            )
        self._outcome.end(
            Ending.KILL_SWITCH,
            f"kill switch: {tripped.reason.value}: {tripped.detail}",
            flattened=tripped.flatten,
        )

    def on_unresponsive(self, message: ChildUnresponsive) -> None:
        self._tree.get().supervisor.report_unresponsive(
            message.role, message.silent_for_ns / NS_PER_S
        )

    def on_escalate(self, escalation: Escalation) -> None:
        """The supervisor gave up. Hung actors want a process restart; a crash loop does not."""
        parts = self._parts
        reason = escalation.reason
        parts.gate.close(f"supervisor gave up: {reason}")
        self._session.venue.submit(
            parts.basket.sweep(CancelReason.KILL_SWITCH, parts.clock.now_ns())
        )
        if escalation.kind is ExitKind.HUNG:
            self._outcome.end(Ending.HUNG, reason)
            return
        now = parts.clock.now_ns()
        self._session.metrics.supervisor_intensity_exceeded_total.inc()
        with said_if_unwritable("kill_switch_latch"):
            parts.latch.trip(reason="restart_intensity", detail=reason, ts_ns=now)
        with said_if_unwritable("kill_switch"):
            self._session.journal.record_kill_switch(
                ts_ns=now, action="trip", reason="restart_intensity", detail=reason
            )
        self._outcome.end(Ending.GAVE_UP, reason)

    def on_coin_gave_up(self, coin: str, escalation: Escalation) -> None:
        """One coin's supervisor gave up: that coin stops quoting, the others go on.

        A hung actor still wants the process restarted (its thread cannot be stopped), and
        when no coin is left the process gives up as a one-coin process does.
        """
        tree = self._tree.get()
        if escalation.kind is ExitKind.HUNG or tree.supervisor.gave_up:
            self.on_escalate(escalation)
            return
        session = self._session
        log.error("event=coin_halted coin=%s reason=%r", coin, escalation.reason)
        tree.observers.mark_gave_up(coin)
        session.metrics.supervisor_intensity_exceeded_total.inc()
        now = self._parts.clock.now_ns()
        # Its order manager is gone: what it left queued is refused, and the venue cancels
        # what rests or was on its way (the cancel-all lists again until that has settled),
        # asking again until it is done: nothing else would.
        self._parts.gate.halt_coin(coin)
        session.venue.submit(
            CancelAll(coin=coin, reason=CancelReason.KILL_SWITCH, ts_local=now, until_gone=True)
        )
        session.journal.record_order_event(
            session.session_id,
            ts_ns=now,
            cloid="*",
            event="coin_halted",
            detail=f"coin={coin} reason={escalation.reason}",
        )

    def on_restart(self, record: RestartRecord) -> None:
        if record.action != "restarted":
            return  # a failed attempt or the give-up: logged by the supervisor, escalated above
        session = self._session
        session.journal.record_restart(
            session.session_id,
            ts_ns=self._parts.clock.now_ns(),
            role=record.role,
            kind=record.kind.value,
            error=record.error or "",
            restarts_in_window=record.restarts_in_window,
        )
        role, _, coin = record.role.partition(":")
        tree = self._tree.get()
        tree.observers.by_coin.get(coin, tree.observer).count_restart()
        session.coin_metrics.get(coin, session.metrics).actor_restarts_total.labels(
            actor=role, reason=record.kind.value
        ).inc()
