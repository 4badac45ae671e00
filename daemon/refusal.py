"""Refusing to start: the reason goes to the operator's terminal and to systemd's status line.

Under systemd an exit code alone says little (``status=78/CONFIG``, ``75/TEMPFAIL``): the
unit's status line (``systemctl status makerd``) should say why, as it does for a start that
fails once the actors are being built. Every refusal before an actor runs goes through
:func:`refuse`, so none is said on stderr and kept from the service manager.
"""

from __future__ import annotations

from makerd.daemon.logs import say_error
from makerd.daemon.notify import ServiceNotifier

PROGRAM_PREFIX = "makerd: "


def refuse(code: int, message: str, notifier: ServiceNotifier | None = None) -> int:
    """Say ``message`` on stderr, tell systemd it is stopping and why, and return ``code``.

    ``notifier``: the run's own (default: one made here, for refusals before a run exists).
    Without ``$NOTIFY_SOCKET`` (by hand, launchd, a terminal) only stderr hears it.
    """
    say_error(message)
    (notifier or ServiceNotifier()).start_failed(status_line(message))
    return code


def status_line(message: str) -> str:
    """``message`` on the one line a status shows, without the program's name: its first
    line, then the others (one problem each) after a colon, separated by semicolons."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "refused to start"
    first, rest = lines[0].removeprefix(PROGRAM_PREFIX), lines[1:]
    return first if not rest else f"{first}: {'; '.join(rest)}"
