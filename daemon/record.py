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
import sys
import time
from typing import Final

from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_TEMPFAIL
from makerd.daemon.notify import ServiceNotifier
from makerd.daemon.signals import SignalFlags
from makerd.protocol.instrument import Instrument
from makerd.venues.hyperliquid.endpoints import websocket_url
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.feed import market_subscriptions
from makerd.venues.hyperliquid.io_loop import IoLoop
from makerd.venues.hyperliquid.meta import UnknownCoinError
from makerd.venues.hyperliquid.meta_fetch import fetch_listings
from makerd.venues.hyperliquid.recording import FeedRecorder, RecordingWriter
from makerd.venues.hyperliquid.recording_files import (
    HourlyFiles,
    file_label,
)
from makerd.venues.hyperliquid.recording_rules import save_rules
from makerd.venues.hyperliquid.rest import VenueRefusedError, VenueUnreachableError
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy

log = logging.getLogger("makerd.record")

_START_RETRY_S: Final = 60.0
_POLL_S: Final = 0.5
_STATUS_EVERY_S: Final = 60.0
_START_TIMEOUT_S: Final = 10.0


def record_market(args: argparse.Namespace) -> int:
    """``makerd record`` once its arguments and its --out directory are good."""
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
    try:
        listings = fetch_listings(
            api_url, coins, retry_for_s=_START_RETRY_S, stop_requested=flags.stop
        )
    except VenueUnreachableError as error:
        return EXIT_TEMPFAIL, f"the exchange is unreachable, try again later: {error}"
    except (UnknownCoinError, VenueRefusedError, FeedParseError) as error:
        return EXIT_CONFIG, f"--coin: {error}"
    listed.extend(listing.instrument for listing in listings)
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
        if exit_code == EXIT_OK and self._writer.failed is not None:
            # It failed while finishing (a full disk at the stop): the open file is left
            # unfinished, and a clean exit would say it was not.
            exit_code = EXIT_FAILURE
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
