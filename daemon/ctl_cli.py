"""``makerd ctl`` (talk to a running makerd) and ``makerd kill-switch`` (read or clear the
latch of a stopped one), as subcommands of :mod:`makerd.cli`.

``makerd clear-kill-switch`` stays as an alias of ``makerd kill-switch clear``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from makerd.config.errors import ConfigError
from makerd.config.loader import load_config
from makerd.daemon import arguments
from makerd.daemon.control_socket import POSITION_LEFT_OPEN, SOCKET_NAME
from makerd.daemon.exit_codes import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_POSITION_LEFT,
    EXIT_REFUSED,
)
from makerd.daemon.latch import KillSwitchLatch, LatchChangedError

if TYPE_CHECKING:
    from makerd.daemon.journal import Journal

CTL_COMMANDS = ("status", "pause", "resume", "flatten", "cancel-all")
CTL_DESCRIPTION = f"""\
Talk to the makerd running on a state directory, over its control socket
(STATE_DIR/{SOCKET_NAME}, mode 0600, answered only for makerd's own user). Prints
makerd's answer as JSON.

  status      mode, coin, trading state (normal, paused, reduce_only, halted), open
              orders (makerd's and the venue's last report), position, PnL, fees, risk
              state and limits, kill switch, uptime, restarts
  pause       cancel every order; place none until resume (the quoter keeps computing)
  resume      lift a pause (risk limits still apply)
  flatten     pause, cancel every order and close the position with reduce-only IOC
              orders; stays paused until resume
  cancel-all  cancel every order once; quoting continues

Every command but status is journaled with its result (makerd report shows them).
"""
CTL_EPILOG = """\
exit codes:
  0   makerd did it (the JSON answer says what)
  1   makerd could not do it or did not answer in time (the answer or message says why)
  78  invalid command line or configuration
  84  no makerd is running on this state directory
  85  refused: the socket file is not a socket, not yours, or reachable by other users;
      or makerd refused this user (only makerd's own uid may use the channel)
  86  flatten: a position is open and no closing order could be sent for it (no mark
      heard yet, or less than one lot); it is printed: position left open: COIN SIZE
"""
KILL_SWITCH_DESCRIPTION = """\
status: whether the kill switch is latched, why and since when.
clear:  remove the latch so `makerd run` may trade again (after you have looked why it
        tripped); journaled in kill_switch_events with action 'clear' before the
        latch is removed: a clear the journal cannot record is refused (exit 1) and
        the latch stays. Of two clears at once, one clears; the other finds the latch
        already cleared (exit 0, no second row).
"""


def add_commands(commands: argparse._SubParsersAction[arguments.UsageErrorParser]) -> None:
    """Add ``ctl``, ``kill-switch`` and ``clear-kill-switch`` to the subcommand parsers."""
    ctl = commands.add_parser(
        "ctl",
        help="control a running makerd: status, pause, resume, flatten, cancel-all",
        description=CTL_DESCRIPTION,
        epilog=CTL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ctl.add_argument("what", choices=CTL_COMMANDS, metavar="COMMAND", help=", ".join(CTL_COMMANDS))
    _state_dir_options(ctl)
    ctl.add_argument(
        "--timeout",
        type=arguments.duration_seconds,
        default=10.0,
        metavar="SECONDS",
        help="give up waiting for makerd's answer after this long (default: 10)",
    )
    ctl.set_defaults(handler=_ctl)

    switch = commands.add_parser(
        "kill-switch",
        help="show or clear the kill-switch latch",
        description=KILL_SWITCH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    switch.add_argument("what", choices=("status", "clear"), metavar="ACTION", help="status, clear")
    _state_dir_options(switch)
    switch.set_defaults(handler=_kill_switch)

    alias = commands.add_parser("clear-kill-switch", help="same as: kill-switch clear")
    _state_dir_options(alias)
    alias.set_defaults(handler=_kill_switch, what="clear")


def _state_dir_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=arguments.path_argument,
        help="makerd's state directory (default: the config's state_dir, ./var by default)",
    )
    parser.add_argument(
        "--config",
        type=arguments.path_argument,
        help="read state_dir from this config (when --state-dir is not given)",
    )


def _state_dir(args: argparse.Namespace) -> Path | int:
    """The state directory the command names, or the exit code of why it cannot be used."""
    state_dir = args.state_dir
    if state_dir is None:
        try:
            state_dir = load_config(args.config).state_dir
        except ConfigError as error:
            print(f"makerd: invalid configuration\n{error}", file=sys.stderr)
            return EXIT_CONFIG
    unusable = arguments.state_dir_problem(Path(state_dir))
    if unusable:
        print(f"makerd: state directory {state_dir} {unusable}", file=sys.stderr)
        return EXIT_CONFIG
    return Path(state_dir)


def _ctl(args: argparse.Namespace) -> int:
    from makerd.daemon.control_client import ControlClientError, request

    state_dir = _state_dir(args)
    if isinstance(state_dir, int):
        return state_dir
    try:
        answer = request(state_dir, args.what, timeout_s=args.timeout)
    except ControlClientError as error:
        print(f"makerd: {error}", file=sys.stderr)
        return error.exit_code
    print(json.dumps(answer, indent=2))
    if answer.get("ok") is True:
        return _done(answer)
    error_text = str(answer.get("error", "makerd gave no reason"))
    print(f"makerd: {error_text}", file=sys.stderr)
    return EXIT_REFUSED if answer.get("refused") is True else EXIT_FAILURE


def _done(answer: dict[str, object]) -> int:
    """0, unless a flatten left a position it could send no closing order for (86)."""
    left = answer.get(POSITION_LEFT_OPEN)
    if not isinstance(left, dict) or not left:
        return EXIT_OK
    positions = ", ".join(f"{coin} {size}" for coin, size in left.items())
    print(
        f"makerd: position left open: {positions} (no closing order could be sent): "
        "makerd sends one once it hears a mark, else close it on the exchange",
        file=sys.stderr,
    )
    return EXIT_POSITION_LEFT


def _kill_switch(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    if isinstance(state_dir, int):
        return state_dir
    latch = KillSwitchLatch(state_dir)
    where = state_dir.resolve()
    if args.what == "status":
        latched = latch.read()
        if latched is None:
            print(f"makerd: kill switch not latched in {where}")
        else:
            print(
                f"makerd: kill switch LATCHED in {where} since {_utc(latched.tripped_at_ns)} "
                f"(reason={latched.reason}: {latched.detail}); clear it with: "
                f"makerd kill-switch clear --state-dir {state_dir}"
            )
        return EXIT_OK
    return _clear(latch, where)


def _clear(latch: KillSwitchLatch, where: Path) -> int:
    from makerd.daemon.hardening import PRIVATE_UMASK
    from makerd.daemon.journal import Journal, JournalError

    if latch.read() is None:
        print(f"makerd: no kill switch latched in {where}")
        return EXIT_OK
    os.umask(PRIVATE_UMASK)  # a journal created here is as private as makerd run's
    try:
        journal = Journal(where / "journal.sqlite")
    except (JournalError, OSError, sqlite3.Error) as error:
        print(
            f"makerd: not cleared: cannot open the journal to record it: {error}", file=sys.stderr
        )
        return EXIT_FAILURE
    with journal, contextlib.ExitStack() as held:
        try:
            held.enter_context(latch.one_clear_at_a_time())
        except OSError as error:
            print(f"makerd: not cleared: cannot take the clear's lock: {error}", file=sys.stderr)
            return EXIT_FAILURE
        return _record_then_clear(latch, journal, where)


def _record_then_clear(latch: KillSwitchLatch, journal: Journal, where: Path) -> int:
    """The record first, the removal second: a clear that leaves no trace must not happen,
    and when the journal refuses the record the latch is what still keeps the stopped bot
    from trading (fail closed: fix the disk, then clear). The other order, removing and
    then saying loudly that the record failed, would leave a bot free to trade with
    nothing in its journal to say who let it, or when. Called holding the clear's lock:
    two clears that both read the latch before either removed it would both record."""
    latched = latch.read()
    if latched is None:
        print(f"makerd: no kill switch latched in {where}: already cleared by another clear")
        return EXIT_OK
    unremovable = _unremovable(latch.path)
    if unremovable:
        print(f"makerd: not cleared: cannot remove {latch.path}: {unremovable}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        journal.record_kill_switch(
            ts_ns=time.time_ns(),
            action="clear",
            reason=latched.reason,
            detail=f"cleared by uid {os.geteuid()} with makerd kill-switch clear "
            f"(tripped {_utc(latched.tripped_at_ns)}: {latched.detail})",
        )
    except (sqlite3.Error, OSError) as error:
        print(
            f"makerd: not cleared: cannot record the clear in the journal: {error}; "
            f"the kill switch stays latched in {where}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    try:
        latch.clear(recorded=latched)
    except LatchChangedError as error:
        now = "unreadable" if error.now is None else f"reason={error.now.reason}"
        print(
            f"makerd: not cleared: the kill switch tripped again while it was being cleared "
            f"({now}); the journal's clear row is for the earlier trip, this one stays "
            f"latched in {where}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except OSError as error:
        print(
            f"makerd: not cleared: cannot remove {latch.path}: {error.strerror} (the journal's "
            "clear row just written stands for a clear that did not happen)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    print(
        f"makerd: cleared kill switch (reason={latched.reason}: {latched.detail}) in {where}; "
        "journaled in kill_switch_events"
    )
    return EXIT_OK


def _unremovable(path: Path) -> str:
    """Why ``path`` cannot be unlinked, when that is plain before trying ('' if not)."""
    if path.is_dir() and not path.is_symlink():
        return "it is a directory"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return "its directory is not writable"
    return ""


def _utc(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
