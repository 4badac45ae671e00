"""SIGHUP tells the truth about what still needs a restart, however many reloads follow."""

from __future__ import annotations

import signal
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_OK
from tests.processes import MakerdProcess, write_config

APPLIED = r"event=config_reload result=applied .*needs_restart=([^\s\"]+)"


def test_a_second_reload_still_says_a_restart_only_change_is_waiting_for_a_restart(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "run.yaml", {"quoting": {"levels": 2}})
    run_args = ["run", "--state-dir", "state", "--metrics-port", "0", "--config", str(config)]
    makerd = MakerdProcess(run_args, cwd=tmp_path)
    makerd.wait_for(r"orders=4 ")

    write_config(config, {"quoting": {"levels": 2}, "coin": "ETH"})
    makerd.signal(signal.SIGHUP)
    first = makerd.wait_for(APPLIED).group(1)
    makerd.signal(signal.SIGHUP)  # the same file again: the coin still differs from the run's
    second = makerd.wait_for(APPLIED).group(1)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert first == "coin"
    assert second == "coin", "the run still quotes BTC: the ETH in the file waits for a restart"
