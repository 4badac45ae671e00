"""What a crowd of scrapers costs a running ``makerd run`` (sim mode, a real process).

Opens STALLED connections to ``/metrics`` that never finish their request, then sends
SCRAPES scrapes at once, and prints: the process's threads with the stalled connections
open, and again once the request timeout has passed; how many scrapes were answered
within 10 s and the slowest; and how long the SIGTERM stop took.
Run: ``python bench/bench_scrapes.py --stalled 300 --scrapes 100``. A benchmark: it
prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from makerd.daemon.metrics_http import REQUEST_TIMEOUT_S


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return -1


def scrape(url: str, seconds: list[float | None]) -> None:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as page:
            page.read()
        seconds.append(time.monotonic() - started)
    except OSError:
        seconds.append(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stalled", type=int, default=300)
    parser.add_argument("--scrapes", type=int, default=100)
    args = parser.parse_args()
    state = tempfile.mkdtemp()
    command = [sys.executable, "-m", "makerd", "run", "--state-dir", state, "--metrics-port", "0"]
    makerd = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert makerd.stdout is not None
    port = 0
    for line in makerd.stdout:
        found = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/", line)
        if found:
            port = int(found.group(1))
            break
    threading.Thread(target=makerd.stdout.read, daemon=True).start()
    time.sleep(1.0)
    before = threads(makerd.pid)
    stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(args.stalled)]
    for connection in stalled:
        connection.sendall(b"GET /metrics HTTP/1.1\r\n")
    time.sleep(0.5)
    with_stalled = threads(makerd.pid)
    seconds: list[float | None] = []
    url = f"http://127.0.0.1:{port}/metrics"
    crowd = [threading.Thread(target=scrape, args=(url, seconds)) for _ in range(args.scrapes)]
    for scraper in crowd:
        scraper.start()
    for scraper in crowd:
        scraper.join()
    time.sleep(REQUEST_TIMEOUT_S + 1.0)
    after_timeout = threads(makerd.pid)
    stopping = time.monotonic()
    makerd.send_signal(signal.SIGTERM)
    code = makerd.wait(timeout=60)
    stop_s = time.monotonic() - stopping
    answered = [s for s in seconds if s is not None]
    print(
        f"threads: {before} idle, {with_stalled} with {args.stalled} stalled connections, "
        f"{after_timeout} after the {REQUEST_TIMEOUT_S:g} s request timeout"
    )
    print(
        f"scrapes: {len(answered)}/{args.scrapes} answered within 10 s, "
        f"slowest {max(answered, default=0):.2f} s"
    )
    print(f"stop: exit {code} after {stop_s:.2f} s")
    for connection in stalled:
        connection.close()


if __name__ == "__main__":
    main()
