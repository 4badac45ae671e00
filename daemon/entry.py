"""The ``makerd`` process's first code: catch the stop and reload signals, then import.

Importing the command line and the daemon takes about a second. A ``makerd run`` that a
SIGHUP (a reload) or a SIGINT reached in that second died of it, or printed a
``KeyboardInterrupt`` traceback; its handlers now only set flags from here on, and the
run acts on them once it is running. Other commands keep the default actions.
"""

from __future__ import annotations

import sys

from makerd.daemon.signals import SignalFlags


def main() -> int:
    signals = SignalFlags()
    # A guess before the command line is parsed; the parse decides (see cli.main).
    if "run" in sys.argv[1:]:
        signals.catch()
    from makerd.daemon.cli import main as cli_main

    return cli_main(signals=signals)
