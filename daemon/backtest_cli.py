"""``makerd backtest FILE...``: replay recordings and print what the strategy would have done.

Several coins (``coins:`` in the config, or ``--coin BTC,ETH``) are replayed together from
the same files, and the summary is the account's and each coin's, as a live run's stop
prints it.

Arguments, the config and the instrument's rules are all checked before anything is
read or written (exit 78), and so are the files' existence and kind. A recording that
turns out unreadable part-way ends the run with ``FILE:LINE: problem`` (exit 1), never a
traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from makerd.config.coins import COIN_SEPARATOR
from makerd.config.errors import ConfigError
from makerd.config.loader import load_config
from makerd.config.model import MakerdConfig, PaperConfig
from makerd.daemon import arguments
from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK
from makerd.daemon.sessions import report_dir_problem
from makerd.protocol.instrument import Instrument

if TYPE_CHECKING:
    from makerd.daemon.backtest_latency import ReplayLatency
    from makerd.daemon.replay import ReplayResult
    from makerd.venues.replay.ahead import Reader

NS_PER_S = 1_000_000_000
_PROGRESS_INTERVAL_S = 0.5


def add_command(commands: argparse._SubParsersAction[arguments.UsageErrorParser]) -> None:
    """Add ``backtest`` to the subcommand parsers."""
    backtest = commands.add_parser(
        "backtest",
        help="replay recorded market data through the strategy against paper matching",
        description="Replay recordings (the recorder's .gz files, or Hyperliquid archive "
        "market_data/<day>/<hour>/l2Book/<COIN>.lz4 with node_trades beside it) through the "
        "same state machines that trade live. Tick and lot come from --meta, --tick/--lot, or "
        "the instruments.json the recorder saved beside the files.",
    )
    backtest.add_argument(
        "files",
        type=arguments.path_argument,
        nargs="+",
        metavar="FILE",
        help="recordings: the recorder's .gz files or the public archive's l2Book .lz4 files",
    )
    backtest.add_argument(
        "--config",
        type=arguments.path_argument,
        help="YAML config (default: the packaged sim.yaml)",
    )
    backtest.add_argument(
        "--coin",
        type=arguments.coins,
        help="the coin, or several: BTC,ETH (overrides the config's coin or coins)",
    )
    backtest.add_argument(
        "--state-dir",
        type=arguments.path_argument,
        help="where the journal of the session is written (default: a new temporary directory)",
    )
    backtest.add_argument(
        "--meta", type=arguments.path_argument, help='a saved /info {"type": "meta"} response'
    )
    backtest.add_argument("--tick", type=_step, help="finest price step, a power of ten (1, 0.1)")
    backtest.add_argument("--lot", type=_step, help="size step, a power of ten (0.00001)")
    backtest.add_argument(
        "--latency-from",
        metavar="JOURNAL[:SESSION]",
        help="draw order latencies from the acknowledgement latencies a live or paper session"
        " measured (default session: the journal's latest that measured any), instead of"
        " paper.order_entry_latency_ms and paper.ack_latency_ms",
    )
    backtest.add_argument(
        "--seed",
        type=arguments.seed,
        metavar="N",
        help="seed the --latency-from draws with N (default: 0); the same files, config,"
        " journal and seed give the same fills",
    )
    backtest.add_argument(
        "--report-dir",
        type=arguments.path_argument,
        help="also write the session's summary.json, fills.csv, equity.csv and report.html"
        " (with plots), as makerd report --report-dir does (docs/report.md)",
    )
    backtest.add_argument(
        "--reader",
        choices=("auto", "process", "inline"),
        default="auto",
        help="read the files in a second process ahead of the replay, or in the replay's own;"
        " auto (default): a second process when a core is idle and the input is 1 MB or"
        " more. Results are the same; the run says which it used",
    )
    backtest.set_defaults(handler=run_backtest)


def run_backtest(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every makerd command builds this command's parser.
    from makerd.daemon.backtest_latency import LatencySourceError
    from makerd.daemon.backtest_rules import replay_instruments
    from makerd.daemon.basket_wiring import size_problems
    from makerd.daemon.replay import InstrumentRulesError

    try:
        config = _config(args)
        coins = tuple(spec.coin for spec in config.coin_specs())
        instruments = replay_instruments(
            args.files, coins, meta=args.meta, tick=args.tick, lot=args.lot
        )
        latency = _latency(args, config.paper)
    except ConfigError as error:
        print(f"makerd: invalid configuration\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    except (InstrumentRulesError, LatencySourceError) as error:
        print(f"makerd: backtest: {error}", file=sys.stderr)
        return EXIT_CONFIG
    too_small = size_problems(config, instruments)
    if too_small:
        print("makerd: invalid configuration\n" + "\n".join(too_small), file=sys.stderr)
        return EXIT_CONFIG
    refused = _data_problem(args.files, coins)
    if refused is not None:
        return refused
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="makerd-backtest-"))
    unusable = _output_problem(state_dir, args.report_dir)
    if unusable:
        print(f"makerd: {unusable}", file=sys.stderr)
        return EXIT_CONFIG
    state_dir.mkdir(parents=True, exist_ok=True)
    return _replay(
        config,
        args.files,
        instruments,
        state_dir,
        args.report_dir,
        latency=latency,
        reader=args.reader,
    )


def _latency(args: argparse.Namespace, paper: PaperConfig) -> ReplayLatency | None:
    """The measured latencies of ``--latency-from``, drawn with ``--seed``; None: the config's."""
    from makerd.daemon.backtest_latency import LATENCY_SEED, LatencySourceError, latency_from

    if args.latency_from is None:
        if args.seed is not None:
            raise LatencySourceError(
                "--seed seeds the draws of --latency-from; without it the latencies are the "
                "config's constants and nothing is drawn"
            )
        return None
    seed = LATENCY_SEED if args.seed is None else args.seed
    return latency_from(args.latency_from, paper, seed=seed)


