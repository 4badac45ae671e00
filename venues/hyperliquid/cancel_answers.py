"""A cancel action's answer → one event per cloid it named.

A cancel the venue refused, or left unanswered in a shorter list of statuses, is a
:class:`CancelRejected` (the order may still rest); one it accepted is an
:class:`OrderCancelled` only once the order's every leg is finished, so the user stream
and the answer report it once between them (see :mod:`.state`).
"""

from __future__ import annotations

from collections.abc import Callable

from makerd.protocol.orders import CancelOrders, CancelRejected, OrderCancelled
from makerd.venues.hyperliquid.errors import ExchangeResponse, ItemRejected


def cancel_outcomes(
    command: CancelOrders,
    response: ExchangeResponse,
    *,
    finished: Callable[[str], bool],
    now_ns: int,
) -> list[object]:
    statuses = () if response.error is not None else response.statuses
    out: list[object] = []
    for index, cloid in enumerate(command.cloids):
        status = statuses[index] if index < len(statuses) else None
        if isinstance(status, ItemRejected) or status is None:
            error = status.error if status is not None else response.error
            text = error.message if error is not None else "no answer for this cancel"
            out.append(
                CancelRejected(cloid=cloid, message=text, ts_exchange=now_ns, ts_local=now_ns)
            )
        elif finished(cloid):
            out.append(
                OrderCancelled(
                    cloid=cloid, reason=command.reason, ts_exchange=now_ns, ts_local=now_ns
                )
            )
    return out
