"""Stamps on the way an order action leaves the process, for a latency benchmark.

Nothing is stamped unless a :class:`SendProbe` is given to the venue (a benchmark gives
one; a run never does), so the order path pays one ``is None`` test per stage. Each
stamp names the command it belongs to by the command's ``ts_local``: for a command the
order manager decided on a book, that is the receive time of the WebSocket frame that
carried the book, which is what lets a benchmark measure from that frame to the bytes.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol


class SendStage(Enum):
    TAKEN = "taken"
    """The I/O loop's thread took the command from the thread that decided it."""
    SIGNING = "signing"
    """The action is built and about to be signed."""
    SIGNED = "signed"
    """Signed; the request body is about to be built and sent."""
    WRITTEN = "written"
    """The request's bytes are handed to the socket."""


class SendProbe(Protocol):
    def stamp(self, stage: SendStage, decided_ns: int) -> None:
        """Called on the I/O loop's thread; must return at once."""
        ...
