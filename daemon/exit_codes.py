"""Process exit codes, chosen so service managers can tell "restart me" from "stay down".

systemd's unit lists the stay-down codes in RestartPreventExitStatus; codes avoid 64–77
(BSD sysexits other than EX_TEMPFAIL and EX_CONFIG) and 200–255 (systemd's own).
84 and 85 are only ever the exit codes of ``makerd ctl``, never of ``makerd run``.
"""

EXIT_OK = 0
"""Clean stop: a signal was handled, orders cancelled, journal flushed."""

EXIT_FAILURE = 1
"""Unexpected error, or a start step that failed once the session had begun (see
daemon/run_start.py); the service manager should restart."""

EXIT_HUNG = 70
"""An actor stayed unresponsive after one replacement (EX_SOFTWARE); restart wanted."""

EXIT_TEMPFAIL = 75
"""The venue was unreachable, slow, rate limiting or failing at start for longer than
``hyperliquid.start_retry_s`` (EX_TEMPFAIL); a restart later may well succeed."""

EXIT_CONFIG = 78
"""Invalid configuration or command line (EX_CONFIG); restarting cannot help."""

EXIT_KILL_SWITCH = 80
"""The kill switch tripped, or was already latched at start; an operator must clear it."""

EXIT_GAVE_UP = 81
"""The supervisor exceeded its restart intensity; the kill switch is latched too."""

EXIT_ORDERS_LEFT = 82
"""The stop could not get the venue to confirm that no order is left open. The last count
is printed, and the exchange's dead-man switch is left armed to cancel them; a restart
cancels whatever is still there before quoting again."""

EXIT_LOCKED = 83
"""Another makerd holds the state directory's lock; this one never started trading."""

EXIT_NOT_RUNNING = 84
"""``makerd ctl``: no makerd answers on this state directory's control socket (none is
running, or it is still starting)."""

EXIT_REFUSED = 85
"""``makerd ctl``: the control channel was refused, by this client (a socket file that is
not a socket, not this user's, or reachable by other users) or by makerd (another uid)."""

EXIT_POSITION_LEFT = 86
"""A stop that flattens (``risk.flatten_on_stop``) ended with a position still open at the
venue: each coin and size is printed ("position left open: BTC -0.004"), logged and written
to the journal's stop row. Close it on the exchange. A kill switch that flattened keeps its
own code (80); orders left open keep theirs (82). ``makerd ctl flatten`` exits 86 too when
it could send no closing order for an open position (no mark heard yet, or under a lot)."""

CTL_ONLY_CODES = (EXIT_NOT_RUNNING, EXIT_REFUSED)
"""Exit codes of the ``makerd ctl`` client alone; a service manager never sees them."""

STAY_DOWN_CODES = (EXIT_CONFIG, EXIT_KILL_SWITCH, EXIT_GAVE_UP)
