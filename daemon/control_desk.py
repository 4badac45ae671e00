"""What a ``makerd ctl`` request does inside ``makerd run`` (on the control server's thread).

``status`` is read from the observer's snapshot and the configuration in force. Every
other command becomes a protocol message (:mod:`protocol.control`) delivered through the
routing table to the order_manager, which answers with an :class:`OperatorCommandApplied`
(routed to the observer, handed to :class:`AnswerBox`); the desk waits for that answer on
its own thread, at most :data:`~makerd.control_socket.COMMAND_TIMEOUT_S`, turns it into
the reply and journals the command with its result. ``status`` is not journaled (scripts
poll it).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from makerd.actors.gate import TradingGate
from makerd.config.model import MakerdConfig
from makerd.daemon.control_server import ControlServer
from makerd.daemon.control_socket import COMMAND_TIMEOUT_S, POSITION_LEFT_OPEN
from makerd.daemon.journal_store import said_if_unwritable
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.status_document import RunFacts, coins_document, status_document
from makerd.daemon.status_snapshot import StatusSnapshot
from makerd.protocol.clock import Clock
from makerd.protocol.control import OPERATOR_COMMANDS, OperatorAction, OperatorCommandApplied
from makerd.protocol.risk import TradingState

Answer = dict[str, object]
COMMANDS = ("status", *(action.value for action in OperatorAction))


class AnswerBox:
    """The order_managers' answers (one per coin), matched to the requests waiting for them."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._waiting: set[int] = set()
        self._answers: dict[int, list[OperatorCommandApplied]] = {}
        self._closed = False

    def new_request(self) -> int:
        with self._changed:
            request_id = next(self._ids)
            self._waiting.add(request_id)
            return request_id

    def deliver(self, applied: OperatorCommandApplied) -> None:
        """Called by the observer on whichever thread the answer arrives."""
        with self._changed:
            if applied.request_id in self._waiting:
                self._answers.setdefault(applied.request_id, []).append(applied)
                self._changed.notify_all()

    def wait(
        self, request_id: int, timeout_s: float, *, expected: int = 1
    ) -> tuple[OperatorCommandApplied, ...]:
        """The answers to ``request_id``: ``expected`` of them, or those in by the timeout."""
        with self._changed:
            self._changed.wait_for(
                lambda: len(self._answers.get(request_id, ())) >= expected or self._closed,
                timeout=timeout_s,
            )
            self._waiting.discard(request_id)
            return tuple(self._answers.pop(request_id, ()))

    def close(self) -> None:
        """The run is stopping: nobody waits any longer."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class CommandJournal(Protocol):
    def record_operator_command(
        self, session_id: int, *, ts_ns: int, command: str, ok: bool, detail: str, uid: int
    ) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskParts:
    snapshot: Callable[[], StatusSnapshot]
    config: Callable[[], MakerdConfig]
    send: Callable[[object], None]
    """Delivers a message through the routing table (the router's dispatch)."""
    journal: CommandJournal
    session_id: int
    clock: Clock
    gate: TradingGate
    latch: KillSwitchLatch
    answers: AnswerBox
    coin_snapshots: Callable[[], dict[str, StatusSnapshot]] | None = None
    """Each coin's own snapshot, with several coins (``status`` then details every coin)."""


class ControlDesk:
    def __init__(self, parts: DeskParts) -> None:
        self._parts = parts
        self._started = time.monotonic()

    def handle(self, command: str, uid: int) -> Answer:
        if command == "status":
            return self.status()
        try:
            action = OperatorAction(command)
        except ValueError:
            return {"ok": False, "error": f"unknown command {command!r}; one of {COMMANDS}"}
        answer = self._apply(action)
        parts = self._parts
        ok = answer["ok"] is True
        # What was done is done: a journal that cannot record it must not turn the answer
        # into an error the operator would read as "nothing happened".
        with said_if_unwritable("operator_command"):
            parts.journal.record_operator_command(
                parts.session_id,
                ts_ns=parts.clock.now_ns(),
                command=action.value,
                ok=ok,
                detail=str(answer["message"] if ok else answer["error"]),
                uid=uid,
            )
        return answer

    def status(self) -> Answer:
        parts = self._parts
        facts = RunFacts(
            session_id=parts.session_id,
            pid=os.getpid(),
            uptime_s=time.monotonic() - self._started,
            now_ns=parts.clock.now_ns(),
            stopping=parts.gate.reason if parts.gate.closed else None,
            kill_switch=parts.latch.read(),
        )
        document = status_document(parts.snapshot(), parts.config(), facts)
        if parts.coin_snapshots is not None:
            document.update(coins_document(parts.coin_snapshots(), parts.config(), facts))
        return document

    def _apply(self, action: OperatorAction) -> Answer:
        parts = self._parts
        if parts.gate.closed:
            return _refused(action, f"makerd is stopping ({parts.gate.reason}); nothing was done")
        coins = tuple(spec.coin for spec in parts.config().coin_specs())
        request_id = parts.answers.new_request()
        parts.send(OPERATOR_COMMANDS[action](request_id=request_id, ts_local=parts.clock.now_ns()))
        applied = parts.answers.wait(request_id, COMMAND_TIMEOUT_S, expected=len(coins))
        if len(coins) > 1:
            stopping = parts.gate.reason if parts.gate.closed else None
            return coins_answer(action, applied, coins, stopping=stopping)
        if not applied:
            return _unanswered(action, parts.gate)
        return applied_answer(applied[0])


def coins_answer(
    action: OperatorAction,
    applied: tuple[OperatorCommandApplied, ...],
    coins: tuple[str, ...],
    *,
    stopping: str | None,
) -> Answer:
    """With several coins, every coin's order_manager answers for its own coin.

    The pause is the process's (one pause file): the first coin to act pauses it, so the
    others find it paused already. Whether it *was* paused is the first one's finding.
    ``stopping`` is the reason of a stop that ended the wait before every coin answered.
    """
    was_paused = all(answer.was_paused for answer in applied)
    by_coin = {
        answer.coin: applied_answer(replace(answer, was_paused=was_paused)) for answer in applied
    }
    said = [f"{coin}: {answer['message']}" for coin, answer in by_coin.items()]
    missing = [coin for coin in coins if coin not in by_coin]
    if not missing:
        whole: Answer = {"ok": True, "command": action.value, "coins": by_coin}
        if left := _left_open(applied):
            whole[POSITION_LEFT_OPEN] = left
        return {**whole, "message": "; ".join(said)}
    if stopping is not None:
        # The stop ended the wait: these order_managers were not slow, and each coin says so.
        said += [f"{coin}: {_cut_by_the_stop(stopping)}" for coin in missing]
    else:
        said.append(
            f"no answer from {', '.join(missing)} within {COMMAND_TIMEOUT_S:g} s: "
            "it may or may not have acted, check `makerd ctl status`"
        )
    return {**_failed(action, "; ".join(said)), "coins": by_coin}


def _left_open(applied: Iterable[OperatorCommandApplied]) -> dict[str, str]:
    """The coins a flatten found open and could send no closing order for, and their sizes."""
    return {
        answer.coin: format(answer.position, "f")
        for answer in applied
        if answer.action is OperatorAction.FLATTEN
        and answer.flatten_order is None
        and answer.position != 0
    }


def applied_answer(applied: OperatorCommandApplied) -> Answer:
    """The reply to a command the order_manager acted on: its facts and one sentence."""
    order = applied.flatten_order
    flatten = (
        None
        if order is None
        else {
            "side": order.side.name.lower(),
            "size": format(order.size, "f"),
            "limit_price": format(order.price, "f"),
            "tif": "ioc",
            "reduce_only": order.reduce_only,
        }
    )
    answer: Answer = {
        "ok": True,
        "command": applied.action.value,
        "paused": applied.paused,
        "was_paused": applied.was_paused,
        "cancelled": applied.cancelled,
        "position": format(applied.position, "f"),
        "risk_state": applied.risk_state.value,
    }
    if applied.action is OperatorAction.FLATTEN:
        answer["flatten_order"] = flatten
        if left := _left_open((applied,)):
            # ``makerd ctl`` exits 86 on this key: a script must not read "flattened" here.
            answer[POSITION_LEFT_OPEN] = left
    answer["message"] = _sentence(applied, flatten, applied.coin)
    return answer


def _sentence(applied: OperatorCommandApplied, flatten: Answer | None, coin: str) -> str:
    action = applied.action
    cancels = f"cancels sent for {applied.cancelled} orders"
    if action is OperatorAction.RESUME:
        done = "resumed: quoting again" if applied.was_paused else "was not paused: nothing to do"
        if applied.risk_state is TradingState.HALTED:
            return f"{done}, but the risk guardian has halted trading: nothing is placed"
        return done
    if action is OperatorAction.CANCEL_ALL:
        return f"{cancels}; " + ("still paused" if applied.paused else "quoting continues")
    stays = "paused until `makerd ctl resume`"
    if action is OperatorAction.PAUSE:
        return f"{'already paused' if applied.was_paused else 'paused'}: {cancels}; {stays}"
    if flatten is None and applied.position == 0:
        closing = f"position {applied.position} {coin}: nothing to close"
    elif flatten is None:
        # Open, yet no order could close it: no mark heard since the start, or less than
        # one lot (the lot may have grown since the position was opened).
        closing = (
            f"position {applied.position} {coin} left open: no closing order could be sent "
            "(no mark price heard yet, or less than one lot); makerd sends one once a mark "
            "comes, else close it on the exchange"
        )
    else:
        closing = (
            f"reduce-only IOC {flatten['side']} {flatten['size']} {coin} at limit "
            f"{flatten['limit_price']} sent to close position {applied.position}"
        )
    return f"flattening: {cancels}; {closing}; {stays}"


def _unanswered(action: OperatorAction, gate: TradingGate) -> Answer:
    if gate.closed:
        # The stop closed the gate and ended the wait: the order_manager was not slow.
        return _failed(action, _cut_by_the_stop(gate.reason))
    return _failed(
        action,
        f"the order_manager did not answer within {COMMAND_TIMEOUT_S:g} s (restarting, "
        "or makerd is stopping); it may or may not have acted: check `makerd ctl status`",
    )


def _cut_by_the_stop(reason: str) -> str:
    return (
        f"makerd is stopping ({reason}) before the order_manager answered: "
        "it may or may not have acted; the stop cancels every order"
    )


def _refused(action: OperatorAction, why: str) -> Answer:
    """Not attempted, and saying so (``makerd ctl`` exits 85)."""
    return {**_failed(action, why), "refused": True}


def _failed(action: OperatorAction, why: str) -> Answer:
    return {"ok": False, "command": action.value, "error": why}


def open_control(state_dir: Path, parts: DeskParts) -> ControlServer:
    """The control socket bound and listening (not yet served); ControlSocketError if not."""
    server = ControlServer(state_dir, ControlDesk(parts).handle)
    server.open()
    return server
