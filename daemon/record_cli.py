"""``makerd record``'s command line: its arguments and their checks, before anything runs.

Light on purpose: every makerd command builds every command's parser, so nothing here may
import the recorder itself (the WebSocket, aiohttp); :func:`run_record` does, once the
arguments are good.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Final

from makerd.daemon import arguments
from makerd.daemon.exit_codes import EXIT_CONFIG
from makerd.venues.hyperliquid.endpoints import MAINNET_API_URL
from makerd.venues.hyperliquid.recording_files import HOUR_S, period_problem

MAX_COINS: Final = 20
"""Each is checked against the exchange's ``meta`` at start (weight 20 of 1200 a minute)."""

DESCRIPTION = """\
Record the public market stream (l2Book and trades) of one or more coins to hourly
gzip files in DIR, one line per WebSocket message: "<receive time, ns> <raw JSON>".
Files are named <COIN>_<YYYYMMDD>_<HH>.gz (UTC; "all" instead of the coin when several
are recorded); the open hour is <name>.part until it is complete. Reconnections are
marked in the file with a "makerdGap" line. See docs/recording.md."""


def add_command(commands: argparse._SubParsersAction[arguments.UsageErrorParser]) -> None:
    record = commands.add_parser(
        "record",
        help="record the public market stream to hourly gzip files",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    record.add_argument(
        "--coin", type=coin_list, required=True, metavar="COIN[,COIN...]", help="e.g. BTC,ETH"
    )
    record.add_argument(
        "--out",
        type=arguments.path_argument,
        required=True,
        metavar="DIR",
        help="directory for the hourly .gz files (created if missing)",
    )
    record.add_argument(
        "--duration",
        type=arguments.duration_seconds,
        metavar="SECONDS",
        help="stop after this long (default: until SIGTERM or SIGINT)",
    )
    record.add_argument(
        "--api-url",
        type=arguments.api_url,
        default=MAINNET_API_URL,
        help=f"the exchange to record (default: {MAINNET_API_URL})",
    )
    record.add_argument(
        "--rotate-s",
        type=rotation_period,
        default=HOUR_S,
        metavar="SECONDS",
        help="start a new file this often (default 3600; must divide 3600)",
    )
    record.set_defaults(handler=run_record)


def coin_list(text: str) -> tuple[str, ...]:
    """``BTC`` or ``BTC,ETH``: each a valid coin name, no repeats, at most MAX_COINS."""
    coins = tuple(text.split(","))
    for coin in coins:
        arguments.coin(coin)
    if len(set(coins)) != len(coins):
        raise argparse.ArgumentTypeError(f"a coin is named twice in {text!r}")
    if len(coins) > MAX_COINS:
        raise argparse.ArgumentTypeError(f"at most {MAX_COINS} coins, got {len(coins)}")
    return coins


def rotation_period(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {text!r}") from None
    problem = period_problem(seconds)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return seconds


def out_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot hold recordings, or None (it is created when missing)."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def run_record(args: argparse.Namespace) -> int:
    problem = out_dir_problem(args.out)
    if problem:
        print(f"makerd record: --out: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    # The recorder (aiohttp, the socket, the writer) is imported only to record.
    from makerd.daemon.record import record_market

    return record_market(args)
