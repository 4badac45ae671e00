"""makerd: a market-making daemon for Hyperliquid perpetuals.

The one import package the distribution installs. Its sub-packages are the repository's
top-level folders, bottom to top: ``protocol`` and ``config`` (messages and settings),
``quoting`` (the models) and ``venues`` (sim, paper, Hyperliquid, the local venue),
``supervision`` with ``supervisor`` (the restart tree), ``actors`` (the state machines
and their routing), and ``daemon`` (the command line, wiring, journal, operations).
In the repository each is a symbolic link to its folder; an installed copy holds real
files.
"""
