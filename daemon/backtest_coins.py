"""Whether the files to replay hold every coin to replay: a coin listed (``coins:`` or
``--coin``) with no book in them is refused before anything is replayed, not replayed as
"0 books".

The files are read only until every coin has shown a book: at once for coins recorded
together. Only a coin that is missing, or whose data begins late, makes the read longer.
"""

from __future__ import annotations

from pathlib import Path

from makerd.protocol.market import BookSnapshotReceived
from makerd.venues.replay.stream import ReplayStream


def coins_without_books(files: list[Path], coins: tuple[str, ...]) -> tuple[str, ...]:
    """The coins of ``coins`` that no book of ``files`` is about, in ``coins``' order.

    Raises the readers' RecordingError for a file that cannot be read."""
    missing = set(coins)
    wanted = coins[0] if len(coins) == 1 else frozenset(coins)
    for event in ReplayStream(files, coin=wanted):
        if isinstance(event, BookSnapshotReceived) and event.coin in missing:
            missing.discard(event.coin)
            if not missing:
                return ()
    return tuple(coin for coin in coins if coin in missing)


def missing_coins_text(missing: tuple[str, ...], files: list[Path]) -> str:
    """The refusal: which coins have no book, and the files searched for them."""
    named = ", ".join(missing)
    return (
        f"no book of {named} in {', '.join(map(str, files))} (every file searched): "
        f"drop {named} from --coin or the config's coins, or give the files that hold "
        f"{'it' if len(missing) == 1 else 'them'}"
    )
