"""A table of bad configs: each is refused as ``path: problem``, exit 78, no traceback,
no network.

Every case is checked by one batched ``makerd check-config FILE...`` (the problems of
each file are prefixed with its name, so one process answers for all of them). The
cases that once started trading are also given to ``makerd run`` in live mode with the
exchange URL pointing at a listener that counts connections: it must see none.
"""

from __future__ import annotations

import copy
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from makerd.daemon.exit_codes import EXIT_CONFIG
from tests.hostile_kit import VALID_KEY, ConnectionCounter, Finished, run_makerd

LIVE: dict[str, object] = {"mode": "live", "hyperliquid": {"api_url": "{api}"}}
REMOTE = "https://api.hyperliquid.xyz"
"""The base of every mapping case: live trading against the counting listener."""


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    config: dict[str, object] | str
    """A mapping merged over :data:`LIVE`, or the file's exact text."""
    expect: str
    """Must appear in one of the file's problem lines: the field path, or the YAML problem."""
    run: bool = False
    """Also hand it to ``makerd run`` (the cases that used to start trading)."""


def _deep(path: str, value: object) -> dict[str, object]:
    head, _, rest = path.partition(".")
    return {head: _deep(rest, value) if rest else value}


def field(path: str, value: object, *, run: bool = False, **extra: object) -> Case:
    config = _deep(path, value)
    for other, other_value in extra.items():
        _merge(config, _deep(other.replace("__", "."), other_value))
    return Case(f"{path}={value!r}"[:60], config, path, run)


def _merge(into: dict[str, object], more: dict[str, object]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)  # type: ignore[arg-type]
        else:
            into[key] = value


