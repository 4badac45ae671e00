"""A backtest: recorded market data through the live state machines and the paper engine.

Time is event-driven: the driver steps straight to the next recorded event, paper-exchange
event or timer tick, so a quiet hour costs nothing and every message is replayed at its
own local receive time. The session lands in the journal as a live run's would. Several
coins are replayed from the same files at once, each against its own paper exchange, by
the machines a live run of those coins builds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path

from makerd.actors.driver import DeterministicDriver
from makerd.config.model import MakerdConfig
from makerd.daemon.backtest import SessionRun, run_session
from makerd.daemon.backtest_latency import ReplayLatency
from makerd.daemon.cloids import coin_of_lane
from makerd.daemon.sessions import UNREADABLE_RECORDING
from makerd.protocol.clock import ManualClock
from makerd.protocol.instrument import Instrument
from makerd.protocol.risk import KillSwitchTripped
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.meta import UnknownCoinError, parse_meta
from makerd.venues.replay.ahead import ReadAhead, Reader, choose_reader
from makerd.venues.replay.basket import ReplayBasket
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.own_orders import OwnOrders, without_own_orders
from makerd.venues.replay.stream import ReplayStream
from makerd.venues.replay.venue import ReplayVenue

PROGRESS_EVERY = 8192
"""Driver steps between two progress callbacks (cheap enough to ignore, often enough to see)."""


class InstrumentRulesError(ValueError):
    """The instrument's tick and lot rules are missing or unusable: a backtest will not guess."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    run: SessionRun
    replayed: dict[str, int]
    """Events replayed by kind (see :attr:`venues.replay.venue.RecordingReplay.replayed`)."""
    replayed_by_coin: dict[str, dict[str, int]]
    """With several coins, each coin's books and trades (empty for one coin)."""
    first_book_ns: dict[str, int]
    """With several coins, each coin's first book's local time (empty for one coin)."""
    first_ns: int
    last_ns: int
    cut_short: tuple[Path, ...]
    """Unfinished (``.part``) recordings that ended mid-write: replayed up to there."""
    books_without_trades: tuple[Path, ...]
    without_data: tuple[Path, ...]
    """Files read to their end without a book or trade of the coins: they added nothing."""
    """Archive book files replayed without trades: their hour has no ``node_trades`` file."""
    stopped_by: str | None
    """The kill switch that ended the replay before the recording's end, as it ends a live
    run (``kill switch: <reason>: <detail>``); None when the whole recording was replayed."""
    read: str
    """Where the files were read, and why (:meth:`ReaderChoice.statement`)."""
    unreadable: RecordingError | None = None
    """The file that turned out unreadable part-way: the replay ended at its bad line."""


class RecordingCutShortError(RecordingError):
    """A recording unreadable part-way (``FILE:LINE: problem``, as the reader's error).

    Everything read before the bad line was replayed and the session ended there, as a
    run that stopped (its ``stopped`` row's reason names the line): :attr:`result` is what
    it did. A report of the session says it was cut short, never that it still runs.
    """

    def __init__(self, error: RecordingError, result: ReplayResult) -> None:
        super().__init__(error.path, error.line, error.problem)
        self.result = result


