"""One makerd run: build the tree, quote until told to stop, stop cleanly, report.

Order of start: latch check (refuse to trade while latched) and reserve (so that a kill
switch tripped on a full disk still latches), journal, the metrics port (bound, not yet
served), venue, the session row, metrics served, the tree, the control socket, the venue's
I/O, then the supervised actors in dependency order, then the ticker. A step that fails
after the session row ends the run as daemon/run_start.py says. Order of stop (see
daemon/run_stop.py): stop quoting, cancel everything and wait for the venue to confirm, stop
the actors in reverse order, flush the journal, print the session summary.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from pathlib import Path
from typing import TextIO

from makerd.actors.gate import TradingGate
from makerd.config.loader import ConfigError, load_config
from makerd.config.model import MakerdConfig
from makerd.daemon.ack_latencies import AckLatencyLog
from makerd.daemon.basket import Basket
from makerd.daemon.control_desk import AnswerBox, DeskParts, open_control
from makerd.daemon.exit_codes import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_KILL_SWITCH,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_TEMPFAIL,
)
from makerd.daemon.gauges import register_coin_limit_gauges, register_process_gauges
from makerd.daemon.journal import Journal
from makerd.daemon.journal_store import JournalError
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.logs import say_error
from makerd.daemon.merged_metrics import coin_metrics_in
from makerd.daemon.notify import ServiceNotifier
from makerd.daemon.pause_file import PersistedPause
from makerd.daemon.refusal import refuse
from makerd.daemon.reload import HOT_SECTIONS, plan_reload
from makerd.daemon.run_outcome import Ending, OutcomeBox, exit_code
from makerd.daemon.run_reactions import Reactions
from makerd.daemon.run_start import (
    MetricsPortError,
    SessionMetrics,
    StartFailure,
    StartProgress,
    start_failed,
)
from makerd.daemon.run_stop import Running, finish_journal, stop_everything
from makerd.daemon.run_tree import RunParts, Session, Tree, TreeSlot, build_session_tree
from makerd.daemon.session_settings import record_settings
from makerd.daemon.signals import SignalFlags
from makerd.daemon.state_lock import StateDirLock, StateDirLockedError, state_dir_problem
from makerd.daemon.timers import Ticker
from makerd.daemon.venue_choice import VenueUnavailableError, build_venue
from makerd.daemon.wiring import ConfigHolder
from makerd.protocol.clock import WallClock
from makerd.venues.base import venue_instruments

log = logging.getLogger("makerd")
TICK_INTERVAL_S = 0.1


class MakerdRun:
    def __init__(
        self,
        config: MakerdConfig,
        *,
        config_path: Path | None = None,
        out: TextIO = sys.stdout,
        signals: SignalFlags | None = None,
    ) -> None:
        """``signals``: flags the process entry already catches with (see daemon/entry.py)."""
        self.config = config
        self._config_path = config_path
        # What the file itself said at start (before command-line overrides), so a reload
        # reports only the sections an operator actually edited since, until a restart.
        self._file_at_start = _file_as_loaded(config_path, fallback=config)
        self._out = out
        self._flags = SignalFlags() if signals is None else signals
        self._outcome = OutcomeBox()
        self._notifier = ServiceNotifier()
        self._state_dir = Path(config.state_dir).resolve()
        self._lock = StateDirLock(self._state_dir)
        self._answers = AnswerBox()
        self._parts = RunParts(
            config=config,
            basket=Basket.of(config),
            clock=WallClock(),
            gate=TradingGate(),
            latch=KillSwitchLatch(self._state_dir),
            holder=ConfigHolder(config),
            pause=PersistedPause(self._state_dir),
        )

    def run(self, *, duration_s: float | None, install_signals: bool = True) -> int:
        unusable = state_dir_problem(self._state_dir)
        if unusable is not None:
            return self._refuse(
                EXIT_CONFIG, f"makerd: state directory {self._state_dir}: {unusable}"
            )
        try:
            self._lock.acquire()
        except StateDirLockedError as error:
            return self._refuse(EXIT_LOCKED, f"makerd: refusing to start: {error}")
        try:
            return self._run_locked(duration_s, install_signals=install_signals)
        finally:
            self._lock.release()

    def _run_locked(self, duration_s: float | None, *, install_signals: bool) -> int:
        latched = self._parts.latch.read()
        if latched is not None:
            return self._refuse(
                EXIT_KILL_SWITCH,
                f"makerd: kill switch is latched (reason={latched.reason}: {latched.detail}); "
                "refusing to trade. Clear it with: "
                f"makerd kill-switch clear --state-dir {self._state_dir}",
            )
        try:
            self._parts.latch.reserve()
        except OSError as error:
            # Without it a kill switch tripped on a full disk would latch nothing, and a
            # relaunch (launchd relaunches every failed exit) would trade.
            return self._refuse(
                EXIT_FAILURE,
                f"makerd: cannot reserve the kill-switch latch in {self._state_dir}: "
                f"{error.strerror}; refusing to trade",
            )
        if install_signals:
            self._flags.install()
        # The journal opens before the exchange is touched: a session makerd could not
        # account for (a full disk, a broken file) must never start trading.
        path = self._state_dir / "journal.sqlite"
        try:
            journal = Journal(path)
        except (JournalError, sqlite3.Error, OSError) as error:
            return self._refuse(
                EXIT_FAILURE, f"makerd: cannot open the journal {path}: {error}; refusing to trade"
            )
        # Bound before the exchange is asked anything: a port taken refuses the start with
        # no exchange request and no session row (systemd's Restart= repeats both at every
        # retry). Served once the session starts.
        try:
            metrics = SessionMetrics.bind(self.config.metrics)
        except MetricsPortError as error:
            journal.close()
            return self._refuse_start(start_failed("metrics", error))
        try:
            return self._run_journaled(journal, metrics, duration_s)
        finally:
            metrics.close()
            journal.close()

    def _run_journaled(
        self, journal: Journal, metrics: SessionMetrics, duration_s: float | None
    ) -> int:
        parts = self._parts
        config, basket = parts.config, parts.basket
        # The venue before the session row: a missing key or an unknown coin must not
        # leave a session behind.
        try:
            venue = build_venue(
                config,
                clock=parts.clock,
                gate=parts.gate,
                stop_requested=self._flags.stop,
                coin_of_cloid=basket.coin_of_cloid(),
            )
        except VenueUnavailableError as error:
            if self._flags.stop.is_set():
                # Asked to stop while the venue was being retried: a stop, not a failure
                # (launchd relaunches a failed exit, so a 75 here undid the operator's stop).
                say_error(f"makerd: stopped before the venue answered ({error}); nothing traded")
                return EXIT_OK
            return self._refuse(
                EXIT_TEMPFAIL, f"makerd: venue unavailable, try again later: {error}"
            )
        size_problems = basket.size_problems(config, venue_instruments(venue))
        if size_problems:
            venue.stop()
            return self._refuse(
                EXIT_CONFIG, "\n".join(["makerd: invalid configuration", *size_problems])
            )
        try:
            session_id = journal.start_session(
                mode=config.mode.value,
                coin=basket.label,
                ts_ns=parts.clock.now_ns(),
                account=venue.account_id,
            )
            record_settings(journal, session_id, config, mode=config.mode.value)
        except (JournalError, sqlite3.Error, OSError) as error:
            venue.stop()
            return self._refuse(
                EXIT_FAILURE, f"makerd: cannot journal the session: {error}; refusing to trade"
            )
        session = Session(
            journal=journal,
            session_id=session_id,
            venue=venue,
            coin_metrics=coin_metrics_in(
                metrics.registry, mode=config.mode.value, coins=basket.coins
            ),
            ack_latencies=AckLatencyLog(journal=journal.ack_latencies, session_id=session_id),
        )
        return self._run_session(session, metrics, duration_s)

    def _run_session(
        self, session: Session, metrics: SessionMetrics, duration_s: float | None
    ) -> int:
        progress = StartProgress(session.venue)
        try:
            running = self._start(session, metrics, progress)
        except Exception as error:
            # Whatever a start step raised (a journal refusing an actor's first write, a
            # venue whose I/O would not start): what it opened is closed, the session ends
            # with the failure as its reason, and the exit follows that outcome.
            return self._undo_start(session, progress, progress.failed(error))
        try:
            self._quote_until_stopped(session, running.tree, duration_s)
        finally:
            open_at_stop = self._stop(session, running)
        return self._finish(session, open_at_stop)

    def _stop(self, session: Session, running: Running) -> int | None:
        return stop_everything(
            self._parts,
            session,
            running,
            outcome=self._outcome,
            notifier=self._notifier,
            answers=self._answers,
            flags=self._flags,
            out=self._out,
        )

    def _finish(self, session: Session, open_at_stop: int | None) -> int:
        outcome = self._outcome.get()
        finish_journal(
            self._parts, session, open_at_stop=open_at_stop, reason=outcome.reason, out=self._out
        )
        return exit_code(outcome)

    def _refuse(self, code: int, message: str) -> int:
        """A start refused before the actors: no session is left open, nothing traded."""
        return refuse(code, message, self._notifier)

    def _refuse_start(self, failure: StartFailure) -> int:
        """A start refused before the venue was built: no session, nothing opened."""
        self._outcome.end(Ending.START_FAILED, failure.reason)
        self._notifier.start_failed(failure.reason, failure.errno)
        return exit_code(self._outcome.get())

    def _undo_start(self, session: Session, progress: StartProgress, failure: StartFailure) -> int:
        self._outcome.end(Ending.START_FAILED, failure.reason)
        if progress.running is None:
            # No stop will say it: systemd hears the failure here (from the actors' start
            # on, the stop's own STOPPING=1 does).
            self._notifier.start_failed(failure.reason, failure.errno)
            progress.close_unstarted()
            return self._finish(session, None)  # not asked: the venue's count is unknown
        # The actors may have traded: the venue is swept as in any stop.
        return self._finish(session, self._stop(session, progress.running))

    def _start(self, session: Session, metrics: SessionMetrics, progress: StartProgress) -> Running:
        """Serve metrics (on the port bound before the venue was built), build the tree,
        open the control socket, then start the venue, the actors and the ticker;
        ``progress`` says how far it got if a step raises."""
        parts, venue = self._parts, session.venue
        progress.server = server = metrics.serve(self._out)
        progress.step = "tree"
        slot = TreeSlot()
        reactions = Reactions(parts, session, outcome=self._outcome, tree=slot)
        hooks = reactions.hooks(notifier=self._notifier, answers=self._answers)
        if parts.pause.paused:
            log.warning("event=started_paused action=quote_nothing until='makerd ctl resume'")
        tree = build_session_tree(parts, session, hooks, slot)
        progress.step = "control socket"
        progress.control = control = open_control(self._state_dir, self._desk_parts(session, tree))
        progress.step = "venue"
        venue.start(tree.router.dispatch)
        ticker = Ticker(
            clock=parts.clock,
            interval_s=TICK_INTERVAL_S,
            roles=parts.basket.actor_names(),
            send=tree.router.tell,
        )
        running = Running(tree=tree, control=control, ticker=ticker, server=server)
        progress.running = running
        progress.step = "actors"
        tree.supervisor.start()
        progress.step = "control socket"
        control.start()
        progress.step = "gauges"
        register_process_gauges(
            session.metrics,
            supervisor=tree.supervisor,
            venue=venue,
            config=parts.holder.get,
            names=parts.basket.names,
        )
        register_coin_limit_gauges(session.coin_metrics, parts.holder.get)
        progress.step = "ticker"
        ticker.start()
        log.info(
            "event=started mode=%s coin=%s session=%d",
            parts.config.mode.value,
            parts.basket.label,
            session.session_id,
        )
        return running

    def _desk_parts(self, session: Session, tree: Tree) -> DeskParts:
        """What ``makerd ctl`` reads and reaches: snapshots, the config, the routing table."""
        parts = self._parts
        return DeskParts(
            snapshot=tree.observer.snapshot,
            config=parts.holder.get,
            send=tree.router.dispatch,
            journal=session.journal,
            session_id=session.session_id,
            clock=parts.clock,
            gate=parts.gate,
            latch=parts.latch,
            answers=self._answers,
            coin_snapshots=tree.observers.snapshots if parts.basket.several else None,
        )

    def _quote_until_stopped(self, session: Session, tree: Tree, duration_s: float | None) -> None:
        started = time.monotonic()
        next_status = started + self.config.status_interval_s
        ready = False
        ending = self._outcome.ending
        while not ending.is_set() and not self._flags.stop.is_set():
            ending.wait(0.1)
            if not ready and tree.observers.all_cycled():
                ready = True
                self._notifier.ready(tree.observer.snapshot().line())
            if self._flags.reload.is_set():
                self._flags.reload.clear()
                self._reload(session, tree)
            now = time.monotonic()
            if now >= next_status:
                next_status = now + self.config.status_interval_s
                self._print_status(tree)
            if duration_s is not None and now - started >= duration_s:
                break
        if self._flags.stop_signal:
            log.info("event=stop_requested signal=%s", self._flags.stop_signal)

    def _print_status(self, tree: Tree) -> None:
        mode = self.config.mode.value
        line, details = tree.observers.status()
        for coin, detail in details.items():
            print(f"makerd {mode} {coin} | {detail}", file=self._out)
        print(f"makerd {mode} {self._parts.basket.label} | {line}", file=self._out, flush=True)
        self._notifier.status(line)

    def _reload(self, session: Session, tree: Tree) -> None:
        """SIGHUP: apply the hot sections of a valid config file; keep everything if invalid."""
        parts = self._parts
        self._notifier.reloading()
        plan = plan_reload(
            path=self._config_path,
            running=parts.holder.get(),
            file_at_start=self._file_at_start,
            instruments=venue_instruments(session.venue),
        )
        reloads = session.metrics.config_reloads_total
        if plan.applied is None or plan.file_config is None:
            reloads.labels(result="invalid").inc()
            log.error("event=config_reload result=invalid kept=running problems=%r", plan.problems)
        else:
            parts.holder.set(plan.applied)
            for changed in parts.basket.parameters_changed(plan.applied, parts.clock.now_ns()):
                tree.router.dispatch(changed)
            reloads.labels(result="valid").inc()
            log.warning(
                "event=config_reload result=applied sections=%s needs_restart=%s",
                ",".join(HOT_SECTIONS),
                ",".join(plan.restart_only) or "-",
            )
        self._notifier.reloaded(tree.observer.snapshot().line())


def _file_as_loaded(path: Path | None, *, fallback: MakerdConfig) -> MakerdConfig:
    try:
        return load_config(path)
    except ConfigError:
        return fallback  # validated moments ago by the caller; changed on disk since
