"""A root supervisor and named groups under it: one group's give-up stays in that group.

OTP nests supervisors as children; here each group is a :class:`Supervisor` of its own,
started after the root and stopped before it, with its own restart intensity. When a
group gives up, its children are stopped by its own supervisor and the caller decides
what that means (makerd: that coin stops quoting, the others go on). Lookups by role go
to whichever supervisor owns the role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pykka

from makerd.supervision.model import ChildInfo
from makerd.supervision.tree import Supervisor


class SupervisorForest:
    """The parts of the :class:`Supervisor` interface a process uses, over several trees."""

    def __init__(self, root: Supervisor, groups: Mapping[str, Supervisor]) -> None:
        self.root = root
        self.groups = dict(groups)
        self._trees = (root, *self.groups.values())

    def start(self) -> None:
        """The root first (the shared children), then each group in order."""
        started: list[Supervisor] = []
        try:
            for tree in self._trees:
                tree.start()
                started.append(tree)
        except BaseException:
            for tree in reversed(started):
                tree.stop()
            raise

    def stop(self) -> list[str]:
        """Each group in reverse order, then the root; the roles that did not stop in time."""
        abandoned: list[str] = []
        for tree in reversed(self._trees):
            abandoned += tree.stop()
        return abandoned

    def ref(self, role: str) -> pykka.ActorRef[Any] | None:
        for tree in self._trees:
            ref = tree.ref(role)
            if ref is not None:
                return ref
        return None

    def which_children(self) -> list[ChildInfo]:
        return [child for tree in self._trees for child in tree.which_children()]

    def report_unresponsive(self, role: str, silent_for_s: float) -> None:
        for tree in self._trees:
            if any(child.role == role for child in tree.which_children()):
                tree.report_unresponsive(role, silent_for_s)
                return

    def wait_until_idle(self, timeout_s: float) -> bool:
        return all(tree.wait_until_idle(timeout_s) for tree in self._trees)

    @property
    def restarts_in_window(self) -> int:
        return sum(tree.restarts_in_window for tree in self._trees)

    @property
    def gave_up(self) -> bool:
        """The root gave up, or every group did: nothing is left to quote."""
        groups = self.groups.values()
        return self.root.gave_up or (bool(self.groups) and all(tree.gave_up for tree in groups))