def instrument_from_meta(path: Path, coin: str) -> Instrument:
    """``coin``'s rules from a saved ``{"type": "meta"}`` response."""
    try:
        instruments = parse_meta(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise InstrumentRulesError(f"--meta {path}: {_reason(error)}") from None
    if coin not in instruments:
        unknown = UnknownCoinError(coin, sorted(instruments))
        raise InstrumentRulesError(f"--meta {path}: {unknown}")
    return instruments[coin]


def instrument_from_steps(coin: str, *, tick: Decimal, lot: Decimal) -> Instrument:
    """Rules from the command line: ``lot`` the size step, ``tick`` the finest price step.

    Hyperliquid's tick also shrinks to five significant figures at high prices; that rule
    applies on top, as it does live.
    """
    sz_decimals = _decimals_of_power_of_ten(lot, "--lot")
    price_decimals = _decimals_of_power_of_ten(tick, "--tick")
    return Instrument(
        coin=coin, asset_id=0, sz_decimals=sz_decimals, max_decimals=sz_decimals + price_decimals
    )


def run_replay(
    config: MakerdConfig,
    paths: Sequence[Path],
    *,
    instrument: Instrument | tuple[Instrument, ...],
    state_dir: Path,
    on_progress: Callable[[float], None] | None = None,
    own: OwnOrders | None = None,
    latency: ReplayLatency | None = None,
    reader: Reader = "auto",
) -> ReplayResult:
    """Replay ``paths`` (merged by local time) for ``instrument``'s coin, or for every coin
    of a tuple of instruments (the config's coins, in its order).

    Raises :class:`RecordingError` for an unreadable file (:class:`RecordingCutShortError`,
    with the ended session, when it was unreadable after its first event) and
    :class:`EmptyRecordingError` when nothing of the coins is in them. ``own``: the
    recording session's own orders and fills, taken out of what is replayed, and whose
    own orders' changes the replay journals (for the queue wait). ``latency``: order
    latencies drawn from a session's measured ones (default: the config's constants).
    ``reader``: where the files are read (:func:`venues.replay.ahead.choose_reader`); the
    result is the same either way, but for :attr:`ReplayResult.read`, which says where.
    """
    instruments = instrument if isinstance(instrument, tuple) else (instrument,)
    coins = tuple(one.coin for one in instruments)
    files = ReplayStream(paths, coin=coins[0] if len(coins) == 1 else frozenset(coins))
    choice = choose_reader(reader, input_bytes=files.input_bytes)
    stream = ReadAhead(files) if choice.ahead else files
    try:
        result = _replay(
            config,
            stream,
            instruments=instruments,
            state_dir=state_dir,
            on_progress=on_progress,
            own=own,
            latency=latency,
            read=choice.statement(),
        )
    finally:
        if isinstance(stream, ReadAhead):
            stream.close()
    if result.unreadable is not None:
        raise RecordingCutShortError(result.unreadable, result)
    return result


def _replay(
    config: MakerdConfig,
    stream: ReplayStream | ReadAhead,
    *,
    instruments: tuple[Instrument, ...],
    state_dir: Path,
    on_progress: Callable[[float], None] | None,
    own: OwnOrders | None,
    latency: ReplayLatency | None,
    read: str,
) -> ReplayResult:
    coins = tuple(one.coin for one in instruments)
    events = iter(stream) if own is None else without_own_orders(iter(stream), own)
    model = None if latency is None else latency.model
    venue: ReplayVenue | ReplayBasket
    if len(coins) == 1:
        one = None if model is None else model(coins[0])
        venue = ReplayVenue(events, instruments[0], config.paper, latency=one)
    else:
        coin_of_cloid = partial(coin_of_lane, coins)
        venue = ReplayBasket(
            events, instruments, config.paper, coin_of_cloid=coin_of_cloid, latency=model
        )
    clock = ManualClock(venue.first_ns)
    kill_switch = _KillSwitch()

    def drive(driver: DeterministicDriver) -> str | None:
        steps = 0
        # A live run stops at its kill switch: replaying on would add halted time to the
        # sample (a recording with a day missing in it, a day of halted bot).
        while not venue.exhausted and kill_switch.tripped is None:
            due = venue.next_event_ns()
            driver.step_to(driver.next_timer_ns if due is None else min(due, driver.next_timer_ns))
            steps += 1
            if on_progress is not None and steps % PROGRESS_EVERY == 0:
                on_progress(stream.progress)
        # Answers to the last commands still arrive; nothing new is recorded after this.
        driver.step_to(driver.clock.now_ns() + venue.exchange.longest_latency_ns)
        if kill_switch.tripped is None and venue.unreadable is not None:
            return f"{UNREADABLE_RECORDING}{venue.unreadable}"
        return kill_switch.tripped

    run = run_session(
        config,
        instruments=instruments,
        venue=venue,
        clock=clock,
        state_dir=state_dir,
        drive=drive,
        end_reason="end of recording",
        watch=kill_switch,
        latency_statement=None if latency is None else latency.statement,
        keep_own_orders=own is not None,
        persist_risk=False,
        coins_join_with_data=True,
    )
    if on_progress is not None:
        on_progress(1.0)
    return ReplayResult(
        run=run,
        replayed=dict(venue.replayed),
        replayed_by_coin=(
            {coin: dict(counts) for coin, counts in venue.replayed_by_coin.items()}
            if isinstance(venue, ReplayBasket)
            else {}
        ),
        first_book_ns=dict(venue.first_book_ns) if isinstance(venue, ReplayBasket) else {},
        first_ns=venue.first_ns,
        last_ns=venue.last_ns,
        cut_short=tuple(stream.cut_short),
        books_without_trades=stream.books_without_trades,
        without_data=stream.without_data,
        stopped_by=kill_switch.tripped,
        unreadable=venue.unreadable,
        read=read,
    )


class _KillSwitch:
    """Hears the kill switch trip."""

    watched = frozenset({KillSwitchTripped})
    """All it hears: the driver spares it every other message."""

    def __init__(self) -> None:
        self.tripped: str | None = None

    def __call__(self, message: object) -> None:
        if isinstance(message, KillSwitchTripped) and self.tripped is None:
            self.tripped = f"kill switch: {message.reason.value}: {message.detail}"


def _decimals_of_power_of_ten(step: Decimal, flag: str) -> int:
    if step <= 0 or step > 1 or step.normalize() != Decimal(1).scaleb(step.normalize().adjusted()):
        raise InstrumentRulesError(f"{flag} {step}: expected a power of ten up to 1 (0.01, 1)")
    return -step.normalize().adjusted()


def _reason(error: Exception) -> str:
    if isinstance(error, FeedParseError):
        return f"not a meta response ({error.detail})"
    if isinstance(error, OSError):
        return f"cannot read ({error.strerror or error})"
    return f"not JSON ({error})"
