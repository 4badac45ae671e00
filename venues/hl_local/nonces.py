"""Hyperliquid's nonce rules, kept per signer (the agent wallet, not its master).

The exchange stores the 100 highest nonces of each signer. A new nonce must be unused,
greater than the smallest stored one once 100 are stored, and lie within
(now − 2 days, now + 1 day). Error texts are the exchange's.
"""

from __future__ import annotations

import bisect

STORED_NONCES = 100
PAST_WINDOW_MS = 2 * 24 * 3600 * 1000
FUTURE_WINDOW_MS = 24 * 3600 * 1000


def nonce_window_error(nonce: int, now_ms: int) -> str | None:
    """The refusal for a nonce outside the time window, checked before the signature."""
    oldest = now_ms - PAST_WINDOW_MS
    newest = now_ms + FUTURE_WINDOW_MS
    if nonce <= oldest:
        return f"Invalid nonce: nonce too low {nonce} < {oldest}"
    if nonce >= newest:
        return f"Invalid nonce: nonce too high {nonce} > {newest}"
    return None


class NonceTracker:
    """The stored nonces of every signer."""

    def __init__(self) -> None:
        self._stored: dict[str, list[int]] = {}

    def use(self, signer: str, nonce: int) -> str | None:
        """Record ``nonce`` for ``signer``; return the refusal text instead if it is not fresh."""
        stored = self._stored.setdefault(signer, [])
        index = bisect.bisect_left(stored, nonce)
        if index < len(stored) and stored[index] == nonce:
            return f"Invalid nonce: duplicate nonce {nonce}"
        if len(stored) >= STORED_NONCES and nonce <= stored[0]:
            return f"Invalid nonce: nonce too low {nonce} < {stored[0]}"
        stored.insert(index, nonce)
        if len(stored) > STORED_NONCES:
            del stored[0]
        return None
