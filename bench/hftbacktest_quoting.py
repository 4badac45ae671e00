"""makerd's default quoting as an hftbacktest strategy: numba njit, no makerd imports.

makerd's default quoting (config/sim.yaml, ``quoting/symmetric.py``) on a 100 ms clock:

- 3 levels a side, the first 3 bps from a reservation price, then every 3 bps;
- 0.002 BTC an order; the reservation price moves 4 bps against a full inventory, and the
  side that would grow the position shrinks in proportion to the inventory;
- past 0.8 of the 0.05 BTC maximum position the growing side is not quoted;
- post-only (GTX) orders, bids rounded down and asks up to the tick, kept one tick behind
  the opposite touch; sizes rounded down to the lot, a zero size not sent;
- a resting order within 2 bps and 25 % of size of a target level is kept (makerd's
  order manager tolerances), any other is cancelled and the target placed anew;
- makerd's adverse-selection guard (``quoting/markout.py``): a fill's markout is the mid 5 s
  later, from our side, in bps; the guard keeps their average weighted by age (a weight
  halves every 30 s). A fill that lost more than 1 bps adds 0.25 to a spread factor (at most
  3) while that average is worse than −1 bps; a fill that did not lose takes 0.25 off; the
  factor's excess over 1 also halves every 120 s. The ladder is stretched about its centre by
  that factor (``--markout-widen-per-loss 0`` = off; ``--markout-adaptive 0`` = makerd's first
  guard, which added 0.25 for every losing fill and never stepped back). A fill is seen as
  the position's change between two wake-ups, at the price its cash change implies.

Left out of makerd's default: the order manager's queue hold (an order resting 5 s tolerates
twice the price tolerance), its wider slack for an order behind its level and its 60 s age
refresh, and the minimum-notional raise (the smallest size sent, 0.0004 BTC, is worth over $10
above $25,000).

When it quotes differs too: this loop wakes on a 100 ms clock and quotes the newest book it
has, so a book waits up to 100 ms for its quote; makerd quotes a book as it arrives when its
mid moved more than the order manager's slack, else at most every 250 ms. With
``requote_on_feed`` 1 the loop wakes on every market-data message instead (at least every
100 ms), as makerd does with ``quoting.refresh_interval_ms: 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

STEP_NS = 100_000_000  # the quoting loop wakes every 100 ms
NEW = 1  # hftbacktest.order.NEW
BUY = 1  # hftbacktest.order.BUY
GTX = 1  # hftbacktest.order.GTX: post-only
LIMIT = 0  # hftbacktest.order.LIMIT
MAX_PENDING = 1024  # fills awaiting their markout; at most one a step, 50 in a 5 s horizon


@dataclass(frozen=True, slots=True, kw_only=True)
class Quoting:
    """makerd's default symmetric ladder and order-manager tolerances (config/sim.yaml)."""

    levels: int = 3
    first_level_bps: float = 3.0
    level_spacing_bps: float = 3.0
    order_size: float = 0.002
    inventory_skew_bps: float = 4.0
    one_sided_at: float = 0.8
    max_position: float = 0.05
    price_tolerance_bps: float = 2.0
    size_tolerance: float = 0.25
    # makerd's adverse-selection guard (quoting/markout.py); --markout-widen-per-loss 0 = off
    markout_horizon_s: float = 5.0
    markout_loss_bps: float = 1.0
    markout_widen_per_loss: float = 0.25
    markout_max_widening: float = 3.0
    markout_recovery_halflife_s: float = 120.0
    markout_halflife_s: float = 30.0
    markout_adaptive: float = 1.0  # 0: makerd's first guard (no average, no step back)
    # 1: wake on every market-data message (at most 100 ms apart), not on the 100 ms clock
    requote_on_feed: float = 0.0


