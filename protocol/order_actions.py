"""The kinds of order action a venue answers one by one, for measuring and modelling latency."""

from __future__ import annotations

from enum import Enum

from makerd.protocol.orders import CancelAll, CancelOrders, ModifyOrders, PlaceOrders, SweepOrders


class ActionKind(Enum):
    PLACE = "place"
    MODIFY = "modify"
    CANCEL = "cancel"


def action_kind(command: object) -> ActionKind | None:
    """The kind of order action ``command`` is; None for anything else (queries, the
    dead-man switch)."""
    if isinstance(command, PlaceOrders):
        return ActionKind.PLACE
    if isinstance(command, ModifyOrders):
        return ActionKind.MODIFY
    if isinstance(command, CancelOrders | CancelAll | SweepOrders):
        return ActionKind.CANCEL
    return None
