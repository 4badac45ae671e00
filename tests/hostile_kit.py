"""Shared by the hostile-input tables: a listener that counts connections, a runner."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.processes import makerd_command

# A throwaway secp256k1 key (any value below the curve order): never funds anything.
VALID_KEY = "0x" + "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"


class ConnectionCounter:
    """A loopback TCP listener standing in for the exchange: it counts who called."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


@dataclass(frozen=True, slots=True)
class Finished:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def run_makerd(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    drop_env: Sequence[str] = ("MAKERD_PRIVATE_KEY", "CREDENTIALS_DIRECTORY"),
    timeout: float = 60.0,
) -> Finished:
    """``python -m makerd ARGS`` to completion; the key variables are never inherited."""
    full_env = {key: value for key, value in os.environ.items() if key not in drop_env}
    full_env.update(env or {})
    completed = subprocess.run(
        makerd_command(args, cwd=cwd),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Finished(completed.returncode, completed.stdout, completed.stderr)
