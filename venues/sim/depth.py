"""Background depth of one side of the synthetic book, in integer ticks and lots.

A side is an array of resting sizes (in lots) indexed by tick distance from its touch.
The array persists from step to step — levels keep their size while the touch moves, so
queue position at a level means something — and is shifted when the mid moves the touch.
Levels exposed by a move start with fresh random size; levels beyond the touch are
sparse, like a real book with gaps.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Lots = npt.NDArray[np.int64]

MAX_OFFSETS = 64
"""How many ticks of depth a side keeps (only the first levels are published)."""

_CHURN_PROBABILITY = 0.08
"""Share of levels whose size changes in one step (new orders and cancels behind the touch)."""

_CHURN_SIGMA = 0.35
_SIZE_SIGMA = 0.8


class DepthSide:
    """Resting size per tick offset from the touch; ``sign`` is -1 for bids, +1 for asks."""

    def __init__(
        self,
        *,
        sign: int,
        touch_index: int,
        rng: np.random.Generator,
        median_lots: float,
        growth: float,
        fill_probability: float,
    ) -> None:
        self.sign = sign
        self.touch_index = touch_index
        self._rng = rng
        self._medians = median_lots * (1.0 + growth * np.arange(MAX_OFFSETS))
        self._fill_probability = fill_probability
        self.lots: Lots = self._fresh(0, MAX_OFFSETS)

    def price_index(self, offset: int) -> int:
        """The price (in ticks) of the level ``offset`` ticks behind the touch."""
        return self.touch_index + self.sign * offset

    def move_touch(self, new_touch_index: int) -> None:
        """Re-anchor at a new touch, keeping every surviving level's size."""
        # Positive when the touch moved towards the other side (a bid up, an ask down).
        inward = (self.touch_index - new_touch_index) * self.sign
        self.touch_index = new_touch_index
        if inward == 0:
            return
        if abs(inward) >= MAX_OFFSETS:
            self.lots = self._fresh(0, MAX_OFFSETS)
        elif inward > 0:
            self.lots = np.concatenate((self._fresh(0, inward), self.lots[:-inward]))
        else:
            kept = self.lots[-inward:]
            self.lots = np.concatenate((kept, self._fresh(kept.size, MAX_OFFSETS)))

    def churn(self) -> None:
        """Resting levels grow and shrink at random (orders arriving and leaving); the touch
        is never left empty, as makers refill it within a step."""
        changing = self._rng.random(MAX_OFFSETS) < _CHURN_PROBABILITY
        factors = np.exp(_CHURN_SIGMA * self._rng.standard_normal(MAX_OFFSETS))
        churned = np.maximum(1, np.rint(self.lots * factors)).astype(np.int64)
        self.lots = np.where(changing & (self.lots > 0), churned, self.lots)
        if self.lots[0] == 0:
            self.lots[0] = self._fresh(0, 1)[0]

    def take(self, lots: int) -> list[tuple[int, int]]:
        """A market order eats ``lots`` from the touch outwards; return (offset, lots) hit."""
        hits: list[tuple[int, int]] = []
        remaining = lots
        for offset in np.flatnonzero(self.lots).tolist():
            traded = min(remaining, int(self.lots[offset]))
            self.lots[offset] -= traded
            hits.append((offset, traded))
            remaining -= traded
            if remaining == 0:
                break
        return hits

    def visible(self, max_levels: int) -> list[tuple[int, int]]:
        """The first ``max_levels`` non-empty levels as (price index, lots), best first."""
        offsets = np.flatnonzero(self.lots)[:max_levels]
        return [
            (self.touch_index + self.sign * offset, lots)
            for offset, lots in zip(offsets.tolist(), self.lots[offsets].tolist(), strict=True)
        ]

    def _fresh(self, start: int, stop: int) -> Lots:
        count = stop - start
        medians = self._medians[start:stop]
        sizes = np.maximum(
            1, np.rint(medians * np.exp(_SIZE_SIGMA * self._rng.standard_normal(count)))
        )
        present = self._rng.random(count) < self._fill_probability
        if start == 0:
            present[0] = True
        return np.where(present, sizes, 0).astype(np.int64)
