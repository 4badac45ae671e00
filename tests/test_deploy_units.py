"""The systemd units and the launchd plist keep the promises the deploy READMEs make.

A unit file is not INI: keys repeat (each ``SystemCallFilter=`` adds to the filter), so a
tiny parser collects every value of a key in file order, empty ones included.
"""

from __future__ import annotations

import plistlib
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from makerd.config.model import MakerdConfig
from makerd.daemon import exit_codes

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SERVICE = DEPLOY / "systemd" / "makerd.service"
TEMPLATE = DEPLOY / "systemd" / "makerd@.service"
PLIST = DEPLOY / "launchd" / "com.makerd.makerd.plist"
UNITS = pytest.mark.parametrize("unit_path", [SERVICE, TEMPLATE], ids=["single", "template"])

UnitFile = dict[str, dict[str, list[str]]]

_SPAN_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def parse_unit(path: Path) -> UnitFile:
    """Sections of a unit file, each key mapped to all its values in file order."""
    sections: UnitFile = {}
    current: dict[str, list[str]] | None = None
    logical = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = logical + raw.strip()
        if line.endswith("\\"):  # systemd joins continuation lines with a space
            logical = line[:-1] + " "
            continue
        logical = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"{path.name}: {line!r} is outside any section"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def single(unit: UnitFile, section: str, key: str) -> str:
    values = unit[section].get(key, [])
    assert len(values) == 1, f"[{section}] {key} should be set exactly once, found {values}"
    return values[0]


