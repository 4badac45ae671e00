"""A census of the containers reachable from some roots: how many items each one holds.

Used by the tests that drive many orders or fills through an actor, and by
``bench/bench_state_growth.py`` (the actors on the deterministic driver) and
``bench/bench_memory_growth.py`` (the live daemon, in its own process), to find state that
grows with the length of a run: take a census now and again later, and print each container
whose size grew. A container is named by its path from a root (``order_manager._orders``);
the items of a container are walked too, under one name for all of them
(``fill_tracker._ledger._lots[*]``), and their sizes are summed.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from types import FunctionType, MethodType, ModuleType

SIZED = (dict, list, set, frozenset, deque, tuple, bytearray)
_LEAVES = (str, bytes, int, float, complex, bool, type(None), type, ModuleType, FunctionType)
MAX_DEPTH = 9
MAX_ITEMS_WALKED = 64
"""Items of one container walked further: the first few are enough to name what they
hold, and a grown container must not make the census itself slow."""


def census(roots: Mapping[str, object]) -> Counter[str]:
    """The summed size of every container reachable from ``roots``, by path."""
    sizes: Counter[str] = Counter()
    seen: set[int] = set()
    for name, root in roots.items():
        _walk(root, name, 0, sizes, seen)
    return sizes


def _walk(value: object, path: str, depth: int, sizes: Counter[str], seen: set[int]) -> None:
    if isinstance(value, _LEAVES) or id(value) in seen or depth > MAX_DEPTH:
        return
    seen.add(id(value))
    if isinstance(value, MethodType):
        _walk(value.__self__, path + ".__self__", depth + 1, sizes, seen)
        return
    if isinstance(value, SIZED):
        sizes[path] += len(value)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for index, (key, item) in enumerate(items):
            if index >= MAX_ITEMS_WALKED:
                break
            if isinstance(value, dict):
                _walk(key, path + "{key}", depth + 1, sizes, seen)
            _walk(item, path + "[*]", depth + 1, sizes, seen)
        return
    for name, attribute in _attributes(value):
        _walk(attribute, f"{path}.{name}", depth + 1, sizes, seen)


def _attributes(value: object) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict):
        found.extend(state.items())
    for klass in type(value).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if isinstance(slot, str) and slot not in ("__dict__", "__weakref__"):
                try:
                    found.append((slot, getattr(value, slot)))
                except AttributeError:
                    continue
    return found


def print_growth(samples: list[tuple[str, Counter[str]]], *, top: int) -> None:
    """Each path whose size grew from the first sample to the last, largest growth first,
    with its size at every sample (so a plateau shows as such)."""
    first, last = samples[0][1], samples[-1][1]
    grown = sorted(
        (path for path in last if last[path] > first.get(path, 0)),
        key=lambda path: last[path] - first.get(path, 0),
        reverse=True,
    )
    print(f"containers that grew from {samples[0][0]} to {samples[-1][0]}: {len(grown)}")
    header = "  ".join(f"{when:>9}" for when, _ in samples)
    print(f"{header}  path")
    for path in grown[:top]:
        row = "  ".join(f"{sizes.get(path, 0):>9}" for _, sizes in samples)
        print(f"{row}  {path}")


def large_containers(objects: list[object], *, minimum: int) -> Counter[str]:
    """The containers of at least ``minimum`` items held by an attribute of any of
    ``objects`` (``gc.get_objects()``), by owner's class and attribute name, sizes summed.

    Found through their owners because the garbage collector does not list a dict whose
    values are all atomic (``dict[str, None]`` of trade ids), which is what a set of
    seen ids often is.
    """
    sizes: Counter[str] = Counter()
    for owner in objects:
        if isinstance(owner, type | ModuleType | FunctionType):
            continue
        for name, value in _attributes(owner):
            size = _held_size(value)
            if size >= minimum:
                kind = type(owner)
                sizes[f"{kind.__module__}.{kind.__qualname__}.{name}"] += size
    return sizes


def _held_size(value: object) -> int:
    """The items of a container an object may grow (a tuple or bytes it cannot)."""
    if isinstance(value, dict | list | set | frozenset | deque):
        return len(value)
    return 0
