"""Command-line value checks, as argparse ``type=`` functions, and the state-dir check.

Each function turns one argument's text into its value or raises
:class:`argparse.ArgumentTypeError` with a message argparse prints as
``makerd run: error: argument --duration: ...``. They are shared by every makerd
command line (the local venue's too: ``makerd venue --port`` uses :func:`tcp_port`).
"""

from __future__ import annotations

import argparse
import math
import os
import stat
import sys
from pathlib import Path
from typing import NoReturn

from makerd.config.checks import MAX_PATH_CHARS, coin_problem, url_problem
from makerd.config.coins import MAX_COINS
from makerd.config.model import CoinSpec, MakerdConfig
from makerd.daemon.exit_codes import EXIT_CONFIG

MAX_DURATION_S = 10 * 365 * 86_400
"""Ten years: past this a duration is a typo, and ``inf`` would mean "never stop"."""
MAX_SESSION_ID = 2**63 - 1
"""SQLite's largest integer; a session id past it cannot exist and cannot be queried."""
MAX_SEED = 2**64 - 1
"""The bound of ``sim.seed``: a larger seed is a typo, not a different draw worth having."""
JOURNAL_NAME = "journal.sqlite"
_SQLITE_HEADER = b"SQLite format 3\x00"


class UsageErrorParser(argparse.ArgumentParser):
    """argparse that exits 78 on a bad command line, like a bad config (argparse: 2).

    Subparsers made with ``add_subparsers`` inherit the class, hence the exit code.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message}\n")


def duration_seconds(text: str) -> float:
    """A finite number of seconds greater than 0 (``nan``, ``inf``, ``-5`` and ``0`` refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_DURATION_S:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds greater than 0 and at most {MAX_DURATION_S}, "
            f"got {text!r}"
        )
    return value


def _integer(text: str, what: str) -> int:
    # int() accepts " 12", "1_000" and "+5"; a port or an id is plain digits.
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected {what} (digits only), got {text!r}")
    if len(text) > 20:
        raise argparse.ArgumentTypeError(f"expected {what}, got a {len(text)}-digit number")
    return int(text)


def tcp_port(text: str) -> int:
    """A TCP port to connect to or listen on: 1 to 65535."""
    port = _integer(text, "a TCP port number")
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port from 1 to 65535, got {text!r}")
    return port


def tcp_port_or_any(text: str) -> int:
    """A TCP port to listen on, or 0 for any free port."""
    port = _integer(text, "a TCP port number")
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a TCP port from 1 to 65535, or 0 for any free port, got {text!r}"
        )
    return port


def session_id(text: str) -> int:
    """A journal session id: 1 to SQLite's largest integer."""
    value = _integer(text, "a session id")
    if not 1 <= value <= MAX_SESSION_ID:
        raise argparse.ArgumentTypeError(
            f"must be a session id from 1 to {MAX_SESSION_ID}, got {text!r}"
        )
    return value


def seed(text: str) -> int:
    """A random generator's seed: 0 to 2**64 - 1 (as ``sim.seed``)."""
    value = _integer(text, "a seed")
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a seed from 0 to {MAX_SEED}, got {text!r}")
    return value


def api_url(text: str) -> str:
    """An exchange API address such as ``http://127.0.0.1:8787``."""
    problem = url_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def coin(text: str) -> str:
    problem = coin_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def coins(text: str) -> tuple[str, ...]:
    """``BTC`` or a list ``BTC,ETH,SOL``: every name valid, none twice."""
    names = [name.strip(" ") for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected a coin name or a list such as BTC,ETH, got {text[:80]!r}"
        )
    for name in names:
        coin(name)
    if len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(f"a coin is listed twice in {text[:80]!r}")
    if len(names) > MAX_COINS:
        raise argparse.ArgumentTypeError(f"at most {MAX_COINS} coins in one process")
    return tuple(names)


def coin_overrides(config: MakerdConfig, names: tuple[str, ...]) -> dict[str, object]:
    """``--coin`` over the file: a coin the file lists keeps its own quoting and risk
    overrides (one such coin is a one-entry list; one the file does not list, bare)."""
    listed = {spec.coin: spec for spec in config.coins}
    if len(names) == 1:
        spec = listed.get(names[0])
        return {"coin": names[0], "coins": () if spec is None else (spec,)}
    specs = tuple(listed.get(name, CoinSpec(coin=name, quoting=config.quoting)) for name in names)
    return {"coin": names[0], "coins": specs}


def path_argument(text: str) -> Path:
    """A non-empty path without NUL bytes (the OS would refuse it with a traceback)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path must not contain a NUL byte")
    if len(text) > MAX_PATH_CHARS:
        raise argparse.ArgumentTypeError(f"a path must be at most {MAX_PATH_CHARS} characters")
    return Path(text)


def state_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be makerd's state directory, or None (it may not exist yet).

    A path that is not a directory, or a directory whose ``journal.sqlite`` is not an
    SQLite database, is refused: writing sessions into a foreign file, or reading one as
    a journal, would at best fail with a traceback and at worst damage it.
    """
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return "cannot be created: a parent of it is not a directory"
    except OSError as error:
        return f"cannot be inspected ({error.strerror})"
    if not stat.S_ISDIR(status.st_mode):
        return "is not a directory"
    return _journal_problem(path / JOURNAL_NAME)


def _journal_problem(journal: Path) -> str | None:
    try:
        descriptor = os.open(journal, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"holds {JOURNAL_NAME} that cannot be read ({error.strerror})"
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return f"holds {JOURNAL_NAME} that is not a regular file"
        header = os.read(descriptor, len(_SQLITE_HEADER))
    except OSError as error:
        return f"holds {JOURNAL_NAME} that cannot be read ({error.strerror})"
    finally:
        os.close(descriptor)
    # An empty file is what SQLite itself leaves when a database was opened but never written.
    if header and header != _SQLITE_HEADER:
        return f"holds {JOURNAL_NAME} that is not an SQLite database (is this the right directory?)"
    return None
