"""``makerd`` itself, unchanged, with tracemalloc on and snapshots taken on request.

``python bench/traced_makerd.py DIR run ...`` runs ``makerd run ...`` in this process
(the same entry point as ``python -m makerd``) with tracemalloc tracing from the first
import. A helper thread watches ``DIR``: for each file ``NAME.want`` that appears it
collects garbage, writes the tracemalloc snapshot to ``NAME.snap``, a count of live
objects by type to ``NAME.types.json`` and the sizes of the large containers held by any
object's attribute to ``NAME.containers.json``, then removes ``NAME.want``. Used by
``bench_memory_growth.py``; not part of makerd.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.state_census import large_containers

LARGE = 100
"""Containers held by an attribute with at least this many items are counted by name."""
POLL_S = 0.2
FRAMES = 1
"""One frame per allocation: the site (file:line) is what the bench prints, and deeper
tracebacks cost memory and time in every allocation of the traced run."""


def _snapshot(directory: Path, name: str) -> None:
    gc.collect()
    objects = gc.get_objects()
    types = Counter(type(thing).__qualname__ for thing in objects)
    containers = large_containers(objects, minimum=LARGE)
    del objects
    tracemalloc.take_snapshot().dump(str(directory / f"{name}.snap.tmp"))
    (directory / f"{name}.snap.tmp").rename(directory / f"{name}.snap")
    (directory / f"{name}.types.json").write_text(json.dumps(types))
    (directory / f"{name}.containers.json").write_text(json.dumps(containers))


def _serve(directory: Path) -> None:
    pause = threading.Event()  # never set: a timed wait
    while True:
        for wanted in sorted(directory.glob("*.want")):
            _snapshot(directory, wanted.stem)
            wanted.unlink()
        pause.wait(POLL_S)


def main() -> int:
    directory = Path(sys.argv[1])
    sys.argv = ["makerd", *sys.argv[2:]]
    tracemalloc.start(FRAMES)
    threading.Thread(target=_serve, args=(directory,), name="snapshots", daemon=True).start()
    from makerd.daemon.entry import main as makerd_main

    return makerd_main()


if __name__ == "__main__":
    sys.exit(main())