def seconds(span: str) -> float:
    """A systemd time span ("10s", "5min 30s", bare "300") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span)
    assert parts, f"not a time span: {span!r}"
    return sum(float(number) * _SPAN_UNITS[unit or "s"] for number, unit in parts)


def exec_argv(unit: UnitFile, key: str) -> list[str]:
    return shlex.split(single(unit, "Service", key).lstrip("-@+!:"))


def option_value(argv: list[str], option: str) -> str:
    assert option in argv, f"{option} missing from {argv}"
    return argv[argv.index(option) + 1]


@UNITS
def test_the_unit_counts_as_started_only_when_makerd_says_ready(unit_path: Path) -> None:
    unit = parse_unit(unit_path)

    assert single(unit, "Service", "Type") == "notify"
    assert single(unit, "Service", "NotifyAccess") == "main"


@UNITS
def test_the_unit_runs_the_makerd_console_script_with_a_config_and_its_state_dir(
    unit_path: Path,
) -> None:
    unit = parse_unit(unit_path)

    argv = exec_argv(unit, "ExecStart")

    assert Path(argv[0]).is_absolute()
    assert Path(argv[0]).name == "makerd"
    assert argv[1] == "run"
    assert option_value(argv, "--config").endswith(".yaml")
    state_dir = option_value(argv, "--state-dir")
    assert state_dir == "/var/lib/" + single(unit, "Service", "StateDirectory")
    assert single(unit, "Service", "WorkingDirectory") == state_dir


def test_the_template_gives_each_instance_its_own_config_state_and_key() -> None:
    unit = parse_unit(TEMPLATE)

    argv = exec_argv(unit, "ExecStart")

    assert option_value(argv, "--config") == "/etc/makerd/%i.yaml"
    assert option_value(argv, "--state-dir") == "/var/lib/makerd/%i"
    assert single(unit, "Service", "LoadCredential") == (
        "makerd_private_key:/etc/makerd/credentials/%i/private_key"
    )


def test_the_single_unit_loads_the_private_key_as_a_systemd_credential() -> None:
    unit = parse_unit(SERVICE)

    credential = single(unit, "Service", "LoadCredential")

    assert credential == "makerd_private_key:/etc/makerd/credentials/private_key"


@UNITS
def test_stay_down_exit_codes_are_never_restarted_and_the_rest_are(unit_path: Path) -> None:
    unit = parse_unit(unit_path)

    prevented = {int(code) for code in single(unit, "Service", "RestartPreventExitStatus").split()}

    assert single(unit, "Service", "Restart") == "on-failure"
    assert prevented == {78, 80, 81}
    assert prevented == set(exit_codes.STAY_DOWN_CODES)
    assert exit_codes.EXIT_FAILURE not in prevented
    assert exit_codes.EXIT_HUNG not in prevented


@UNITS
def test_systemd_waits_longer_than_makerds_own_stop_budget_and_signals_only_makerd(
    unit_path: Path,
) -> None:
    unit = parse_unit(unit_path)

    stop_timeout = seconds(single(unit, "Service", "TimeoutStopSec"))

    assert stop_timeout > max(20, MakerdConfig().stop_timeout_s)
    assert single(unit, "Service", "KillMode") == "mixed"
    assert single(unit, "Service", "KillSignal") == "SIGTERM"
    assert exec_argv(unit, "ExecReload") == ["/bin/kill", "-HUP", "$MAINPID"]


@UNITS
def test_a_silent_watchdog_for_ten_seconds_gets_the_process_aborted(unit_path: Path) -> None:
    unit = parse_unit(unit_path)

    assert seconds(single(unit, "Service", "WatchdogSec")) == 10
    environment = " ".join(unit["Service"]["Environment"]).split()
    assert "PYTHONFAULTHANDLER=1" in environment
    assert "PYTHONUNBUFFERED=1" in environment
    assert single(unit, "Service", "LimitCORE") == "0"


@UNITS
def test_a_crash_loop_hits_the_start_limit_before_the_interval_runs_out(unit_path: Path) -> None:
    unit = parse_unit(unit_path)

    burst = int(single(unit, "Unit", "StartLimitBurst"))
    interval = seconds(single(unit, "Unit", "StartLimitIntervalSec"))
    restart_delay = seconds(single(unit, "Service", "RestartSec"))

    assert burst * restart_delay < interval
    assert "StartLimitBurst" not in unit["Service"]
    assert "StartLimitIntervalSec" not in unit["Service"]


@UNITS
def test_the_service_runs_sandboxed_without_privileges(unit_path: Path) -> None:
    unit = parse_unit(unit_path)
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictNamespaces": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "SystemCallArchitectures": "native",
        "SystemCallErrorNumber": "EPERM",
        "UMask": "0077",
    }

    actual = {key: single(unit, "Service", key) for key in expected}

    assert actual == expected
    assert unit["Service"]["SystemCallFilter"][0] == "@system-service"
    assert single(unit, "Service", "User") == "makerd"
    assert "ProcSubset" not in unit["Service"]  # process_* metrics need /proc/stat


def _run_systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, timeout=30, check=False
    )


def _runnable_copy(unit_path: Path, directory: Path, name: str) -> Path:
    """The unit with ExecStart pointed at an interpreter that exists on this machine."""
    text = unit_path.read_text(encoding="utf-8")
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={sys.executable}", text, flags=re.MULTILINE)
    copy = directory / name
    copy.write_text(text, encoding="utf-8")
    return copy


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize(
    ("unit_path", "name"),
    [(SERVICE, "makerd.service"), (TEMPLATE, "makerd@btc.service")],
    ids=["single", "template"],
)
def test_systemd_accepts_every_line_and_rates_the_sandbox_ok(
    unit_path: Path, name: str, tmp_path: Path
) -> None:
    copy = _runnable_copy(unit_path, tmp_path, name)

    verify = _run_systemd_analyze("verify", str(copy))
    # The threshold is on a 0-100 scale: systemd 252 rates these units 14 ("1.4 OK"); 20
    # leaves room for newer releases that score more settings, not for weaker hardening.
    security = _run_systemd_analyze("security", "--offline=yes", "--threshold=20", str(copy))

    assert verify.returncode == 0, verify.stderr
    assert verify.stderr == ""  # parse problems are warnings with exit code 0
    assert security.returncode == 0, security.stdout[-2000:]


def load_plist() -> dict[str, Any]:
    with PLIST.open("rb") as handle:
        loaded = plistlib.load(handle)
    assert isinstance(loaded, dict)
    return loaded


def test_the_plist_is_named_after_its_label_and_runs_makerd() -> None:
    job = load_plist()

    argv = job["ProgramArguments"]

    assert job["Label"] == PLIST.stem
    assert isinstance(argv, list)
    assert all(isinstance(argument, str) for argument in argv)
    assert Path(argv[0]).is_absolute()
    assert Path(argv[0]).name == "makerd"
    assert argv[1] == "run"
    assert option_value(argv, "--config").endswith(".yaml")
    assert option_value(argv, "--state-dir") == job["WorkingDirectory"]


def test_launchd_relaunches_failures_and_crashes_but_not_a_clean_stop() -> None:
    job = load_plist()

    assert job["KeepAlive"] == {"SuccessfulExit": False, "Crashed": True}
    assert job["RunAtLoad"] is True


def test_launchd_paces_relaunches_and_outwaits_makerds_stop_budget() -> None:
    job = load_plist()

    throttle, exit_timeout = job["ThrottleInterval"], job["ExitTimeOut"]

    assert type(throttle) is int  # a bool or a string is ignored by launchd
    assert type(exit_timeout) is int
    assert throttle == 30
    assert exit_timeout > MakerdConfig().stop_timeout_s


def test_the_plist_environment_is_strings_only_and_carries_no_secret() -> None:
    job = load_plist()

    environment = job["EnvironmentVariables"]

    assert all(isinstance(value, str) for value in environment.values())
    assert environment["PYTHONUNBUFFERED"] == "1"
    assert Path(environment["CREDENTIALS_DIRECTORY"]).is_absolute()
    assert not any("KEY" in name or "SECRET" in name for name in environment)


def test_the_plist_runs_unthrottled_and_logs_to_files() -> None:
    job = load_plist()

    assert job["ProcessType"] == "Interactive"  # of Background, Standard, Adaptive, Interactive
    assert Path(job["StandardOutPath"]).is_absolute()
    assert Path(job["StandardErrorPath"]).is_absolute()
    assert type(job["Umask"]) is int
    assert job["SoftResourceLimits"] == {"Core": 0}
    assert job["HardResourceLimits"] == {"Core": 0}


_EXIT_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`(EXIT_[A-Z_]+)`\s*\|", re.MULTILINE)
_EXIT_NAMES = sorted(
    name
    for name, code in vars(exit_codes).items()
    if name.startswith("EXIT_") and code not in exit_codes.CTL_ONLY_CODES
)
"""The exit codes of ``makerd run`` (``makerd ctl``'s own never reach a service manager)."""


@pytest.mark.parametrize("readme", ["systemd/README.md", "launchd/README.md"])
def test_every_exit_code_in_the_readme_matches_makerds_constants(readme: str) -> None:
    text = (DEPLOY / readme).read_text(encoding="utf-8")

    documented = {name: int(code) for code, name in _EXIT_ROW.findall(text)}

    assert sorted(documented) == _EXIT_NAMES
    assert documented == {name: getattr(exit_codes, name) for name in _EXIT_NAMES}


def test_the_kill_switch_instructions_clear_the_state_dir_each_service_uses() -> None:
    systemd_state = option_value(exec_argv(parse_unit(SERVICE), "ExecStart"), "--state-dir")
    launchd_state = option_value(load_plist()["ProgramArguments"], "--state-dir")

    systemd_readme = (DEPLOY / "systemd" / "README.md").read_text(encoding="utf-8")
    launchd_readme = (DEPLOY / "launchd" / "README.md").read_text(encoding="utf-8")

    assert f"clear-kill-switch --state-dir {systemd_state}\n" in systemd_readme
    assert f"{systemd_state}/kill_switch.json" in systemd_readme
    assert f"clear-kill-switch --state-dir {launchd_state}\n" in launchd_readme
    assert f"{launchd_state}/kill_switch.json" in launchd_readme
    assert "launchctl bootout" in launchd_readme


_LAUNCHD_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`EXIT_[A-Z_]+`\s*\|[^|]*\|\s*([^|]*?)\s*\|$", re.M)


def test_the_launchd_exit_table_matches_what_keepalive_does_with_each_code() -> None:
    job = load_plist()
    text = (DEPLOY / "launchd" / "README.md").read_text(encoding="utf-8")

    outcome = {int(code): what for code, what in _LAUNCHD_ROW.findall(text)}
    relaunches_non_zero = job["KeepAlive"]["SuccessfulExit"] is False

    assert relaunches_non_zero
    assert outcome[exit_codes.EXIT_OK] == "nothing"
    for code in (code for code in outcome if code != exit_codes.EXIT_OK):
        assert outcome[code].startswith("relaunches"), (code, outcome[code])
    for code in exit_codes.STAY_DOWN_CODES:
        assert "every 30 s" in outcome[code], "a stay-down code loops at the throttle pace"
    assert job["ThrottleInterval"] == 30
