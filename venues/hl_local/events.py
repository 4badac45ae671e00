"""What the exchange core reports to the WebSocket hub after each action or tick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdated:
    """A user's order changed status (or filled partly); ``order`` is a wire snapshot."""

    user: str
    order: JsonDict
    status: str
    ms: int

    def payload(self) -> JsonDict:
        """The item of an ``orderUpdates`` push."""
        return {"order": self.order, "status": self.status, "statusTimestamp": self.ms}


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFilled:
    """One side of a trade, as the user's ``userFills`` entry."""

    user: str
    fill: JsonDict


@dataclass(frozen=True, slots=True, kw_only=True)
class TradePrinted:
    """A trade on the public tape."""

    coin: str
    trade: JsonDict


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFunded:
    """A funding payment to (or from) a user, as its ``userFundings`` entry."""

    user: str
    funding: JsonDict


VenueEvent = OrderUpdated | UserFilled | TradePrinted | UserFunded
