"""One makerd run: build the tree, quote until told to stop, stop cleanly, report.

Order of start: journal and latch check (refuse to trade while latched), venue, metrics,
then the supervised actors in dependency order, then the ticker. Order of stop: stop
quoting, cancel everything and wait for the venue to confirm, stop the actors in reverse
order, flush the journal, print the session summary.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

from prometheus_client import CollectorRegistry

from actors.gate import TradingGate
from actors.router import Router
from config.loader import ConfigError, load_config
from config.model import MakerdConfig
from makerd.basket import Basket
from makerd.coin_observers import CoinObservers
from makerd.coin_report import coin_lines
from makerd.control_desk import AnswerBox, DeskParts, open_control
from makerd.control_server import ControlServer, ControlSocketError
from makerd.exit_codes import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_GAVE_UP,
    EXIT_HUNG,
    EXIT_KILL_SWITCH,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_ORDERS_LEFT,
    EXIT_TEMPFAIL,
)
from makerd.gauges import register_process_gauges
from makerd.journal import Journal
from makerd.latch import KillSwitchLatch
from makerd.logs import say_error
from makerd.merged_metrics import coin_metrics_in
from makerd.metrics import Metrics, MetricsServer, serve_metrics
from makerd.notify import ServiceNotifier
from makerd.observer import Observer
from makerd.pause_file import PersistedPause
from makerd.reload import HOT_SECTIONS, plan_reload
from makerd.report import format_summary, summarize, summary_to_json
from makerd.session_settings import record_settings
from makerd.shutdown import confirm_every_coin
from makerd.signals import SignalFlags
from makerd.state_lock import StateDirLock, StateDirLockedError
from makerd.supervision import build_tree
from makerd.timers import Ticker
from makerd.venue_choice import VenueUnavailableError, build_venue
from makerd.wiring import ConfigHolder, Dependencies
from protocol.clock import WallClock
from protocol.control import ChildUnresponsive, StopTrading
from protocol.orders import CancelAll, CancelReason
from protocol.risk import KillSwitchTripped
from supervision.forest import SupervisorForest
from supervisor import Escalation, ExitKind, RestartRecord, Supervisor
from venues.base import ProcessVenue, venue_instruments

log = logging.getLogger("makerd")
NS_PER_S = 1_000_000_000
TICK_INTERVAL_S = 0.1


@dataclass(slots=True)
class Outcome:
    exit_code: int = EXIT_OK
    reason: str = "stopped"


class MakerdRun:
    def __init__(
        self, config: MakerdConfig, *, config_path: Path | None = None, out: TextIO = sys.stdout
    ) -> None:
        self.config = config
        self._config_path = config_path
        self._holder = ConfigHolder(config)
        # What the file itself said at start (before command-line overrides), so a reload
        # reports only the sections an operator actually edited since.
        self._file_config = _file_as_loaded(config_path, fallback=config)
        self._out = out
        self._clock = WallClock()
        self._flags = SignalFlags()
        self._ending = threading.Event()
        self._outcome = Outcome()
        self._outcome_lock = threading.Lock()
        self._notifier = ServiceNotifier()
        self._gate = TradingGate()
        self._state_dir = Path(config.state_dir).resolve()
        self._latch = KillSwitchLatch(self._state_dir)
        self._lock = StateDirLock(self._state_dir)
        self._open_at_stop: int | None = None
        self._answers = AnswerBox()
        self._pause = PersistedPause(self._state_dir)
        self._control: ControlServer | None = None
        self._basket = Basket.of(config)

    def refuse_if_latched(self) -> int | None:
        latched = self._latch.read()
        if latched is None:
            return None
        say_error(
            f"makerd: kill switch is latched (reason={latched.reason}: {latched.detail}); "
            "refusing to trade. Clear it with: "
            f"makerd kill-switch clear --state-dir {self._state_dir}"
        )
        return EXIT_KILL_SWITCH

    def run(self, *, duration_s: float | None, install_signals: bool = True) -> int:
        unusable = self._state_dir_problem()
        if unusable is not None:
            say_error(f"makerd: state directory {self._state_dir}: {unusable}")
            return EXIT_CONFIG
        try:
            self._lock.acquire()
        except StateDirLockedError as error:
            say_error(f"makerd: refusing to start: {error}")
            return EXIT_LOCKED
        try:
            return self._run_locked(duration_s, install_signals=install_signals)
        finally:
            self._lock.release()

    def _run_locked(self, duration_s: float | None, *, install_signals: bool) -> int:
        refused = self.refuse_if_latched()
        if refused is not None:
            return refused
        if install_signals:
            self._flags.install()
        # The venue first: a missing key or an unknown coin must not leave a session behind.
        try:
            venue = build_venue(
                self.config,
                clock=self._clock,
                gate=self._gate,
                stop_requested=self._flags.stop,
                coin_of_cloid=self._basket.coin_of_cloid(),
            )
        except VenueUnavailableError as error:
            say_error(f"makerd: venue unavailable, try again later: {error}")
            return EXIT_TEMPFAIL
        size_problems = self._basket.size_problems(self.config, venue_instruments(venue))
        if size_problems:
            venue.stop()
            say_error("\n".join(["makerd: invalid configuration", *size_problems]))
            return EXIT_CONFIG
        journal = Journal(self._state_dir / "journal.sqlite")
        session_id = journal.start_session(
            mode=self.config.mode.value,
            coin=self._basket.label,
            ts_ns=self._clock.now_ns(),
            account=venue.account_id,
        )
        record_settings(journal, session_id, self.config, mode=self.config.mode.value)
        self._journal = journal
        self._session_id = session_id
        try:
            return self._run_session(journal, session_id, venue, duration_s)
        finally:
            journal.close()

    def _state_dir_problem(self) -> str | None:
        try:
            self._state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return f"cannot be created ({error.strerror})"
        if not os.access(self._state_dir, os.W_OK | os.X_OK):
            return "is not writable"
        return None

    def _run_session(
        self, journal: Journal, session_id: int, venue: ProcessVenue, duration_s: float | None
    ) -> int:
        config = self.config
        registry = CollectorRegistry()
        coin_metrics = coin_metrics_in(registry, mode=config.mode.value, coins=self._basket.coins)
        metrics = next(iter(coin_metrics.values()))
        self._metrics = metrics
        self._coin_metrics = coin_metrics
        try:
            server = self._serve(registry)
        except OSError as error:
            metrics_config = config.metrics
            say_error(
                f"makerd: cannot serve metrics on {metrics_config.host}:{metrics_config.port}: "
                f"{error.strerror}"
            )
            venue.stop()
            return EXIT_FAILURE
        self._build_tree(journal, session_id, venue, coin_metrics)
        try:
            self._control = open_control(self._state_dir, self._desk_parts(journal, session_id))
        except ControlSocketError as error:
            say_error(f"makerd: {error}")
            venue.stop()
            if server is not None:
                server.shutdown()
            return EXIT_FAILURE
        router = self._router
        venue.start(router.dispatch)
        self._supervisor.start()
        self._control.start()
        register_process_gauges(
            metrics,
            supervisor=self._supervisor,
            venue=venue,
            config=self._holder.get,
            names=self._basket.names,
        )
        ticker = Ticker(
            clock=self._clock,
            interval_s=TICK_INTERVAL_S,
            roles=self._basket.actor_names(),
            send=router.tell,
        )
        ticker.start()
        log.info(
            "event=started mode=%s coin=%s session=%d",
            config.mode.value,
            self._basket.label,
            session_id,
        )
        try:
            self._quote_until_stopped(duration_s)
        finally:
            self._stop_everything(ticker, server)
        self._finish_journal(journal, session_id)
        return self._outcome.exit_code

    def _build_tree(
        self,
        journal: Journal,
        session_id: int,
        venue: ProcessVenue,
        coin_metrics: dict[str, Metrics],
    ) -> None:
        """The observers, the router and the supervisor with its children's specs."""
        config = self.config
        basket = self._basket
        addressing = basket.addressing()
        observers = CoinObservers(
            {
                coin: Observer(
                    metrics=metrics,
                    on_unresponsive=self._on_unresponsive,
                    on_alive=self._notifier.watchdog,
                    on_kill_switch=self._on_kill_switch,
                    clock=self._clock,
                    on_operator_command=self._answers.deliver,
                    paused=self._pause.paused,
                )
                for coin, metrics in coin_metrics.items()
            },
            coin_of=addressing.coin_of if addressing is not None else lambda _: None,
        )
        observer = observers.primary
        if self._pause.paused:
            log.warning("event=started_paused action=quote_nothing until='makerd ctl resume'")
        deps = Dependencies(
            config=config,
            instrument=venue.instrument,
            journal=journal,
            session_id=session_id,
            latch=self._latch,
            new_cloid=basket.cloids.factories[basket.coins[0]],
            clock=self._clock,
            gate=self._gate,
            current=self._holder,
            account=venue.account_id,
            responsible_since_ns=_responsible_since(journal, venue.account_id),
            pause=self._pause,
        )
        router = Router(
            resolve=lambda role: self._supervisor.ref(role),  # noqa: PLW0108  (built just below)
            venue=venue,
            observer=observers if basket.several else observer,
            gate=self._gate,
            addressing=addressing,
        )
        self._observer = observer
        self._observers = observers
        self._router = router
        self._venue = venue
        self._supervisor: Supervisor | SupervisorForest = build_tree(
            config,
            deps=deps,
            cloids=basket.cloids,
            instruments=venue_instruments(venue),
            router=router,
            clock=self._clock,
            on_escalate=self._on_escalate,
            on_coin_gave_up=self._on_coin_gave_up,
            on_restart=partial(self._on_restart, journal=journal, session_id=session_id),
        )

    def _desk_parts(self, journal: Journal, session_id: int) -> DeskParts:
        """What ``makerd ctl`` reads and reaches: snapshots, the config, the routing table."""
        return DeskParts(
            snapshot=self._observer.snapshot,
            config=self._holder.get,
            send=self._router.dispatch,
            journal=journal,
            session_id=session_id,
            clock=self._clock,
            gate=self._gate,
            latch=self._latch,
            answers=self._answers,
            coin_snapshots=self._observers.snapshots if self._basket.several else None,
        )

    def _serve(self, registry: CollectorRegistry) -> MetricsServer | None:
        metrics_config = self.config.metrics
        if not metrics_config.enabled:
            return None
        server = serve_metrics(registry, metrics_config.host, metrics_config.port)
        print(
            f"makerd: metrics on http://{metrics_config.host}:{server.port}/metrics", file=self._out
        )
        return server

    def _quote_until_stopped(self, duration_s: float | None) -> None:
        started = time.monotonic()
        next_status = started + self.config.status_interval_s
        ready = False
        while not self._ending.is_set() and not self._flags.stop.is_set():
            self._ending.wait(0.1)
            if not ready and self._observers.all_cycled():
                ready = True
                self._notifier.ready(self._observer.snapshot().line())
            if self._flags.reload.is_set():
                self._flags.reload.clear()
                self._reload()
            now = time.monotonic()
            if now >= next_status:
                next_status = now + self.config.status_interval_s
                self._print_status()
            if duration_s is not None and now - started >= duration_s:
                break
        if self._flags.stop_signal:
            log.info("event=stop_requested signal=%s", self._flags.stop_signal)

    def _print_status(self) -> None:
        mode = self.config.mode.value
        line, details = self._observers.status()
        for coin, detail in details.items():
            print(f"makerd {mode} {coin} | {detail}", file=self._out)
        print(f"makerd {mode} {self._basket.label} | {line}", file=self._out, flush=True)
        self._notifier.status(line)

    def _reload(self) -> None:
        """SIGHUP: apply the hot sections of a valid config file; keep everything if invalid."""
        self._notifier.reloading()
        plan = plan_reload(
            path=self._config_path,
            running=self._holder.get(),
            previous_file=self._file_config,
            instruments=venue_instruments(self._venue),
        )
        if plan.applied is None or plan.file_config is None:
            self._metrics.config_reloads_total.labels(result="invalid").inc()
            log.error("event=config_reload result=invalid kept=running problems=%r", plan.problems)
        else:
            self._holder.set(plan.applied)
            self._file_config = plan.file_config
            for changed in self._basket.parameters_changed(plan.applied, self._clock.now_ns()):
                self._router.dispatch(changed)
            self._metrics.config_reloads_total.labels(result="valid").inc()
            log.warning(
                "event=config_reload result=applied sections=%s needs_restart=%s",
                ",".join(HOT_SECTIONS),
                ",".join(plan.restart_only) or "-",
            )
        self._notifier.ready(self._observer.snapshot().line())

    def _stop_everything(self, ticker: Ticker, server: MetricsServer | None) -> None:
        self._notifier.stopping("stopping: cancelling orders")
        self._gate.close(self._outcome.reason)
        self._answers.close()
        if self._control is not None:
            self._control.stop()  # first: no operator command may race the stop
        risk = self.config.risk
        exit_code = self._outcome.exit_code
        flatten = (exit_code == EXIT_KILL_SWITCH and risk.flatten_on_kill) or (
            exit_code == EXIT_OK and risk.flatten_on_stop
        )
        now = self._clock.now_ns()
        self._router.dispatch(StopTrading(reason="shutdown", flatten=flatten, ts_local=now))
        # Belt and braces: the venue cancels everything even if an order_manager is gone.
        for cancel in self._basket.cancel_all(CancelReason.SHUTDOWN, now):
            self._venue.submit(cancel)
        remaining = confirm_every_coin(
            venue=self._venue,
            observers=self._observers.by_coin,
            clock=self._clock,
            deadline_s=self.config.stop_timeout_s * 0.6,
            give_up=self._flags.second_stop,
        )
        ticker.stop()
        abandoned = self._supervisor.stop()
        confirmed = remaining == 0
        # Unconfirmed: the exchange's dead-man switch stays armed to cancel what is left.
        self._venue.stop(orders_confirmed_gone=confirmed)
        if server is not None:
            server.shutdown()
        self._open_at_stop = remaining
        if confirmed:
            print("makerd: venue confirms 0 open orders", file=self._out, flush=True)
        else:
            left = "an unknown number of" if remaining is None else str(remaining)
            log.error("event=orders_left_open count=%s", "unknown" if remaining is None else left)
            print(
                f"makerd: could not confirm that no order is left open: the venue may still "
                f"hold {left} orders (its dead-man switch, if armed, cancels them)",
                file=self._out,
                flush=True,
            )
            with self._outcome_lock:
                self._outcome = Outcome(exit_code=EXIT_ORDERS_LEFT, reason="orders left open")
        if abandoned:
            log.error("event=actors_abandoned roles=%s", ",".join(abandoned))

    def _finish_journal(self, journal: Journal, session_id: int) -> None:
        left = "unknown" if self._open_at_stop is None else str(self._open_at_stop)
        journal.record_order_event(
            session_id,
            ts_ns=self._clock.now_ns(),
            cloid="*",
            event="stopped",
            detail=f"venue_open_orders={left} reason={self._outcome.reason}",
        )
        summary = summarize(journal, session_id)
        journal.end_session(
            session_id, ts_ns=self._clock.now_ns(), summary_json=summary_to_json(summary)
        )
        print(format_summary(summary), file=self._out, flush=True)
        if self._basket.several:
            print(coin_lines(journal, session_id, self._basket.coins), file=self._out, flush=True)

    def _end(self, exit_code: int, reason: str) -> None:
        with self._outcome_lock:
            if self._outcome.exit_code == EXIT_OK:
                self._outcome = Outcome(exit_code=exit_code, reason=reason)
        self._ending.set()

    def _on_kill_switch(self, tripped: KillSwitchTripped) -> None:
        self._gate.close(f"kill switch: {tripped.reason.value}")
        self._journal.record_kill_switch(
            ts_ns=tripped.ts_local,
            action="trip",
            reason=tripped.reason.value,
            detail=tripped.detail,
        )
        self._end(EXIT_KILL_SWITCH, f"kill switch: {tripped.reason.value}: {tripped.detail}")

    def _on_unresponsive(self, message: ChildUnresponsive) -> None:
        self._supervisor.report_unresponsive(message.role, message.silent_for_ns / NS_PER_S)

    def _on_escalate(self, escalation: Escalation) -> None:
        """The supervisor gave up. Hung actors want a process restart; a crash loop does not."""
        reason = escalation.reason
        self._gate.close(f"supervisor gave up: {reason}")
        for cancel in self._basket.cancel_all(CancelReason.KILL_SWITCH, self._clock.now_ns()):
            self._venue.submit(cancel)
        if escalation.kind is ExitKind.HUNG:
            self._end(EXIT_HUNG, reason)
            return
        now = self._clock.now_ns()
        self._metrics.supervisor_intensity_exceeded_total.inc()
        self._latch.trip(reason="restart_intensity", detail=reason, ts_ns=now)
        self._journal.record_kill_switch(
            ts_ns=now, action="trip", reason="restart_intensity", detail=reason
        )
        self._end(EXIT_GAVE_UP, reason)

    def _on_coin_gave_up(self, coin: str, escalation: Escalation) -> None:
        """One coin's supervisor gave up: that coin stops quoting, the others go on.

        A hung actor still wants the process restarted (its thread cannot be stopped), and
        when no coin is left the process gives up as a one-coin process does.
        """
        if escalation.kind is ExitKind.HUNG or self._supervisor.gave_up:
            self._on_escalate(escalation)
            return
        log.error("event=coin_halted coin=%s reason=%r", coin, escalation.reason)
        self._observers.mark_gave_up(coin)
        self._metrics.supervisor_intensity_exceeded_total.inc()
        now = self._clock.now_ns()
        # Its order manager is gone: the venue cancels what it may have left resting.
        self._venue.submit(CancelAll(coin=coin, reason=CancelReason.KILL_SWITCH, ts_local=now))
        self._journal.record_order_event(
            self._session_id,
            ts_ns=now,
            cloid="*",
            event="coin_halted",
            detail=f"coin={coin} reason={escalation.reason}",
        )

    def _on_restart(self, record: RestartRecord, *, journal: Journal, session_id: int) -> None:
        if record.action != "restarted":
            return  # a failed attempt or the give-up: logged by the supervisor, escalated above
        journal.record_restart(
            session_id,
            ts_ns=self._clock.now_ns(),
            role=record.role,
            kind=record.kind.value,
            error=record.error or "",
            restarts_in_window=record.restarts_in_window,
        )
        role, _, coin = record.role.partition(":")
        self._observers.by_coin.get(coin, self._observer).count_restart()
        self._coin_metrics.get(coin, self._metrics).actor_restarts_total.labels(
            actor=role, reason=record.kind.value
        ).inc()


def _responsible_since(journal: Journal, account: str | None) -> int:
    if account is None:
        return 0
    since = journal.account_since_ns(account)
    return 0 if since is None else since


def _file_as_loaded(path: Path | None, *, fallback: MakerdConfig) -> MakerdConfig:
    try:
        return load_config(path)
    except ConfigError:
        return fallback  # validated moments ago by the caller; changed on disk since