def _output_problem(state_dir: Path, report_dir: Path | None) -> str | None:
    unusable = arguments.state_dir_problem(state_dir)
    if unusable:
        return f"--state-dir {state_dir} {unusable}"
    unwritable = report_dir is not None and report_dir_problem(report_dir)
    if unwritable:
        return f"--report-dir {report_dir} {unwritable}"
    return None


def _write_report(state_dir: Path, session_id: int, report_dir: Path) -> int:
    from makerd.daemon.report_files import write_session_report  # matplotlib: only if needed

    try:
        for path in write_session_report(state_dir, session_id, report_dir):
            print(f"wrote {path}")
    except OSError as error:
        print(f"makerd: cannot write the report into {report_dir}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _replay(
    config: MakerdConfig,
    files: list[Path],
    instruments: tuple[Instrument, ...],
    state_dir: Path,
    report_dir: Path | None,
    *,
    latency: ReplayLatency | None,
    reader: Reader,
) -> int:
    from makerd.daemon.replay import RecordingCutShortError, run_replay
    from makerd.venues.replay.errors import RecordingError

    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = run_replay(
            config,
            files,
            instrument=instruments,
            state_dir=state_dir,
            on_progress=progress,
            latency=latency,
            reader=reader,
        )
    except RecordingError as error:
        if progress is not None:
            print(file=sys.stderr)  # end the progress line
        print(f"makerd: backtest: {error}", file=sys.stderr)
        if not isinstance(error, RecordingCutShortError):
            return EXIT_FAILURE
        # The session was replayed up to the bad line and ended there: show what it did,
        # and write its files (each says where it was cut); the exit stays a failure.
        _print_result(error.result, config, state_dir, latency)
        if report_dir is not None:
            _write_report(state_dir, error.result.run.session_id, report_dir)
        return EXIT_FAILURE
    _print_result(result, config, state_dir, latency)
    if report_dir is None:
        return EXIT_OK
    return _write_report(state_dir, result.run.session_id, report_dir)


