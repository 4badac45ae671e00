"""``makerd ctl`` against makerd running as a real process in sim mode."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
from decimal import Decimal
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_NOT_RUNNING, EXIT_OK, EXIT_REFUSED
from tests.ctl_kit import (
    ctl,
    open_orders,
    operator_commands,
    orders_placed,
    position,
    status,
)
from tests.processes import MakerdProcess, write_config
from tests.test_hl_live_e2e import wait_until


def start(tmp_path: Path, **config: object) -> tuple[MakerdProcess, Path]:
    state = tmp_path / "state"
    path = write_config(tmp_path / "ctl.yaml", {"status_interval_s": 0.5, **config})
    args = ["run", "--config", str(path), "--state-dir", str(state), "--metrics-port", "0"]
    return MakerdProcess(args, cwd=tmp_path), state


def leave_a_stale_socket(state: Path) -> None:
    """What a crashed run leaves: a socket file nobody listens on."""
    state.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(state / "control.sock"))
    os.chmod(state / "control.sock", 0o600)


def test_status_pause_resume_and_cancel_all_act_on_a_running_makerd(tmp_path: Path) -> None:
    makerd, state = start(tmp_path)
    leave_a_stale_socket(state)
    port = makerd.metrics_port()
    makerd.wait_for(r"orders=[1-9]")

    before = ctl(state, "status")
    paused = ctl(state, "pause")
    emptied_s = wait_until(lambda: open_orders(state) == 0, timeout_s=2, process=makerd)
    placed_while_paused = orders_placed(port)
    for _ in range(3):  # a second and a half of quote cycles, all paused
        makerd.wait_for(r"orders=0 .*state=paused")
    still_paused = status(state)
    placed_after_wait = orders_placed(port)
    resumed = ctl(state, "resume")
    wait_until(lambda: open_orders(state) > 0, timeout_s=5, process=makerd)
    placed_before_cancel = orders_placed(port)
    cancelled = ctl(state, "cancel-all")
    wait_until(lambda: orders_placed(port) > placed_before_cancel, timeout_s=5, process=makerd)
    wait_until(lambda: open_orders(state) > 0, timeout_s=5, process=makerd)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert before.code == EXIT_OK, before.stderr
    assert before.answer is not None
    assert (before.answer["mode"], before.answer["coin"]) == ("sim", "BTC")
    assert before.answer["open_orders"]["makerd"] > 0
    assert before.answer["trading_state"] == "normal"
    assert before.answer["risk"]["limits"]["max_position"] == "0.05"
    with sqlite3.connect(state / "journal.sqlite") as db:
        [(session, mode, coin)] = list(db.execute("SELECT id, mode, coin FROM sessions"))
    assert (before.answer["session"], before.answer["mode"], before.answer["coin"]) == (
        session,
        mode,
        coin,
    )
    assert paused.code == EXIT_OK, paused.stderr
    assert paused.answer is not None
    assert paused.answer["paused"] is True
    assert paused.answer["cancelled"] > 0
    print(f"\npause: 0 open orders {emptied_s:.2f} s after the answer")
    assert placed_after_wait == placed_while_paused, "nothing placed while paused"
    assert still_paused["trading_state"] == "paused"
    assert still_paused["open_orders"]["makerd"] == 0
    assert resumed.code == EXIT_OK
    assert resumed.answer is not None
    assert resumed.answer["paused"] is False
    assert cancelled.code == EXIT_OK
    assert cancelled.answer is not None
    assert cancelled.answer["cancelled"] > 0
    assert "quoting continues" in cancelled.answer["message"]
    assert [(command, ok) for command, ok, _ in operator_commands(state)] == [
        ("pause", 1),
        ("resume", 1),
        ("cancel-all", 1),
    ]
    assert not (state / "control.sock").exists(), "removed at stop"


def test_flatten_closes_the_position_and_stays_paused(tmp_path: Path) -> None:
    makerd, state = start(tmp_path, sim={"scenario": "volatile"})
    makerd.wait_for(r"orders=[1-9]")
    wait_until(lambda: position(state) != 0, timeout_s=30, process=makerd)

    flattened = ctl(state, "flatten")
    flat_s = wait_until(lambda: position(state) == 0, timeout_s=5, process=makerd)
    makerd.wait_for(r"orders=0 .*pos=-?0\.?0* .*state=paused")
    after = status(state)
    os.chmod(state / "control.sock", 0o666)
    loose = ctl(state, "status")
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert flattened.code == EXIT_OK, flattened.stderr
    answer = flattened.answer
    assert answer is not None
    assert answer["paused"] is True
    assert "paused until `makerd ctl resume`" in answer["message"]
    if Decimal(answer["position"]) != 0:
        order = answer["flatten_order"]
        assert order["reduce_only"] is True
        assert Decimal(order["size"]) == abs(Decimal(answer["position"]))
    print(f"\nflatten: position 0 after {flat_s:.2f} s")
    assert after["trading_state"] == "paused"
    assert Decimal(after["position"]) == 0
    final = [line for line in makerd.text.splitlines() if line.startswith("final position")]
    assert Decimal(final[-1].split()[-1]) == 0, "the session summary agrees"
    assert loose.code == EXIT_REFUSED
    assert "mode 0666" in loose.stderr
    [(command, ok, detail)] = operator_commands(state)
    assert (command, ok) == ("flatten", 1)
    assert "paused until" in detail


def test_ctl_without_a_running_makerd_says_so(tmp_path: Path) -> None:
    missing = ctl(tmp_path / "nothing-here", "status")
    leave_a_stale_socket(tmp_path / "crashed")
    stale = ctl(tmp_path / "crashed", "pause")

    assert missing.code == EXIT_NOT_RUNNING
    assert "no makerd is running" in missing.stderr
    assert stale.code == EXIT_NOT_RUNNING
    assert "did not stop cleanly" in stale.stderr


def test_a_pause_outlives_a_restart_until_resumed(tmp_path: Path) -> None:
    first, state = start(tmp_path)
    first.wait_for(r"orders=[1-9]")
    paused = ctl(state, "pause")
    first.signal(signal.SIGTERM)
    first_code = first.finish()

    second, _ = start(tmp_path)  # as a service manager would restart it
    for _ in range(4):  # two seconds of quote cycles after the restart, all paused
        second.wait_for(r"orders=0 .*state=paused")
    after_restart = status(state)
    resumed = ctl(state, "resume")
    wait_until(lambda: open_orders(state) > 0, timeout_s=5, process=second)
    second.signal(signal.SIGTERM)

    assert paused.code == EXIT_OK, paused.stderr
    assert first_code == EXIT_OK, first.text
    assert after_restart["paused"] is True
    assert after_restart["open_orders"]["makerd"] == 0
    assert "event=started_paused" in second.text
    assert resumed.code == EXIT_OK, resumed.stderr
    assert second.finish() == EXIT_OK, second.text
    assert not (state / "paused").exists(), "a resume removes the pause for good"


def test_with_several_coins_every_coin_answers_a_command(tmp_path: Path) -> None:
    makerd, state = start(tmp_path, coins=["BTC", "ETH"])
    makerd.wait_for(r"orders=[1-9]")

    paused = ctl(state, "pause")
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert paused.code == EXIT_OK, paused.stderr
    answer = paused.answer
    assert answer is not None
    coins = answer["coins"]
    assert isinstance(coins, dict)
    assert sorted(coins) == ["BTC", "ETH"], "not the first coin's answer alone"
    assert all(coin["paused"] is True for coin in coins.values())
    assert "BTC: paused" in answer["message"]
    assert "ETH: paused" in answer["message"]
