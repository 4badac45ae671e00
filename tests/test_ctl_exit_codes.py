"""`makerd ctl` exits by the kind of answer, never by the wording of its error."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.control_desk import applied_answer, coins_answer
from makerd.daemon.control_server import ControlServer
from makerd.daemon.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_POSITION_LEFT, EXIT_REFUSED
from makerd.protocol.control import OperatorAction, OperatorCommandApplied
from makerd.protocol.orders import OrderRequest, TimeInForce
from makerd.protocol.side import Side
from tests.kit import operator_applied

STOPPING = {"ok": False, "refused": True, "command": "pause", "error": "makerd is stopping"}
NO_ANSWER = {"ok": False, "command": "pause", "error": "refused-sounding text, but a timeout"}


def ctl_answered(
    state: Path, command: str, answer: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    """``makerd ctl COMMAND`` as its own process, against a control socket whose every
    answer is ``answer``."""
    server = ControlServer(state, lambda _command, _uid: answer)
    server.open()
    server.start()
    try:
        return subprocess.run(
            [sys.executable, "-m", "makerd", "ctl", command, "--state-dir", str(state)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"ok": True, "command": "pause"}, EXIT_OK),
        (STOPPING, EXIT_REFUSED),
        (NO_ANSWER, EXIT_FAILURE),
    ],
    ids=["done", "refused", "failed"],
)
def test_ctl_exits_by_the_kind_of_answer(
    tmp_path: Path, answer: dict[str, object], code: int
) -> None:
    ctl = ctl_answered(tmp_path, "pause", answer)

    assert ctl.returncode == code, ctl.stderr
    if code != EXIT_OK:
        assert str(answer["error"]) in ctl.stderr


def _flatten_applied(coin: str, position: str, *, closing: bool) -> OperatorCommandApplied:
    """A coin's order_manager's answer to a flatten: a closing order sent, or none could be."""
    order = OrderRequest(
        cloid="0x" + "ab" * 16,
        coin=coin,
        side=Side.SELL,
        price=Decimal(58000),
        size=Decimal(position),
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        reduce_only=True,
    )
    return dataclasses.replace(
        operator_applied(OperatorAction.FLATTEN, coin=coin),
        position=Decimal(position),
        flatten_order=order if closing else None,
    )


def test_a_flatten_that_could_send_no_closing_order_exits_86_naming_the_position(
    tmp_path: Path,
) -> None:
    """It used to exit 0: a script running ``makerd ctl flatten && ...`` went on as if flat
    while 0.004 BTC stayed open (no mark heard since a restart, or less than one lot)."""
    ctl = ctl_answered(
        tmp_path, "flatten", applied_answer(_flatten_applied("BTC", "0.004", closing=False))
    )

    assert ctl.returncode == EXIT_POSITION_LEFT, ctl.stderr
    assert "position left open: BTC 0.004 (no closing order could be sent)" in ctl.stderr


def test_a_flatten_that_sent_its_closing_orders_exits_0(tmp_path: Path) -> None:
    ctl = ctl_answered(
        tmp_path, "flatten", applied_answer(_flatten_applied("BTC", "0.004", closing=True))
    )

    assert ctl.returncode == EXIT_OK, ctl.stderr
    assert "position left open" not in ctl.stderr


def test_with_several_coins_only_the_coin_left_open_is_named(tmp_path: Path) -> None:
    applied = (
        _flatten_applied("BTC", "0.004", closing=True),
        _flatten_applied("ETH", "-0.3", closing=False),
    )
    answer = coins_answer(OperatorAction.FLATTEN, applied, ("BTC", "ETH"), stopping=None)

    ctl = ctl_answered(tmp_path, "flatten", answer)

    assert ctl.returncode == EXIT_POSITION_LEFT, ctl.stderr
    assert "position left open: ETH -0.3 (" in ctl.stderr
    assert "BTC" not in ctl.stderr.split("position left open:")[1]
