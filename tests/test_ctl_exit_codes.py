"""`makerd ctl` exits by the kind of answer, never by the wording of its error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from makerd.daemon.control_server import ControlServer
from makerd.daemon.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_REFUSED

STOPPING = {"ok": False, "refused": True, "command": "pause", "error": "makerd is stopping"}
NO_ANSWER = {"ok": False, "command": "pause", "error": "refused-sounding text, but a timeout"}


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
    server = ControlServer(tmp_path, lambda _command, _uid: answer)
    server.open()
    server.start()
    try:
        ctl = subprocess.run(
            [sys.executable, "-m", "makerd", "ctl", "pause", "--state-dir", str(tmp_path)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.stop()

    assert ctl.returncode == code, ctl.stderr
    if code != EXIT_OK:
        assert str(answer["error"]) in ctl.stderr
