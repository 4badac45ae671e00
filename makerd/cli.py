"""The ``makerd`` command line.

``makerd run`` quotes (sim mode by default), ``makerd check-config FILE`` validates a
config without starting anything, ``makerd clear-kill-switch`` lets a stopped bot trade
again after an operator has looked at why it stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from config.loader import ConfigError, check_ranges, load_config
from config.model import MakerdConfig, MetricsConfig, Mode
from makerd.alerts import install_notifier
from makerd.config_example import EXAMPLES, example_text, installed_version
from makerd.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK
from makerd.latch import KillSwitchLatch
from makerd.logs import LOG_FORMATS, configure_logging

DEFAULT_STATE_DIR = Path("var")


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["venue"]:
        # The venue has its own flags; hand them over untouched.
        configure_logging("INFO")
        from venues.hl_local.cli import main as venue_main

        return venue_main(arguments[1:])
    parser = _parser()
    args = parser.parse_args(arguments)
    configure_logging(args.log_level, args.log_format)
    install_notifier()
    command: int = args.handler(args)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="makerd",
        description="makerd: a market-making daemon for Hyperliquid perpetuals. "
        "`makerd config example [sim|paper|live]` prints a config with every key, its "
        "units and its meaning; README.md and docs/ in the source tree say the rest.",
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

    run = commands.add_parser("run", help="quote until stopped (sim mode by default)")
    run.add_argument("--config", type=Path, help="YAML config (default: the packaged sim.yaml)")
    run.add_argument(
        "--mode", choices=[mode.value for mode in Mode], help="override the config's mode"
    )
    run.add_argument("--coin", help="override the config's coin")
    run.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")
    run.add_argument("--state-dir", type=Path, help="override the config's state_dir")
    run.add_argument("--metrics-port", type=int, help="override metrics.port (0 = any free port)")
    run.add_argument("--api-url", help="override hyperliquid.api_url (e.g. http://127.0.0.1:8787)")
    run.set_defaults(handler=_run)

    commands.add_parser(
        "venue", help="run the local Hyperliquid-compatible venue (makerd venue --help)"
    )

    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("file", type=Path, help="the YAML config to check")
    check.set_defaults(handler=_check_config)

    report = commands.add_parser("report", help="print past sessions from the journal")
    report.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="state directory holding journal.sqlite (default: ./var)",
    )
    report.add_argument("--session", type=int, help="session id (default: the latest)")
    report.add_argument("--all", action="store_true", help="one line per session")
    report.set_defaults(handler=_report)

    clear = commands.add_parser("clear-kill-switch", help="clear a latched kill switch")
    clear.add_argument("--state-dir", type=Path, help="state directory (default: the config's)")
    clear.add_argument("--config", type=Path, help="read state_dir from this config")
    clear.set_defaults(handler=_clear_kill_switch)

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
    if getattr(args, "mode", None):
        overrides["mode"] = Mode(args.mode)
    if getattr(args, "coin", None):
        overrides["coin"] = args.coin
    if getattr(args, "state_dir", None):
        overrides["state_dir"] = args.state_dir
    if getattr(args, "api_url", None):
        overrides["hyperliquid"] = dataclasses.replace(config.hyperliquid, api_url=args.api_url)
    if getattr(args, "metrics_port", None) is not None:
        overrides["metrics"] = MetricsConfig(
            enabled=config.metrics.enabled, host=config.metrics.host, port=args.metrics_port
        )
    config = dataclasses.replace(config, **overrides)  # type: ignore[arg-type]
    problems = check_ranges(config)
    if problems:
        raise ConfigError(problems, source="command line")
    return config


def _run(args: argparse.Namespace) -> int:
    try:
        config = _load(args)
    except ConfigError as error:
        print(f"makerd: invalid configuration\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    from makerd.app import MakerdRun
    from makerd.venue_choice import UnsupportedModeError

    try:
        return MakerdRun(config, config_path=args.config).run(duration_s=args.duration)
    except UnsupportedModeError as error:
        print(f"makerd: {error}", file=sys.stderr)
        return EXIT_CONFIG


def _config_example(args: argparse.Namespace) -> int:
    print(example_text(args.mode), end="")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from makerd.sessions import NoJournalError, session_report

    try:
        print(session_report(args.state_dir, session_id=args.session, list_all=args.all))
    except (NoJournalError, KeyError) as error:
        print(f"makerd: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as error:
        print(f"makerd: invalid configuration\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"{args.file}: ok (mode={config.mode.value}, coin={config.coin})")
    return EXIT_OK


def _clear_kill_switch(args: argparse.Namespace) -> int:
    state_dir = args.state_dir
    if state_dir is None:
        try:
            state_dir = load_config(args.config).state_dir
        except ConfigError as error:
            print(f"makerd: invalid configuration\n{error}", file=sys.stderr)
            return EXIT_CONFIG
    cleared = KillSwitchLatch(Path(state_dir)).clear()
    if cleared is None:
        print(f"makerd: no kill switch latched in {Path(state_dir).resolve()}")
    else:
        print(
            f"makerd: cleared kill switch (reason={cleared.reason}: {cleared.detail}) "
            f"in {Path(state_dir).resolve()}"
        )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
