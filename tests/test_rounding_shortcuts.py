"""The quoting path's rounding shortcuts give exactly what the plain computation gives:
the same value and the same digits, for prices of every magnitude and sizes of every lot."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from makerd.protocol.instrument import Instrument
from makerd.protocol.side import Side
from makerd.quoting.base import RawLadder, RawQuote
from makerd.quoting.legalize import legalize

INSTRUMENTS = st.builds(
    Instrument,
    coin=st.just("X"),
    asset_id=st.just(0),
    sz_decimals=st.integers(min_value=0, max_value=6),
    max_decimals=st.sampled_from((6, 8)),
)
PRICES = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal(2_000_000), allow_nan=False, places=7
)


def plain_round_price(instrument: Instrument, price: Decimal, side: Side) -> Decimal:
    """Round, then round again at the rounded price's magnitude, as the rules are stated."""
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING

    def tick(at: Decimal) -> Decimal:
        return Decimal(1).scaleb(-instrument.price_decimals(at))

    rounded = price.quantize(tick(price), rounding=rounding)
    rounded = rounded.quantize(tick(rounded), rounding=rounding)
    return rounded.to_integral_value() if rounded == rounded.to_integral_value() else rounded


@given(INSTRUMENTS, PRICES, st.sampled_from(Side))
@example(Instrument(coin="X", asset_id=0, sz_decimals=1), Decimal("9999.95"), Side.SELL)
@example(Instrument(coin="X", asset_id=0, sz_decimals=0), Decimal("99999.5"), Side.SELL)
@example(Instrument(coin="X", asset_id=0, sz_decimals=0), Decimal("0.0999995"), Side.SELL)
def test_a_rounded_price_is_the_plain_rounding_digit_for_digit(
    instrument: Instrument, price: Decimal, side: Side
) -> None:
    plain = plain_round_price(instrument, price, side)
    if plain <= 0:
        return  # below the smallest tick: refused either way (tested elsewhere)
    rounded = instrument.round_price(price, side)
    assert (rounded, str(rounded)) == (plain, str(plain))
    assert instrument.tick_at(price) == Decimal(1).scaleb(-instrument.price_decimals(price))
    assert str(instrument.lot) == str(Decimal(1).scaleb(-instrument.sz_decimals))


@given(
    INSTRUMENTS,
    st.lists(
        st.floats(min_value=1e-9, max_value=1e4, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=6,
    ),
)
def test_legalized_sizes_are_the_plain_lot_rounding_of_each_level(
    instrument: Instrument, sizes: list[float]
) -> None:
    # Prices far apart so that no two levels merge, and far from the touch.
    asks = tuple(RawQuote(price=1000.0 * (i + 1), size=size) for i, size in enumerate(sizes))
    for _ in range(2):  # the second time answers from what the first one kept
        legal = legalize(
            RawLadder(bids=(), asks=asks),
            instrument,
            best_bid=None,
            best_ask=None,
        )
        expected = []
        for quote in asks:
            size = Decimal(repr(quote.size)).quantize(instrument.lot, rounding=ROUND_DOWN)
            price = instrument.round_price(Decimal(repr(quote.price)), Side.SELL)
            if size > 0 and size * price >= instrument.min_notional:
                expected.append((price, size, str(size)))
        assert [(q.price, q.size, str(q.size)) for q in legal.asks] == expected
