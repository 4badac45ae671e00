"""Order and trade sides."""

from __future__ import annotations

from enum import Enum


class Side(Enum):
    """Buy (bid, Hyperliquid ``"B"``) or sell (ask, ``"A"``)."""

    BUY = "B"
    SELL = "A"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY
