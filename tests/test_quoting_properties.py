"""Quoting invariants for any book, inventory and parameters, checked through legalize.

Every model is built through the registry, quoted, and passed through
:func:`quoting.legalize.legalize` with an instrument of 0..5 size decimals and a mid
between 0.001 and 100 000 — what the order manager would actually send.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from makerd.protocol.instrument import Instrument
from makerd.protocol.side import Side
from makerd.quoting.avellaneda_stoikov import optimal_spread
from makerd.quoting.base import QuoteInputs, QuoteModel, RawLadder
from makerd.quoting.legalize import LegalQuotes, legalize
from makerd.quoting.registry import build_model

PROPERTY = settings(max_examples=150, deadline=None, database=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Market:
    instrument: Instrument
    best_bid: Decimal | None
    best_ask: Decimal | None
    inputs: QuoteInputs


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(math.log10(low), math.log10(high)).map(lambda exponent: 10.0**exponent)


@st.composite
def markets(draw: st.DrawFn, *, allow_empty_side: bool = True) -> Market:
    sz_decimals = draw(st.integers(0, 5))
    instrument = Instrument(
        coin="BTC" if sz_decimals == 5 else "X", asset_id=0, sz_decimals=sz_decimals
    )
    # At least 1000 ticks in the price, as for any listed coin (a 0.001 coin with five size
    # decimals could not be quoted at all: its tick would be 0.1).
    low = max(0.001, 1000 * 10.0 ** (sz_decimals - instrument.max_decimals))
    raw_mid = Decimal(repr(draw(_log_uniform(low, 100_000.0))))
    tick = instrument.tick_at(raw_mid)
    half_ticks = draw(st.integers(1, 20))
    best_bid: Decimal | None = instrument.round_price(raw_mid - half_ticks * tick, Side.BUY)
    best_ask: Decimal | None = instrument.round_price(raw_mid + half_ticks * tick, Side.SELL)
    if allow_empty_side:
        emptied = draw(st.sampled_from(["none", "none", "none", "bid", "ask"]))
        best_bid = None if emptied == "bid" else best_bid
        best_ask = None if emptied == "ask" else best_ask
    mid = float((best_bid + best_ask) / 2) if best_bid and best_ask else float(raw_mid)
    max_inventory = draw(_log_uniform(10.0, 100_000.0)) / mid
    inputs = QuoteInputs(
        mid=mid,
        best_bid=float(best_bid) if best_bid else None,
        best_ask=float(best_ask) if best_ask else None,
        bid_size_top=draw(st.floats(0.0, 100.0)),
        ask_size_top=draw(st.floats(0.0, 100.0)),
        inventory=draw(st.floats(-1.5, 1.5)) * max_inventory,
        max_inventory=max_inventory,
        volatility=draw(st.sampled_from([0.0, 1e-5, 1e-4, 5e-4, 3e-3])),
        margin_use=draw(st.floats(0.0, 1.0)),
        tick_size=float(tick) if draw(st.booleans()) else None,
    )
    return Market(instrument=instrument, best_bid=best_bid, best_ask=best_ask, inputs=inputs)


def _common(draw: st.DrawFn, order_size: float) -> dict[str, object]:
    return {
        "levels": draw(st.integers(1, 5)),
        "order_size": order_size,
        "size_decay": draw(st.floats(0.3, 1.0)),
        "price_skew_bps": draw(st.floats(0.0, 20.0)),
        "size_skew": draw(st.floats(0.0, 1.0)),
        "one_sided_at": draw(st.floats(0.3, 1.0)),
        "margin_urgency": draw(st.floats(0.0, 2.0)),
        "microprice_weight": draw(st.floats(0.0, 1.0)),
        "imbalance_shift_bps": draw(st.floats(0.0, 5.0)),
    }


@st.composite
def model_specs(draw: st.DrawFn, mid: float, lot: float) -> tuple[str, dict[str, object]]:
    # A configured size below one lot is refused at start-up, so models never see one; a
    # size worth less than the minimum order is refused by legalize (its own test says so),
    # so the first level is worth $25 or more: what an operator sizes a ladder at.
    order_size = max(3 * lot, draw(_log_uniform(25.0, 10_000.0)) / mid)
    common = _common(draw, order_size)
    name = draw(
        st.sampled_from(
            ["avellaneda_stoikov", "glft", "geometric_ladder", "linear_ladder", "grid", "symmetric"]
        )
    )
    specific: dict[str, object]
    if name in {"avellaneda_stoikov", "glft"}:
        specific = {
            "gamma": draw(_log_uniform(1e-4, 10.0)),
            "kappa_per_bps": draw(_log_uniform(1e-3, 100.0)),
            "level_spacing_bps": draw(st.floats(0.5, 20.0)),
        }
        if name == "glft":
            specific["arrival_a_per_s"] = draw(_log_uniform(1e-3, 1e3))
        else:
            specific["horizon_s"] = draw(st.floats(0.0, 3_600.0))
    elif name == "geometric_ladder":
        nearest = draw(st.floats(0.5, 20.0))
        specific = {
            "unit": draw(st.sampled_from(["bps", "ticks"])),
            "min_distance": nearest,
            "max_distance": nearest * draw(st.floats(1.0, 10.0)),
            "reference_volatility_bps": draw(st.sampled_from([0.0, 0.5, 2.0])),
        }
    elif name == "linear_ladder":
        specific = {
            "unit": draw(st.sampled_from(["bps", "ticks"])),
            "base_distance": draw(st.floats(0.5, 20.0)),
            "level_step": draw(st.floats(0.5, 20.0)),
            "volatility_multiplier": draw(st.floats(0.0, 3.0)),
        }
    elif name == "grid":
        specific = {
            "unit": draw(st.sampled_from(["bps", "ticks"])),
            "step": draw(st.floats(1.0, 20.0)),
            "min_distance": draw(st.floats(0.0, 10.0)),
        }
    else:
        del common["price_skew_bps"], common["size_skew"], common["margin_urgency"]
        specific = {
            "first_level_bps": draw(st.floats(0.5, 20.0)),
            "level_spacing_bps": draw(st.floats(0.0, 20.0)),
            "inventory_skew_bps": draw(st.floats(0.0, 20.0)),
        }
    return name, {**common, **specific}


@st.composite
def scenarios(draw: st.DrawFn, *, allow_empty_side: bool = True) -> tuple[Market, QuoteModel]:
    market = draw(markets(allow_empty_side=allow_empty_side))
    name, params = draw(model_specs(market.inputs.mid, float(market.instrument.lot)))
    return market, build_model(name, params)


def _legal(market: Market, ladder: RawLadder) -> LegalQuotes:
    return legalize(ladder, market.instrument, best_bid=market.best_bid, best_ask=market.best_ask)


def _assert_exchange_legal(market: Market, legal: LegalQuotes) -> None:
    instrument = market.instrument
    assert "non_finite" not in legal.problems
    for level in (*legal.bids, *legal.asks):
        assert instrument.is_valid_price(level.price), level
        assert instrument.is_valid_size(level.size), level
        assert level.price * level.size >= instrument.min_notional, level
    bid_prices = [level.price for level in legal.bids]
    ask_prices = [level.price for level in legal.asks]
    assert bid_prices == sorted(bid_prices, reverse=True)
    assert ask_prices == sorted(ask_prices)
    if bid_prices and ask_prices:
        assert bid_prices[0] < ask_prices[0]
    if market.best_ask is not None and bid_prices:
        assert bid_prices[0] < market.best_ask  # post-only: never crosses the book
    if market.best_bid is not None and ask_prices:
        assert ask_prices[0] > market.best_bid


def _spread(legal: LegalQuotes) -> Decimal:
    return legal.asks[0].price - legal.bids[0].price


@PROPERTY
@given(scenarios())
def test_every_model_yields_legal_uncrossed_post_only_quotes(
    scenario: tuple[Market, QuoteModel],
) -> None:
    market, model = scenario
    _assert_exchange_legal(market, _legal(market, model.quote(market.inputs)))


@PROPERTY
@given(scenarios(allow_empty_side=False))
def test_a_flat_book_position_is_quoted_on_both_sides(
    scenario: tuple[Market, QuoteModel],
) -> None:
    market, model = scenario
    legal = _legal(market, model.quote(replace(market.inputs, inventory=0.0)))
    assert legal.bids
    assert legal.asks


@PROPERTY
@given(scenarios(), st.floats(0.05, 1.5), st.sampled_from([1, -1]))
def test_long_inventory_lowers_prices_and_shrinks_bids_short_the_mirror(
    scenario: tuple[Market, QuoteModel], ratio: float, sign: int
) -> None:
    market, model = scenario
    flat_inputs = replace(market.inputs, inventory=0.0)
    skewed_inputs = replace(flat_inputs, inventory=sign * ratio * flat_inputs.max_inventory)

    flat_raw, skewed_raw = model.quote(flat_inputs), model.quote(skewed_inputs)
    flat, skewed = _legal(market, flat_raw), _legal(market, skewed_raw)

    # Sizes on the side that would grow the position shrink (compared before legalize,
    # which refuses a level the shrinking took below the minimum order).
    growing, growing_when_flat = (
        (skewed_raw.bids, flat_raw.bids) if sign > 0 else (skewed_raw.asks, flat_raw.asks)
    )
    assert sum(q.size for q in growing) <= sum(q.size for q in growing_when_flat) * (1 + 1e-12)
    # Long: both touches move down (never up); short: up.
    for skewed_side, flat_side in ((skewed.bids, flat.bids), (skewed.asks, flat.asks)):
        if skewed_side and flat_side:
            assert sign * (skewed_side[0].price - flat_side[0].price) <= 0


@PROPERTY
@given(scenarios(allow_empty_side=False), st.floats(0.0, 3e-3), st.floats(0.0, 3e-3))
def test_spread_never_narrows_as_volatility_rises(
    scenario: tuple[Market, QuoteModel], first: float, second: float
) -> None:
    market, model = scenario
    flat = replace(market.inputs, inventory=0.0)
    calm = _legal(market, model.quote(replace(flat, volatility=min(first, second))))
    wild = _legal(market, model.quote(replace(flat, volatility=max(first, second))))
    assert _spread(wild) >= _spread(calm)


@PROPERTY
@given(
    _log_uniform(1e-4, 10.0),
    _log_uniform(1e-4, 10.0),
    _log_uniform(1e-3, 100.0),
    st.floats(0.0, 10.0),
    st.floats(0.01, 3_600.0),
)
def test_avellaneda_stoikov_spread_never_narrows_in_gamma_when_sigma2_tau_kappa2_is_at_least_1(
    gamma_a: float, gamma_b: float, kappa: float, excess: float, tau: float
) -> None:
    # d/dγ [(2/γ)·ln(1 + γ/κ)] ≥ −1/κ², so ψ is non-decreasing in γ iff σ²τ ≥ 1/κ² at worst.
    sigma = math.sqrt((1.0 + excess) / (kappa * kappa * tau))
    low, high = sorted((gamma_a, gamma_b))
    narrow = optimal_spread(gamma=low, sigma=sigma, horizon_s=tau, kappa=kappa)
    wide = optimal_spread(gamma=high, sigma=sigma, horizon_s=tau, kappa=kappa)
    assert wide >= narrow * (1 - 1e-12)


def test_avellaneda_stoikov_spread_narrows_in_gamma_when_there_is_no_volatility() -> None:
    # The counter-example to "spread non-decreasing in γ": with σ = 0, ψ = (2/γ)·ln(1 + γ/κ)
    # falls from 2/κ = 2 (γ → 0) to 2·ln 2 = 1.386 at γ = κ = 1.
    assert optimal_spread(gamma=1.0, sigma=0.0, horizon_s=1.0, kappa=1.0) < optimal_spread(
        gamma=0.01, sigma=0.0, horizon_s=1.0, kappa=1.0
    )


EXTREME_MODELS = st.sampled_from(["avellaneda_stoikov", "glft"])


@PROPERTY
@given(
    market=markets(),
    name=EXTREME_MODELS,
    gamma=st.sampled_from([1e-12, 1e-4, 10.0, 1e6]),
    kappa=st.sampled_from([1e-12, 1e-3, 1e3, 1e12]),
    arrival=st.sampled_from([1e-12, 1.0, 1e12]),
    volatility=st.sampled_from([0.0, 1e-12, 0.5, 10.0]),
    inventory=st.sampled_from([-1e12, -1.0, 0.0, 1.0, 1e12]),
)
def test_extreme_inputs_give_bounded_finite_legal_quotes(
    *,
    market: Market,
    name: str,
    gamma: float,
    kappa: float,
    arrival: float,
    volatility: float,
    inventory: float,
) -> None:
    params: dict[str, object] = {
        "gamma": gamma,
        "kappa_per_bps": kappa,
        "order_size": 100.0 / market.inputs.mid,
        "levels": 3,
    }
    params["arrival_a_per_s" if name == "glft" else "horizon_s"] = arrival
    inputs = replace(market.inputs, volatility=volatility, inventory=inventory)
    ladder = build_model(name, params).quote(inputs)
    for quote in (*ladder.bids, *ladder.asks):
        assert math.isfinite(quote.price)
        assert math.isfinite(quote.size)
        # 500 bps half-spread + 500 bps skew + 5 bps signal + 2 levels · 2 bps, at most.
        assert abs(quote.price / inputs.mid - 1) <= 0.11
    _assert_exchange_legal(market, _legal(market, ladder))