def _bomb() -> str:
    lines = ["coin:", '  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, anchor in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  - &{anchor} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


SHAPE_CASES = [
    Case("a list as a top-level key", "? [a, b]\n: 1\n", "<top level>: keys must be text"),
    Case("a list as a key in a section", "quoting:\n  ? [a]\n  : 1\n", "quoting: keys must be"),
    Case("a mapping as a key", "hyperliquid:\n  ? {a: 1}\n  : 1\n", "hyperliquid: keys must"),
    Case("a number as a key", "1: x\n", "1: keys must be text"),
    Case("5000-deep flow YAML", "coin: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    Case("400-deep block YAML", "".join(" " * i + f"k{i}:\n" for i in range(400)), "deeper"),
    Case("an alias bomb under coin", _bomb(), "expands to more than"),
    Case("too many aliases", "a: &a 1\nb: [" + ",".join(["*a"] * 101) + "]\n", "aliases"),
    Case("twenty thousand keys", "".join(f"k{i}: 1\n" for i in range(20_000)), "values"),
    Case("a file past the size limit", "#" * (1 << 20) + "\n", "is larger than"),
    Case("a 10000-digit integer", "sim:\n  seed: " + "9" * 10_000 + "\n", "line 2"),
    Case("a 300-bit hex integer", "sim:\n  seed: 0x" + "f" * 75 + "\n", "integer too large"),
    Case("an impossible date", "coin: 2001-02-30\n", "cannot read this value"),
    Case("a duplicated key", "coin: BTC\ncoin: ETH\n", "duplicate key"),
    Case("a list at the top level", "- mode\n- live\n", "<top level>: expected a mapping"),
    Case("a python object tag", "coin: !!python/object:os.system x\n", "invalid YAML"),
    Case("a YAML syntax error", "quoting: [\n", "invalid YAML"),
    Case("a mistyped key", {"quoting": {"levles": 3}}, "quoting.levles: unknown key"),
    Case("a mistyped section", {"quotng": {}}, "quotng: unknown key (did you mean"),
    Case("an unknown mode", {"mode": "demo"}, "mode: must be one of"),
    Case("an unknown strategy", {"supervisor": {"strategy": "one_for_some"}}, "supervisor"),
]

FIELD_CASES = [
    field("coin", ""),
    field("coin", "BT C"),
    field("coin", 123),
    field("coin", "X" * 100),
    field("state_dir", "a\x00b"),
    field("status_interval_s", 1e300),
    field("stop_timeout_s", float("nan")),
    field("metrics.host", "0.0.0.0", run=True),
    field("metrics.host", ""),
    field("metrics.port", 70000),
    field("metrics.port", -1),
    field("sim.seed", -1),
    field("sim.start_price", 1e300),
    field("sim.sz_decimals", 9),
    field("sim.sz_decimals", 100),
    field("sim.step_ms", 0),
    field("paper.order_entry_latency_ms", 10**9),
    field("paper.taker_fee_rate", 0.5),
    field("quoting.levels", 0),
    field("quoting.first_level_bps", 0),
    field("quoting.level_spacing_bps", 5000),
    field("quoting.order_size", 0),
    field("quoting.order_size", 0.0001, run=True, mode="sim"),
    field("quoting.size_decay", 1.5),
    field("quoting.size_decay", 0),
    field("quoting.levels", 10**12),
    field("quoting.refresh_interval_ms", 0),
    field("quoting.volatility_halflife_s", 1e300),
    field("quoting.model", "glfz"),
    field("quoting.params", {"gamma": 0.1}),
    field("quoting.params.kappa_per_bps", "x", quoting__model="glft"),
    field("quoting.params.gamma", [1], quoting__model="glft"),
    field("quoting.order_size", 0.01, quoting__levels=20),
    field("quoting.bracket_stop_loss_bps", 0, quoting__bracket_take_profit_bps=10),
    field("order_manager.size_tolerance", 1),
    field("order_manager.max_orders_per_batch", 0),
    field("order_manager.queue_hold_factor", 0.5),
    field("order_manager.depth_tolerance", 1),
    field("risk.max_position", 1e300, run=True),
    field("risk.max_drawdown_usd", 1e300, run=True),
    field("risk.session_loss_usd", -1),
    field("risk.reduce_only_at", 0),
    field("risk.stale_feed_halt_s", 1.0),
    field("feed.stale_after_s", 0),
    field("supervisor.max_restarts", -1),
    field("supervisor.period_s", float("inf")),
    field("watchdog.ping_interval_s", 1e300),
    field("watchdog.deadline_s", 0.5),
    field("watchdog.dead_man_switch_s", -5, run=True),
    field("watchdog.dead_man_switch_s", 1, run=True),
    field("watchdog.dead_man_switch_s", 5, watchdog__deadline_s=6),
    field("hyperliquid.api_url", "not a url", run=True),
    field("hyperliquid.api_url", "ftp://127.0.0.1"),
    field("hyperliquid.api_url", "http://[::1"),
    field("hyperliquid.api_url", "http://127.0.0.1:99999"),
    field("hyperliquid.api_url", "http://user:secret@127.0.0.1"),
    field("hyperliquid.account_address", "bob", run=True),
    field("hyperliquid.vault_address", "0x123", run=True),
    field("hyperliquid.request_weight_per_minute", -5, run=True),
    field("hyperliquid.request_weight_per_minute", 5000),
    field("hyperliquid.reconnect_max_backoff_s", -1, run=True),
    field("hyperliquid.network", "moonnet"),
    field("hyperliquid.key_file", ""),
    # Live fault drills are allowed only against a venue on loopback, never an exchange.
    field("faults.crash_role", "quoter", faults__crash_every_s=1.0, hyperliquid__api_url=REMOTE),
    field("faults.hang_role", "quoter", faults__hang_after_s=1.0, hyperliquid__api_url=REMOTE),
    field("faults.crash_role", "trader", mode="sim", faults__crash_every_s=1.0),
    field("faults.crash_every_s", 0, mode="sim", faults__crash_role="quoter"),
]

CASES = SHAPE_CASES + FIELD_CASES


def _materialise(case: Case, directory: Path, api: str) -> Path:
    path = directory / f"case{CASES.index(case):03d}.yaml"
    if isinstance(case.config, str):
        path.write_text(case.config, encoding="utf-8")
    else:
        config = copy.deepcopy(LIVE)
        _merge(config, copy.deepcopy(case.config))
        text = yaml.safe_dump(config).replace("'{api}'", api).replace("{api}", api)
        path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Verdicts:
    files: dict[str, Path]
    checked: Finished
    runs: dict[str, Finished]
    connections: int

    def problems_of(self, case: Case) -> list[str]:
        prefix = f"{self.files[case.name]}: "
        return [line for line in self.checked.stderr.splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verdicts]:
    directory = tmp_path_factory.mktemp("hostile-configs")
    listener = ConnectionCounter()
    try:
        files = {case.name: _materialise(case, directory, listener.url) for case in CASES}
        checked = run_makerd(["check-config", *map(str, files.values())], cwd=directory)
        env = {"MAKERD_PRIVATE_KEY": VALID_KEY}
        chosen = [case for case in CASES if case.run]

        def start(case: Case) -> Finished:
            args = ["run", "--config", str(files[case.name]), "--duration", "5"]
            args += ["--state-dir", str(directory / "state"), "--metrics-port", "0"]
            return run_makerd(args, cwd=directory, env=env)

        with ThreadPoolExecutor(max_workers=3) as pool:
            runs = dict(zip((c.name for c in chosen), pool.map(start, chosen), strict=True))
        yield Verdicts(files, checked, runs, listener.connections)
    finally:
        listener.close()


def test_the_table_holds_at_least_sixty_distinct_bad_configs() -> None:
    assert len({case.name for case in CASES}) == len(CASES) >= 60


def test_the_batch_exits_78_and_never_shows_a_traceback(verdicts: Verdicts) -> None:
    assert verdicts.checked.code == EXIT_CONFIG
    assert "Traceback" not in verdicts.checked.text
    assert verdicts.checked.stdout == ""  # not one case was reported ok


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_config_is_refused_naming_what_is_wrong(case: Case, verdicts: Verdicts) -> None:
    problems = verdicts.problems_of(case)

    assert problems, f"{case.name}: no problem reported\n{verdicts.checked.stderr[-2000:]}"
    assert any(case.expect in line for line in problems), problems


@pytest.mark.parametrize("case", [c for c in CASES if c.run], ids=[c.name for c in CASES if c.run])
def test_a_bad_config_never_starts_a_run(case: Case, verdicts: Verdicts) -> None:
    finished = verdicts.runs[case.name]

    assert finished.code == EXIT_CONFIG, finished.text
    assert case.expect in finished.stderr
    assert "Traceback" not in finished.text


def test_no_refused_config_made_a_network_request(verdicts: Verdicts) -> None:
    assert verdicts.connections == 0


# --- the key, before any request ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyCase:
    name: str
    key_file: str | None
    """``dir``, ``missing``, or file content; written with ``mode``."""
    mode: int = 0o600
    env_key: str | None = None
    expect: str = "hyperliquid.key_file"


KEY_CASES = [
    KeyCase("no key anywhere", None, expect="no private key configured"),
    KeyCase("the key file is a directory", "dir", expect="not a regular file"),
    KeyCase("the key file is missing", "missing", expect="cannot open"),
    KeyCase("the key file is readable by others", VALID_KEY, mode=0o644, expect="mode 0644"),
    KeyCase("the key file is readable by its group", VALID_KEY, mode=0o640, expect="mode 0640"),
    KeyCase("the key file is not hex", "zz" * 32, expect="not valid hex"),
    KeyCase("the key file is too short", "0xabcd", expect="64 hex digits"),
    KeyCase("the key file is a FIFO", "fifo", expect="not a regular file"),
    KeyCase("the key variable is not a key", None, env_key="bob", expect="MAKERD_PRIVATE_KEY"),
]


def _key_file(case: KeyCase, directory: Path) -> Path | None:
    if case.key_file is None:
        return None
    path = directory / "key"
    if case.key_file == "dir":
        path.mkdir()
    elif case.key_file == "fifo":
        os.mkfifo(path, 0o600)
    elif case.key_file != "missing":
        path.write_text(case.key_file + "\n", encoding="ascii")
        path.chmod(case.mode)
    return path


@pytest.mark.parametrize("case", KEY_CASES, ids=[case.name for case in KEY_CASES])
def test_a_key_problem_is_refused_before_any_request(case: KeyCase, tmp_path: Path) -> None:
    listener = ConnectionCounter()
    try:
        key_file = _key_file(case, tmp_path)
        hyperliquid: dict[str, object] = {"api_url": listener.url}
        if key_file is not None:
            hyperliquid["key_file"] = str(key_file)
        config = tmp_path / "live.yaml"
        config.write_text(yaml.safe_dump({"mode": "live", "hyperliquid": hyperliquid}))
        env = {} if case.env_key is None else {"MAKERD_PRIVATE_KEY": case.env_key}

        finished = run_makerd(
            ["run", "--config", str(config), "--state-dir", str(tmp_path / "state")],
            cwd=tmp_path,
            env=env,
        )
    finally:
        listener.close()

    assert finished.code == EXIT_CONFIG, finished.text
    assert case.expect in finished.stderr
    assert "Traceback" not in finished.text
    assert listener.connections == 0
    assert VALID_KEY.removeprefix("0x") not in finished.text
    if key_file is not None and key_file.is_file():
        assert stat.S_IMODE(key_file.stat().st_mode) == case.mode  # never "fixed" for us
