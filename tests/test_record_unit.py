"""The recorder's systemd unit: hardened like makerd's own, and its command line is valid."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from makerd.daemon.cli import _parser
from tests.test_deploy_units import DEPLOY, TEMPLATE, parse_unit, single

RECORDER = DEPLOY / "systemd" / "makerd-record@.service"
SANDBOX_KEYS = (
    "NoNewPrivileges",
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "PrivateDevices",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "ProtectProc",
    "RestrictNamespaces",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "LockPersonality",
    "RemoveIPC",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "RestrictAddressFamilies",
    "SystemCallArchitectures",
    "SystemCallFilter",
    "SystemCallErrorNumber",
    "MemoryDenyWriteExecute",
    "UMask",
    "LimitCORE",
    "User",
)


def test_the_recorder_is_sandboxed_exactly_like_the_trading_service() -> None:
    recorder, trader = parse_unit(RECORDER)["Service"], parse_unit(TEMPLATE)["Service"]

    assert {key: recorder.get(key) for key in SANDBOX_KEYS} == {
        key: trader.get(key) for key in SANDBOX_KEYS
    }
    assert "LoadCredential" not in recorder, "the public stream needs no key"


def test_the_recorder_is_watched_and_stopped_cleanly_by_systemd() -> None:
    unit = parse_unit(RECORDER)

    assert single(unit, "Service", "Type") == "notify"
    assert single(unit, "Service", "WatchdogSec") == "10s"
    assert single(unit, "Service", "KillSignal") == "SIGTERM"
    assert single(unit, "Service", "Restart") == "on-failure"
    assert single(unit, "Service", "RestartPreventExitStatus") == "78"


def test_the_units_command_line_is_one_makerd_record_accepts() -> None:
    unit = parse_unit(RECORDER)
    defaults = dict(pair.split("=", 1) for pair in shlex.split(unit["Service"]["Environment"][0]))
    command = single(unit, "Service", "ExecStart").replace("%i", "BTC")
    for name, value in defaults.items():
        command = command.replace(f"${{{name}}}", value.replace("%i", "BTC"))

    args = _parser().parse_args(shlex.split(command)[1:])

    assert args.command == "record"
    assert args.coin == ("BTC",)
    assert args.out == Path("/var/lib/makerd-record/BTC")
    assert single(unit, "Service", "StateDirectory") == "makerd-record/%i"
    assert args.api_url == "https://api.hyperliquid.xyz"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_recorder_unit_and_rates_its_sandbox_ok(tmp_path: Path) -> None:
    text = RECORDER.read_text(encoding="utf-8")
    copy = tmp_path / "makerd-record@BTC.service"
    copy.write_text(text.replace("/opt/makerd/venv/bin/makerd", sys.executable, 1))

    verify = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert verify.returncode == 0, verify.stderr
    assert verify.stderr == ""
    assert security.returncode == 0, security.stdout[-2000:]