@njit  # type: ignore[untyped-decorator]
def market_make(
    hbt: Any, quoting: np.ndarray[Any, Any], fills: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """Quote every 100 ms (or on every market-data message) until the data ends; ``quoting``
    is ``Quoting``'s fields in order. Each fill seen goes into a row of ``fills`` while rows
    are left: [local time, +1 buy / -1 sell, price, size] (see ``_log_fill``)."""
    levels = int(quoting[0])
    on_feed = quoting[16] > 0
    max_position, tolerance_bps = quoting[6], quoting[7]
    next_id = 1
    steps = 0
    mid = np.nan
    max_abs = 0.0
    # [bid/ask, level, (price tick, size, still wanted)]
    targets = np.zeros((2, levels, 3), np.float64)
    # [count, widening excess over 1, last time, last position, last balance, weighted
    # markout sum, its weight, rows of ``fills`` written], then fills awaiting their
    # markout as [sign, price, due time]
    guard = np.zeros(8, np.float64)
    pending = np.zeros((MAX_PENDING, 3), np.float64)
    while _wake(hbt, on_feed):
        steps += 1
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        if np.isnan(depth.best_bid) or np.isnan(depth.best_ask):
            continue
        mid = (depth.best_bid_tick + depth.best_ask_tick) * depth.tick_size / 2.0
        state = hbt.state_values(0)
        max_abs = max(max_abs, abs(state.position))
        ratio = min(1.0, max(-1.0, state.position / max_position))
        _log_fill(hbt, guard, fills)  # before _widening moves the last position on
        factor = _widening(hbt, guard, pending, mid, quoting)
        _set_targets(depth, ratio, factor, quoting, targets)
        tolerance_ticks = tolerance_bps * 1e-4 * mid / depth.tick_size
        _keep_or_cancel(hbt, targets, tolerance_ticks, quoting[8])
        next_id = _place(hbt, targets, depth.tick_size, next_id)
    state = hbt.state_values(0)
    return np.array(
        [
            state.position,
            state.balance,
            state.fee,
            state.num_trades,
            state.trading_volume,
            state.trading_value,
            mid,
            max_abs,
            steps,
            guard[7],
        ]
    )


@njit  # type: ignore[untyped-decorator]
def _wake(hbt: Any, on_feed: bool) -> bool:
    """Wait for the next quoting instant; False once the data has ended."""
    if not on_feed:
        return bool(hbt.elapse(STEP_NS) == 0)
    code = hbt.wait_next_feed(False, STEP_NS)  # 0: timed out, 2: a market-data message
    return bool(code in (0, 2))  # numba: a tuple, not a set


@njit  # type: ignore[untyped-decorator]
def _log_fill(hbt: Any, guard: np.ndarray[Any, Any], fills: np.ndarray[Any, Any]) -> None:
    """A fill seen since the last wake-up, as ``_widening`` sees it, into the next free row."""
    state = hbt.state_values(0)
    traded = state.position - guard[3]
    written = int(guard[7])
    if abs(traded) > 1e-12 and written < fills.shape[0]:
        fills[written, 0] = float(hbt.current_timestamp)
        fills[written, 1] = 1.0 if traded > 0 else -1.0
        fills[written, 2] = -(state.balance - guard[4]) / traded
        fills[written, 3] = abs(traded)
        guard[7] = written + 1


@njit  # type: ignore[untyped-decorator]
def _widening(
    hbt: Any,
    guard: np.ndarray[Any, Any],
    pending: np.ndarray[Any, Any],
    mid: float,
    quoting: np.ndarray[Any, Any],
) -> float:
    """makerd's adverse-selection guard: the spread factor (≥ 1) now.

    A fill is seen as the change of position since the last wake-up, at the price its cash
    change implies (two fills on opposite sides in between count as their net)."""
    horizon_s, loss_bps, widen, max_widening, halflife_s = quoting[9:14]
    markout_halflife_s, adaptive = quoting[14], quoting[15] > 0
    state = hbt.state_values(0)
    now = float(hbt.current_timestamp)
    count = int(guard[0])
    traded = state.position - guard[3]
    if abs(traded) > 1e-12 and count < MAX_PENDING:
        pending[count, 0] = 1.0 if traded > 0 else -1.0
        pending[count, 1] = -(state.balance - guard[4]) / traded
        pending[count, 2] = now + horizon_s * 1e9
        count += 1
    guard[3], guard[4] = state.position, state.balance
    if guard[2] > 0:
        elapsed_s = (now - guard[2]) / 1e9
        guard[1] *= 0.5 ** (elapsed_s / halflife_s)
        guard[5] *= 0.5 ** (elapsed_s / markout_halflife_s)
        guard[6] *= 0.5 ** (elapsed_s / markout_halflife_s)
    guard[2] = now
    kept = 0
    for i in range(count):
        if pending[i, 2] > now:
            pending[kept] = pending[i]
            kept += 1
            continue
        markout_bps = pending[i, 0] * (mid - pending[i, 1]) / pending[i, 1] * 1e4
        guard[5] += markout_bps
        guard[6] += 1.0
        adverse = guard[5] < -loss_bps * guard[6]
        if markout_bps < -loss_bps:
            if adverse or not adaptive:
                guard[1] = min(max_widening - 1.0, guard[1] + widen)
        elif adaptive:
            guard[1] = max(0.0, guard[1] - widen)
    guard[0] = kept
    return float(1.0 + guard[1])


@njit  # type: ignore[untyped-decorator]
def _set_targets(
    depth: Any,
    ratio: float,
    factor: float,
    quoting: np.ndarray[Any, Any],
    targets: np.ndarray[Any, Any],
) -> None:
    """makerd's symmetric ladder, widened by ``factor`` about its centre as makerd does,
    then made legal: on the tick, behind the opposite touch, on the lot."""
    first_bps, spacing_bps, order_size, skew_bps, one_sided_at = quoting[1:6]
    tick = depth.tick_size
    lot = depth.lot_size
    mid = (depth.best_bid_tick + depth.best_ask_tick) * tick / 2.0
    reservation = mid * (1.0 - ratio * skew_bps * 1e-4)
    sizes = (order_size * (1.0 - max(ratio, 0.0)), order_size * (1.0 + min(ratio, 0.0)))
    bids_on, asks_on = ratio < one_sided_at, ratio > -one_sided_at
    inner = first_bps * 1e-4
    centre = reservation
    if not asks_on:
        centre = max(mid, reservation * (1.0 - inner))
    elif not bids_on:
        centre = min(mid, reservation * (1.0 + inner))
    for level in range(targets.shape[1]):
        offset = (first_bps + level * spacing_bps) * 1e-4
        bid = centre + (reservation * (1.0 - offset) - centre) * factor
        ask = centre + (reservation * (1.0 + offset) - centre) * factor
        targets[0, level, 0] = min(math.floor(bid / tick + 1e-9), depth.best_ask_tick - 1)
        targets[1, level, 0] = max(math.ceil(ask / tick - 1e-9), depth.best_bid_tick + 1)
        for side in range(2):
            targets[side, level, 1] = math.floor(sizes[side] / lot + 1e-9) * lot
        targets[0, level, 2] = bids_on and targets[0, level, 1] > 0.0
        targets[1, level, 2] = asks_on and targets[1, level, 1] > 0.0


@njit  # type: ignore[untyped-decorator]
def _keep_or_cancel(
    hbt: Any,
    targets: np.ndarray[Any, Any],
    tolerance_ticks: float,
    size_tolerance: float,
) -> None:
    """A resting order close enough to a wanted level fills it; any other is cancelled."""
    # The order map iterates in hash order, which differs between runs: matching orders
    # to levels in id order keeps a run repeatable.
    orders = hbt.orders(0)
    count = len(orders)
    ids = np.empty(count, np.uint64)
    values = orders.values()
    for i in range(count):
        values.has_next()
        ids[i] = values.get().order_id
    for order_id in np.sort(ids):
        order = orders.get(order_id)
        side = 0 if order.side == BUY else 1
        kept = False
        for level in range(targets.shape[1]):
            tick, size = targets[side, level, 0], targets[side, level, 1]
            if (
                targets[side, level, 2]
                and abs(order.price_tick - tick) <= tolerance_ticks
                and abs(order.leaves_qty - size) <= size_tolerance * size
            ):
                targets[side, level, 2] = 0.0
                kept = True
                break
        if not kept and order.status == NEW and order.cancellable:
            hbt.cancel(0, order.order_id, False)


@njit  # type: ignore[untyped-decorator]
def _place(
    hbt: Any,
    targets: np.ndarray[Any, Any],
    tick: float,
    next_id: int,
) -> int:
    """Send a post-only order for every level still wanted; returns the next order id."""
    for side in range(2):
        for level in range(targets.shape[1]):
            if not targets[side, level, 2]:
                continue
            price = targets[side, level, 0] * tick
            size = targets[side, level, 1]
            if side == 0:
                hbt.submit_buy_order(0, next_id, price, size, GTX, LIMIT, False)
            else:
                hbt.submit_sell_order(0, next_id, price, size, GTX, LIMIT, False)
            next_id += 1
    return next_id
