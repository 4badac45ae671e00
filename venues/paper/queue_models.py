"""How the queue ahead of our resting order moves when a level shrinks without trades.

The paper engine sees only displayed level sizes and public trades. Trades at our price
always eat the queue ahead of us first (:mod:`venues.paper.queue`); what a model decides
is how much of a level's *other* decrease — cancellations — came from ahead of us.

- ``risk_averse`` (hftbacktest's ``RiskAdverseQueueModel``): cancellations are assumed
  to come from behind us; the queue ahead shrinks only when the level becomes smaller
  than it. The slowest fills: a lower bound on the fill rate.
- ``power_prob`` (hftbacktest's ``ProbQueueModel`` with ``PowerProbQueueFunc``): a
  cancellation of ``c`` lots came from ahead of us with probability
  ``front^n / (front^n + back^n)`` (``front`` ahead of us, ``back`` behind), so the queue
  ahead shrinks by that share of ``c``, and by all of whatever exceeded the size behind
  us. Larger ``n`` puts cancels nearer the end we are closer to.

Estimates are rounded up to the lot: a fill is never larger than the lots that could
really have traded.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Protocol

from makerd.config.model import PaperConfig, QueueModel

ZERO = Decimal(0)


class QueueEstimate(Protocol):
    def after_book(
        self, *, front: Decimal, shown_before: Decimal, shown_now: Decimal, traded: Decimal
    ) -> Decimal:
        """The others' size ahead of us now.

        ``front`` is it before this book (already net of ``traded``, the size traded at
        our price since the previous book); ``shown_before`` and ``shown_now`` are the
        level's displayed sizes in the previous book and this one.
        """
        ...


class RiskAverseQueue:
    def after_book(
        self, *, front: Decimal, shown_before: Decimal, shown_now: Decimal, traded: Decimal
    ) -> Decimal:
        return min(front, shown_now)


class PowerProbQueue:
    def __init__(self, *, power: float, lot: Decimal) -> None:
        self._power = power
        self._lot = lot

    def after_book(
        self, *, front: Decimal, shown_before: Decimal, shown_now: Decimal, traded: Decimal
    ) -> Decimal:
        cancelled = shown_before - shown_now - traded
        if cancelled <= 0:
            return min(front, shown_now)
        # Trades already came off the front; what remains of the old level splits in two.
        back = max(ZERO, shown_before - traded - front)
        share_behind = self._share_behind(float(front), float(back))
        estimate = (
            front - (1 - share_behind) * cancelled + min(ZERO, back - share_behind * cancelled)
        )
        rounded = estimate.quantize(self._lot, rounding=ROUND_CEILING)
        return max(ZERO, min(rounded, shown_now))

    def _share_behind(self, front: float, back: float) -> Decimal:
        weight_front, weight_back = front**self._power, back**self._power
        if weight_front + weight_back == 0:
            return Decimal(1)
        return Decimal(repr(weight_back / (weight_front + weight_back)))


def queue_estimate(config: PaperConfig, lot: Decimal) -> QueueEstimate:
    if config.queue_model is QueueModel.POWER_PROB:
        return PowerProbQueue(power=config.queue_power, lot=lot)
    return RiskAverseQueue()
