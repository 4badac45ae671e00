"""The ``makerd`` command line.

``makerd run`` quotes (sim mode by default), ``makerd check-config FILE...`` validates
configs without starting anything, ``makerd report`` prints past sessions,
``makerd backtest FILE...`` replays recorded market data (:mod:`makerd.backtest_cli`),
``makerd ctl`` controls a running makerd and ``makerd kill-switch status|clear`` reads or
clears the latch that keeps a stopped bot from trading (:mod:`makerd.ctl_cli`).

Every argument is checked before anything starts (see :mod:`makerd.arguments`); a bad
argument or config is one ``path: problem`` line each and exit 78, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from makerd.config.errors import ConfigError
from makerd.config.extensions import register_actor_roles, register_coin_roles
from makerd.config.loader import check_ranges, load_config
from makerd.config.model import MakerdConfig, Mode
from makerd.daemon import arguments, backtest_cli, ctl_cli, record_cli
from makerd.daemon.alerts import install_notifier
from makerd.daemon.config_example import EXAMPLES, example_text, installed_version
from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK
from makerd.daemon.logs import LOG_FORMATS, configure_logging, say_error
from makerd.daemon.refusal import refuse
from makerd.daemon.signals import SignalFlags

DEFAULT_STATE_DIR = Path("var")

EXIT_CODES_EPILOG = """\
exit codes:
  0   clean stop, the venue confirmed 0 open orders; check-config: valid
  1   unexpected error
  70  an actor stayed hung after one replacement
  75  the venue stayed unreachable or refusing at start (temporary: restart later)
  78  invalid command line or configuration (nothing was started)
  80  kill switch tripped, or already latched at start
  81  supervisor restart intensity exceeded (kill switch latched too)
  82  the stop could not confirm 0 open orders (the exchange dead-man switch stays armed)
  83  another makerd holds this state directory
  84  ctl: no makerd is running on this state directory
  85  ctl: refused (an unsafe control socket file, or makerd refused this user)
  86  a stop that flattens left a position open (printed: position left open: COIN SIZE);
      ctl flatten: a position it could send no closing order for
