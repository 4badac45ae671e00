"""``makerd record``: the public market stream of some coins, to hourly gzip files.

It first asks the exchange whether it lists every coin (an unlisted one is exit 78), then
reads ``l2Book`` and ``trades`` for every coin over one WebSocket that reconnects and
resubscribes like the trading feed (the same :class:`ReconnectingSocket`), and writes
each message as received, with its receive time, through the same writer a trading run
records with. docs/recording.md describes the files. SIGTERM or SIGINT (or
``--duration``) stop it cleanly: the open file is finished under its final name, exit 0.
Under systemd it reports READY once it runs and pings the watchdog while its writer lives.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Final

from makerd.daemon import arguments
from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_TEMPFAIL
from makerd.daemon.notify import ServiceNotifier
from makerd.daemon.signals import SignalFlags
from makerd.protocol.instrument import Instrument
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.feed import market_subscriptions
from makerd.venues.hyperliquid.io_loop import IoLoop
from makerd.venues.hyperliquid.meta import UnknownCoinError
from makerd.venues.hyperliquid.recording import FeedRecorder, RecordingWriter
from makerd.venues.hyperliquid.recording_files import (
    HOUR_S,
    HourlyFiles,
    file_label,
    period_problem,
)
from makerd.venues.hyperliquid.recording_rules import save_rules
from makerd.venues.hyperliquid.rest import (
    MAINNET_API_URL,
    VenueRefusedError,
    VenueUnreachableError,
    websocket_url,
)
from makerd.venues.hyperliquid.venue import fetch_instrument
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy

log = logging.getLogger("makerd.record")

MAX_COINS: Final = 20
"""Each is checked against the exchange's ``meta`` at start (weight 20 of 1200 a minute)."""
_START_RETRY_S: Final = 60.0
_POLL_S: Final = 0.5
_STATUS_EVERY_S: Final = 60.0
_START_TIMEOUT_S: Final = 10.0

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
    coins: tuple[str, ...] = args.coin
    flags = SignalFlags()
    flags.install()
    instruments: list[Instrument] = []
    refused = unlisted_coin(args.api_url, coins, flags, listed=instruments)
    if refused is not None:
        code, why = refused
        print(f"makerd record: {why}", file=sys.stderr)
        return code
    save_rules(args.out, instruments)
    files = HourlyFiles(out_dir=args.out, label=file_label(coins), period_s=args.rotate_s)
    session = RecordingSession(
        writer=RecordingWriter(files), url=websocket_url(args.api_url), coins=coins
    )
    return session.run(flags, duration_s=args.duration)


def unlisted_coin(
    api_url: str, coins: tuple[str, ...], flags: SignalFlags, *, listed: list[Instrument]
) -> tuple[int, str] | None:
    """Ask the exchange about each coin first: a coin it does not list would record nothing.

    Each coin's rules are appended to ``listed``, to be saved beside the recording.

    (exit code, why) for a coin the exchange does not list or an answer that cannot be
    read (78), or an exchange that stayed unreachable for ``_START_RETRY_S`` (75).
    """
    for coin in coins:
        try:
            listed.append(
                fetch_instrument(
                    api_url, coin, retry_for_s=_START_RETRY_S, stop_requested=flags.stop
                )
            )
        except VenueUnreachableError as error:
            return EXIT_TEMPFAIL, f"the exchange is unreachable, try again later: {error}"
        except (UnknownCoinError, VenueRefusedError, FeedParseError) as error:
            return EXIT_CONFIG, f"--coin: {error}"
    return None


class RecordingSession:
    """One recorder process: the socket on its I/O thread, the writer on its own."""

    def __init__(self, *, writer: RecordingWriter, url: str, coins: tuple[str, ...]) -> None:
        self._writer = writer
        self._io = IoLoop(name="record-io")
        self._socket = ReconnectingSocket(
            name="market",
            url=url,
            subscriptions=market_subscriptions(coins),
            on_frame=_ignore_frame,
            on_connected=_log_subscribed,
            on_malformed=_ignore_malformed,
            policy=ReconnectPolicy(),
            now_ns=time.time_ns,
            tap=FeedRecorder(writer),
        )
        self._description = f"url={url} coins={','.join(coins)}"

    def run(self, flags: SignalFlags, *, duration_s: float | None) -> int:
        notifier = ServiceNotifier()
        self._writer.start()
        self._io.start()
        try:
            self._io.run(self._spawn(), timeout_s=_START_TIMEOUT_S)
            # Started, not yet subscribed: each subscription is logged when the exchange has
            # taken it (recording_subscribed), and a gap is marked in the file until then.
            log.info("event=recording_started %s", self._description)
            notifier.ready(f"recording {self._description}")
            exit_code = self._wait(flags, notifier, duration_s)
        finally:
            notifier.notify("STOPPING=1")
            self._io.stop()
            self._writer.stop()
        files = self._writer.files
        log.info(
            "event=recording_stopped signal=%s lines=%d dropped=%d files=%d",
            flags.stop_signal or "none",
            files.lines,
            self._writer.dropped,
            len(files.completed),
        )
        return exit_code

    async def _spawn(self) -> None:
        self._io.spawn(self._socket.run(), name="record-market")

    def _wait(self, flags: SignalFlags, notifier: ServiceNotifier, duration_s: float | None) -> int:
        started = last_status = time.monotonic()
        while not flags.stop.wait(_POLL_S):
            now = time.monotonic()
            if not self._writer.alive:
                log.error("event=recording_writer_died error=%r", self._writer.failed)
                return EXIT_FAILURE
            notifier.watchdog()
            if now - last_status >= _STATUS_EVERY_S:
                last_status = now
                self._status()
            if duration_s is not None and now - started >= duration_s:
                break
        return EXIT_OK

    def _status(self) -> None:
        log.info(
            "event=recording_status lines=%d dropped=%d connections=%d open=%s",
            self._writer.files.lines,
            self._writer.dropped,
            self._socket.connections,
            self._writer.files.open_path,
        )


def _ignore_frame(_channel: str, _data: object, _ts_local: int) -> None:
    """The tap records every message; nothing here parses them."""


def _log_subscribed(connection: int) -> None:
    """Gaps are marked by the tap, which hears every connection change; the log says when
    the recording really begins, and that it began again after a reconnect."""
    log.info("event=recording_subscribed connection=%d", connection)


def _ignore_malformed(_reason: str, _ts_local: int) -> None:
    """The socket has counted and logged it; a recording keeps only readable messages."""