def _print_result(
    result: ReplayResult, config: MakerdConfig, state_dir: Path, latency: ReplayLatency | None
) -> None:
    from makerd.daemon.report import format_summary
    from makerd.venues.replay.archive import trades_path

    coins = tuple(result.run.tracked_positions)
    replayed = result.replayed
    paper = config.paper
    seconds = (result.last_ns - result.first_ns) / NS_PER_S
    journal = state_dir / "journal.sqlite"
    label = COIN_SEPARATOR.join(coins)
    print(f"session {result.run.session_id} (backtest, {label}) in {journal}")
    print(
        f"replayed {seconds:.1f} s: {_market_counts(replayed)}, "
        f"{replayed.get('dropped', 0)} dropped, {replayed.get('gaps', 0)} gaps"
    )
    if replayed.get("late"):
        # A recorder whose wall clock stepped back: said, as the sample's clock did not.
        print(f"{replayed['late']} lines stamped before a line already replayed (replayed at once)")
    width = max(len(coin) for coin in coins)
    for coin, counts in result.replayed_by_coin.items():
        late_ns = result.first_book_ns.get(coin, result.first_ns) - result.first_ns
        # A coin whose data begins late is quoted from its first book on: say when.
        late = f"; its first book {late_ns / NS_PER_S:.1f} s in" if late_ns >= NS_PER_S else ""
        print(f"  {coin:<{width}}  {_market_counts(counts)}{late}")
    if result.stopped_by is not None:
        print(
            f"stopped by the {result.stopped_by}, as a live run stops: "
            "the rest of the recording was not replayed"
        )
    for path in result.books_without_trades:
        print(
            f"{path}: no trades file for its hour ({trades_path(path)}[.lz4]): "
            "its books were replayed without trades"
        )
    for path in result.cut_short:
        print(f"{path}: unfinished recording, replayed up to where its stream was cut short")
    for path in result.without_data:
        # Said, not refused: the coins' figures do not depend on it (a missing coin's do).
        nothing = f"no book or trade of {' or '.join(coins)} in it"
        print(f"{path}: {nothing}: it added nothing to the replay")
    if result.unreadable is not None:
        error = result.unreadable
        # Line 0: the reading process failed, not at a line of the file it names.
        where = f"{error.path}:{error.line}" if error.line else f"{error.path} ({error.problem})"
        print(
            f"cut short at {where}: the rest of the recording was not replayed "
            "(the figures below end there)"
        )
    orders = (
        f"order entry {paper.order_entry_latency_ms} ms, ack {paper.ack_latency_ms} ms"
        if latency is None
        else latency.statement
    )
    print(
        f"fill model: paper matching, queue {paper.queue_model.value}; {orders}, feed latency "
        f"as recorded; fees maker {paper.maker_fee_rate}, taker {paper.taker_fee_rate}; "
        "funding not simulated (left out of the PnL)"
    )
    print(result.read)
    print(format_summary(result.run.summary, mode="backtest"))
    if len(coins) > 1:
        print(_coin_lines(journal, result.run.session_id, coins))


def _market_counts(replayed: dict[str, int]) -> str:
    return (
        f"{replayed.get('books', 0)} books, {replayed.get('trades', 0)} trades "
        f"(+{replayed.get('trades_before_first_book', 0)} from before the first book, "
        f"+{replayed.get('trades_seen_before', 0)} sent again on a resubscription, not matched)"
    )


def _coin_lines(path: Path, session_id: int, coins: tuple[str, ...]) -> str:
    """Each coin's own line, as a live run of several coins prints it at its stop."""
    from makerd.daemon.coin_report import coin_lines
    from makerd.daemon.journal import Journal

    journal = Journal(path)
    try:
        return coin_lines(journal, session_id, coins)
    finally:
        journal.close()


class _Progress:
    """``backtest: 42%`` rewritten in place on a terminal, at most twice a second."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._shown_at = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._shown_at < _PROGRESS_INTERVAL_S:
            return
        self._shown_at = now
        end = "\n" if fraction >= 1.0 else ""
        print(f"\rbacktest: {fraction:4.0%}", end=end, file=self._out, flush=True)


def _config(args: argparse.Namespace) -> MakerdConfig:
    config = load_config(args.config)
    if args.coin is not None:
        overrides = arguments.coin_overrides(config, args.coin)
        config = dataclasses.replace(config, **overrides)  # type: ignore[arg-type]
    return config


def _files_problem(files: list[Path], coin: str) -> str | None:
    """Why the files cannot be replayed, found without reading them (missing, unknown kind)."""
    from makerd.venues.replay.errors import RecordingError
    from makerd.venues.replay.stream import ReplayStream

    try:
        ReplayStream(files, coin=coin)
    except RecordingError as error:
        return str(error)
    return None


def _data_problem(files: list[Path], coins: tuple[str, ...]) -> int | None:
    """Exit 78 for files that are missing or of no known kind, or when a coin has no book
    in any of them; exit 1 for a file that turns out unreadable while looking; None when
    every coin is there."""
    from makerd.daemon.backtest_coins import coins_without_books, missing_coins_text
    from makerd.venues.replay.errors import RecordingError

    files_problem = _files_problem(files, coins[0])
    if files_problem is not None:
        print(f"makerd: backtest: {files_problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        missing = coins_without_books(files, coins)
    except RecordingError as error:
        print(f"makerd: backtest: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if not missing:
        return None
    print(f"makerd: backtest: {missing_coins_text(missing, files)}", file=sys.stderr)
    return EXIT_CONFIG


def _step(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"expected a decimal number, got {text[:40]!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text[:40]!r}")
    return value