"""


def main(argv: list[str] | None = None, *, signals: SignalFlags | None = None) -> int:
    """``signals``: the flags the process entry set up (and may have caught already)."""
    signals = SignalFlags() if signals is None else signals
    arguments_ = sys.argv[1:] if argv is None else argv
    if arguments_[:1] == ["venue"]:
        signals.release()
        # The venue has its own flags; hand them over untouched.
        configure_logging("INFO")
        from makerd.venues.hl_local.cli import main as venue_main

        return venue_main(arguments_[1:])
    args = _parser().parse_args(arguments_)
    if args.command == "run":
        # First thing, before a key can be in memory: no core dumps, private files.
        from makerd.daemon.hardening import harden_process

        harden_process()
    else:
        signals.release()
    configure_logging(args.log_level, args.log_format)
    install_notifier()
    install_config_checks()
    if args.command == "run":
        return _run(args, signals)
    command: int = args.handler(args)
    return command


def install_config_checks() -> None:
    """Tell config/ which quoting models and actor roles exist (it imports neither)."""
    import makerd.quoting.registry  # noqa: F401  (registers every model's parameter check)
    from makerd.actors.routing import ACTOR_ROLES, COIN_ROLES

    register_actor_roles(ACTOR_ROLES)
    register_coin_roles(COIN_ROLES)


def _parser() -> argparse.ArgumentParser:
    parser = arguments.UsageErrorParser(
        prog="makerd",
        description="makerd: a market-making daemon for Hyperliquid perpetuals. "
        "`makerd config example [sim|paper|live]` prints a config with every key, its "
        "units and its meaning; README.md and docs/ in the source tree say the rest.",
        epilog=EXIT_CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="least severe log level written to stderr (default: INFO)",
    )
    parser.add_argument(
        "--log-format",
        default="auto",
        choices=LOG_FORMATS,
        help="json: one object per line; text: for people; auto (default): text on a "
        "terminal, json otherwise",
    )
    parser.add_argument("--version", action="version", version=f"makerd {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="quote until stopped (sim mode by default)",
        epilog=EXIT_CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--config",
        type=arguments.path_argument,
        help="YAML config (default: the packaged sim.yaml)",
    )
    run.add_argument(
        "--mode", choices=[mode.value for mode in Mode], help="override the config's mode"
    )
    run.add_argument(
        "--coin",
        type=arguments.coins,
        help="the coin, or several: BTC,ETH,SOL (overrides the config)",
    )
    run.add_argument(
        "--duration",
        type=arguments.duration_seconds,
        metavar="SECONDS",
        help="stop after this long (a finite number greater than 0)",
    )
    run.add_argument(
        "--state-dir", type=arguments.path_argument, help="override the config's state_dir"
    )
    run.add_argument(
        "--metrics-port",
        type=arguments.tcp_port_or_any,
        help="override metrics.port (0 = any free port)",
    )
    run.add_argument(
        "--api-url",
        type=arguments.api_url,
        help="override hyperliquid.api_url (e.g. http://127.0.0.1:8787)",
    )

    commands.add_parser(
        "venue", help="run the local Hyperliquid-compatible venue (makerd venue --help)"
    )

    check = commands.add_parser(
        "check-config", help="validate config files and exit (78 if any is invalid)"
    )
    check.add_argument(
        "files", type=arguments.path_argument, nargs="+", metavar="FILE", help="YAML configs"
    )
    check.set_defaults(handler=_check_config)

    report = commands.add_parser("report", help="print past sessions from the journal")
    report.add_argument(
        "--state-dir",
        type=arguments.path_argument,
        default=DEFAULT_STATE_DIR,
        help="state directory holding journal.sqlite (default: ./var)",
    )
    report.add_argument(
        "--session", type=arguments.session_id, help="session id (default: the latest)"
    )
    report.add_argument("--all", action="store_true", help="one line per session")
    report.add_argument(
        "--report-dir",
        type=arguments.path_argument,
        help="also write the session's summary.json, fills.csv, equity.csv and report.html"
        " (with plots) into this directory (docs/report.md)",
    )
    report.add_argument(
        "--replay",
        action="store_true",
        help="backtest the market data a live or paper session recorded (feed.record_dir)"
        " with its config, and print both side by side (docs/backtest.md)",
    )
    report.add_argument(
        "--configured-latency",
        action="store_true",
        help="with --replay: the config's constant order latencies, not the session's measured"
        " ones",
    )
    report.add_argument(
        "--seed",
        type=arguments.seed,
        metavar="N",
        help="with --replay: seed the draws of the session's measured latencies with N"
        " (default: 0); the same session and seed give the same replay",
    )
    report.set_defaults(handler=_report)

    ctl_cli.add_commands(commands)
    backtest_cli.add_command(commands)
    record_cli.add_command(commands)

    config_command = commands.add_parser("config", help="print a packaged example config")
    config_actions = config_command.add_subparsers(dest="config_command", required=True)
    example = config_actions.add_parser(
        "example", help="print the packaged config for a mode (every key, with units)"
    )
    example.add_argument(
        "mode", nargs="?", default="sim", choices=sorted(EXAMPLES), help="default: sim"
    )
    example.set_defaults(handler=_config_example)
    return parser


def _load(args: argparse.Namespace) -> MakerdConfig:
    config = load_config(args.config)
    overrides: dict[str, object] = {}
    if args.mode:
        overrides["mode"] = Mode(args.mode)
    if args.coin is not None:
        overrides.update(arguments.coin_overrides(config, args.coin))
    if args.state_dir is not None:
        overrides["state_dir"] = args.state_dir
    if args.api_url is not None:
        overrides["hyperliquid"] = dataclasses.replace(config.hyperliquid, api_url=args.api_url)
    if args.metrics_port is not None:
        overrides["metrics"] = dataclasses.replace(config.metrics, port=args.metrics_port)
    config = dataclasses.replace(config, **overrides)  # type: ignore[arg-type]
    problems = check_ranges(config)
    if problems:
        raise ConfigError(problems, source="command line")
    return config


def _refuse(error: ConfigError) -> int:
    return refuse(EXIT_CONFIG, f"makerd: invalid configuration\n{error}")


def _run(args: argparse.Namespace, signals: SignalFlags) -> int:
    try:
        config = _load(args)
        _preflight(config)
    except ConfigError as error:
        return _refuse(error)
    from makerd.daemon.hardening import tighten_state_dir

    tightened = tighten_state_dir(Path(config.state_dir))
    if tightened:
        print(tightened, file=sys.stderr)
    from makerd.daemon.app import MakerdRun
    from makerd.daemon.venue_choice import UnsupportedModeError

    try:
        run = MakerdRun(config, config_path=args.config, signals=signals)
        return run.run(duration_s=args.duration)
    except UnsupportedModeError as error:
        return refuse(EXIT_CONFIG, f"makerd: {error}")


def _config_example(args: argparse.Namespace) -> int:
    print(example_text(args.mode), end="")
    return EXIT_OK


def _preflight(config: MakerdConfig) -> None:
    """What can be refused before anything touches the disk or the network."""
    problems = []
    unusable = arguments.state_dir_problem(Path(config.state_dir))
    if unusable:
        problems.append(f"state_dir: state directory {config.state_dir} {unusable}")
    if config.feed.record_dir is not None:
        unwritable = record_cli.out_dir_problem(config.feed.record_dir)
        if unwritable:
            problems.append(f"feed.record_dir: {unwritable}")
    if config.mode is Mode.LIVE:
        from makerd.venues.hyperliquid.secrets import private_key_problems

        problems += private_key_problems(os.environ, key_file=config.hyperliquid.key_file)
    if problems:
        raise ConfigError(problems, source="start-up check")


def _report_options_problem(args: argparse.Namespace) -> str | None:
    unusable = arguments.state_dir_problem(args.state_dir)
    if unusable:
        return f"--state-dir {args.state_dir} {unusable}"
    from makerd.daemon.sessions import report_dir_problem

    unwritable = args.report_dir is not None and report_dir_problem(args.report_dir)
    if unwritable:
        return f"--report-dir {args.report_dir} {unwritable}"
    if args.seed is not None and not args.replay:
        return "--seed goes with --replay (it seeds the replay's latency draws)"
    if args.configured_latency and not args.replay:
        return "--configured-latency goes with --replay (it sets the replay's latency)"
    return None


def _report(args: argparse.Namespace) -> int:
    problem = _report_options_problem(args)
    if problem:
        print(f"makerd: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    from makerd.daemon.sessions import NoJournalError, session_report

    if args.replay:
        from makerd.daemon.report_replay_cli import report_replay

        return report_replay(args)
    try:
        print(session_report(args.state_dir, session_id=args.session, list_all=args.all))
        if args.report_dir is not None:
            from makerd.daemon.report_files import (
                write_session_report,  # matplotlib: only if needed
            )

            for path in write_session_report(args.state_dir, args.session, args.report_dir):
                print(f"wrote {path}")
    except (NoJournalError, KeyError) as error:
        print(f"makerd: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:
        print(f"makerd: cannot write the report into {args.report_dir}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _check_config(args: argparse.Namespace) -> int:
    """Each file on its own: its ``ok`` line on stdout or its problems on stderr."""
    exit_code = EXIT_OK
    for path in args.files:
        try:
            config = load_config(path)
        except ConfigError as error:  # a check, not a start: nothing to tell systemd
            say_error(f"makerd: invalid configuration\n{error}")
            exit_code = EXIT_CONFIG
            continue
        coins = ",".join(spec.coin for spec in config.coin_specs())
        print(f"{path}: ok (mode={config.mode.value}, coin={coins})")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
