"""A real systemd for the unit tests: booted as PID 1 in its own namespaces.

systemd runs in new pid, mount, network, UTS and IPC namespaces, chrooted into an overlay
whose lower layer is this machine's root and whose upper layer is a tmpfs: it sees the
installed makerd and the repository, and everything it writes at boot (its tmpfiles
clean-up of /tmp included) lands in memory that disappears with it. The unit under test is
deploy/systemd/makerd.service, byte for byte; the lab only provides what an operator
would: the `makerd` user, /etc/makerd/config.yaml, a credential file and /opt/makerd/venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = Path("/lib/systemd/systemd")
LAB_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
VENV = "/opt/makerd/venv"
NAMESPACES = ("unshare", "--mount", "--pid", "--fork", "--net", "--uts", "--ipc")

BOOT_SCRIPT = """\
set -euo pipefail
mount --make-rprivate /
mount -t tmpfs -o size=4g tmpfs {layers}
mkdir {layers}/upper {layers}/work
mount -t overlay overlay -o lowerdir=/,upperdir={layers}/upper,workdir={layers}/work {root}
mount -t proc proc {root}/proc
mount --rbind /sys {root}/sys
mount --rbind /dev {root}/dev
mount -t tmpfs tmpfs {root}/run
mount -t tmpfs tmpfs {root}/tmp
{setup}
exec chroot {root} {systemd} --system --log-target=console --log-level=notice
"""


def unavailable() -> str | None:
    """Why a real systemd cannot be booted here, or None when it can."""
    if os.geteuid() != 0:
        return "booting systemd in namespaces needs root"
    for tool in ("unshare", "nsenter", "chroot", "useradd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not SYSTEMD.exists():
        return f"{SYSTEMD} is not installed (apt-get install systemd)"
    if not LAB_PYTHON.exists():
        return f"{LAB_PYTHON} (the unit cannot start an interpreter under /root or /tmp) is absent"
    if "overlay" not in Path("/proc/filesystems").read_text(encoding="utf-8"):
        return "the kernel has no overlay filesystem"
    return None


class SystemdLab:
    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._root = workdir / "root"
        self._boot_log = workdir / "boot.log"
        self._launcher: subprocess.Popen[bytes] | None = None
        self.pid = 0

    def boot(self, timeout_s: float = 60.0) -> None:
        """Start systemd and wait until it has finished booting; raise with its log if not."""
        layers = self._workdir / "layers"
        self._root.mkdir()
        layers.mkdir()
        script = BOOT_SCRIPT.format(
            layers=layers, root=self._root, systemd=SYSTEMD, setup=self._setup_commands()
        )
        with self._boot_log.open("wb") as log:
            self._launcher = subprocess.Popen(
                [*NAMESPACES, "bash", "-c", script],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pid = self._find_pid1()
            # "degraded": units unrelated to makerd (prometheus, say) failed in the lab.
            if self.pid and self._system_state() in ("running", "degraded"):
                return
            if self._launcher.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"systemd did not boot:\n{self.boot_log()}")

    def boot_log(self) -> str:
        return self._boot_log.read_text(encoding="utf-8", errors="replace")

    def run(
        self, *argv: str, stdin: str = "", timeout_s: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the lab (its namespaces and its root)."""
        return subprocess.run(
            ["nsenter", "-t", str(self.pid), "-m", "-p", "-n", "-u", "-i", "-r", "-w", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        shown = self.run("systemctl", "show", unit, "-p", ",".join(properties)).stdout
        return dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)

    def journal(self, unit: str, *options: str) -> str:
        return self.run("journalctl", "-u", unit, "--no-pager", "-o", "cat", *options).stdout

    def write(self, path: str, text: str) -> None:
        """Write a file as the operator would (the lab's root exists only in its namespace)."""
        written = self.run("tee", path, stdin=text)
        if written.returncode != 0:
            raise OSError(f"cannot write {path} in the lab: {written.stderr}")

    def shutdown(self) -> None:
        # SIGKILL to a namespace's PID 1 kills every process in it; the mounts go with them.
        if self.pid:
            os.kill(self.pid, 9)
        if self._launcher is not None:
            self._launcher.wait(timeout=30)

    def _system_state(self) -> str:
        return self.run("systemctl", "is-system-running", "--wait").stdout.strip()

    def _find_pid1(self) -> int:
        if self._launcher is None:
            return 0
        children = Path(f"/proc/{self._launcher.pid}/task/{self._launcher.pid}/children")
        try:
            child = children.read_text(encoding="utf-8").split()
        except OSError:
            return 0
        if not child:
            return 0
        comm = Path(f"/proc/{child[0]}/comm").read_text(encoding="utf-8").strip()
        return int(child[0]) if comm == "systemd" else 0

    def _setup_commands(self) -> str:
        """The operator's part: a user, a config, a credential and a virtualenv."""
        site = sysconfig.get_paths()["purelib"]
        lab_site = f"{VENV}/lib/python{sys.version_info.major}.{sys.version_info.minor}"
        entry = Path(sys.prefix) / "bin" / "makerd"
        root = self._root
        return "\n".join(
            [
                f"chroot {root} useradd --system --no-create-home --shell /usr/sbin/nologin makerd",
                f"chroot {root} {LAB_PYTHON} -m venv --without-pip {VENV}",
                f"cp -a {site}/. {root}{lab_site}/site-packages/",
                f"sed '1s|.*|#!{VENV}/bin/python3|' {entry} > {root}{VENV}/bin/makerd",
                f"chmod 0755 {root}{VENV}/bin/makerd",
                f"mkdir -p {root}/etc/makerd/credentials",
                f"cp {ROOT}/config/sim.yaml {root}/etc/makerd/config.yaml",
                "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' | sed 's/^/0x/'"
                f" > {root}/etc/makerd/credentials/private_key",
                f"chmod 0600 {root}/etc/makerd/credentials/private_key",
                f"cp {ROOT}/deploy/systemd/makerd.service {root}/etc/systemd/system/",
            ]
        )
