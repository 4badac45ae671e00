"""A logic's failure after part of its work was done for good, and what announces that part."""

from __future__ import annotations


class HandledInPartError(Exception):
    """A handler failed after part of its work was done for good (a fill on disk).

    ``messages`` announce that part: the actor shell sends them, then fails with
    ``error``, so the restarted incarnation (which rebuilds that part from the truth and
    will not announce it again) leaves nothing unannounced. The deterministic driver has
    no restarts: there the error ends the run.
    """

    def __init__(self, *, messages: tuple[object, ...], error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.messages = messages
        self.error = error
