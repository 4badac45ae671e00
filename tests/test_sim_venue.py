"""The sim venue: the synthetic market and the paper exchange on one simulated clock."""

from __future__ import annotations

from decimal import Decimal

from makerd.config.model import PaperConfig, Scenario, SimConfig
from makerd.protocol import (
    BookSnapshotReceived,
    CancelAll,
    CancelReason,
    Liquidity,
    ModifyOrders,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderFilled,
    OrderRequest,
    PlaceOrders,
    Side,
    TradePrinted,
)
from makerd.venues.paper.replies import PaperEvent
from makerd.venues.sim import SimVenue, sim_instrument
from makerd.venues.sim.market import MarketEvent

START_NS = 1_700_000_000_000_000_000
MS = 1_000_000
MINUTE = 60_000 * MS
SIM = SimConfig()
BTC = sim_instrument(SIM)


def venue(sim: SimConfig = SIM) -> SimVenue:
    return SimVenue(BTC, sim=sim, paper=PaperConfig(), start_ns=START_NS)


class BandMaker:
    """Quotes 0.002 at ±3 and ±6 bps around the touch mid; moves a quote once it is 2 bps off."""

    def __init__(self) -> None:
        self.slots: dict[tuple[Side, int], tuple[str, Decimal] | None] = {}
        self.cloid_slot: dict[str, tuple[Side, int]] = {}
        self.fills: list[OrderFilled] = []
        self._next = 0

    def on_events(self, events: list[object]) -> BookSnapshotReceived | None:
        book = None
        for event in events:
            if isinstance(event, BookSnapshotReceived):
                book = event
            elif isinstance(event, OrderFilled):
                self.fills.append(event)
                self.slots[self.cloid_slot[event.cloid or ""]] = None
            elif isinstance(event, OrderCancelled):
                self.slots[self.cloid_slot[event.cloid]] = None
        return book

    def quote(self, book: BookSnapshotReceived, now_ns: int) -> list[PlaceOrders | ModifyOrders]:
        mid = (book.bids[0].price + book.asks[0].price) / 2
        places: list[OrderRequest] = []
        moves: list[OrderAmendment] = []
        for side in Side:
            for bps in (3, 6):
                target = BTC.round_price(mid * (1 - side.sign * Decimal(bps) / 10_000), side)
                resting = self.slots.get((side, bps))
                if resting is None:
                    self._next += 1
                    cloid = f"0x{self._next:032x}"
                    size = Decimal("0.002")
                    places.append(
                        OrderRequest(cloid=cloid, coin="BTC", side=side, price=target, size=size)
                    )
                    self.slots[(side, bps)] = (cloid, target)
                    self.cloid_slot[cloid] = (side, bps)
                elif abs(resting[1] - target) > mid * 2 / 10_000:
                    cloid = resting[0]
                    size = Decimal("0.002")
                    moves.append(OrderAmendment(cloid=cloid, price=target, size=size))
                    self.slots[(side, bps)] = (cloid, target)
        commands: list[PlaceOrders | ModifyOrders] = []
        if places:
            commands.append(PlaceOrders(orders=tuple(places), ts_local=now_ns))
        if moves:
            commands.append(ModifyOrders(amendments=tuple(moves), ts_local=now_ns))
        return commands


def run_maker(
    sim: SimConfig, minutes: int, sim_venue: SimVenue | None = None
) -> tuple[BandMaker, list[object]]:
    sim_venue = sim_venue or venue(sim)
    maker = BandMaker()
    everything: list[object] = []
    for now in range(START_NS, START_NS + minutes * MINUTE + 1, 250 * MS):
        events = sim_venue.advance(now)
        everything += events
        book = maker.on_events(events)
        if book is not None:
            for command in maker.quote(book, now):
                sim_venue.submit(command, now)
    return maker, everything


def test_the_sim_instrument_follows_the_config() -> None:
    instrument = sim_instrument(SimConfig(sz_decimals=3), coin="ETH")

    assert (instrument.coin, instrument.asset_id, instrument.sz_decimals) == ("ETH", 0, 3)


def test_a_band_maker_gets_tens_of_maker_fills_a_minute_in_a_calm_market() -> None:
    maker, _ = run_maker(SIM, minutes=2)

    per_minute = len(maker.fills) / 2
    assert 10 <= per_minute <= 100
    assert all(fill.liquidity is Liquidity.MAKER for fill in maker.fills)


def test_market_data_and_order_events_come_back_interleaved_in_time_order() -> None:
    _, events = run_maker(SIM, minutes=1)

    kinds = {type(event) for event in events}
    assert {BookSnapshotReceived, TradePrinted, OrderAccepted, OrderFilled} <= kinds
    stamped = [event for event in events if isinstance(event, PaperEvent | MarketEvent)]
    assert len(stamped) == len(events)
    times = [event.ts_local for event in stamped]
    assert times == sorted(times)


def test_the_same_config_replays_the_same_session_fill_for_fill() -> None:
    first, _ = run_maker(SIM, minutes=1)
    second, _ = run_maker(SIM, minutes=1)
    other_seed, _ = run_maker(SimConfig(seed=SIM.seed + 1), minutes=1)

    assert first.fills == second.fills
    assert first.fills != other_seed.fills
    assert all(fill.trade_id.startswith(f"sim{START_NS}-") for fill in first.fills)


def test_the_true_mid_is_reported_as_a_decimal_near_the_book() -> None:
    sim_venue = venue(SimConfig(scenario=Scenario.VOLATILE))

    books = [
        e for e in sim_venue.advance(START_NS + 5_000 * MS) if isinstance(e, BookSnapshotReceived)
    ]

    assert isinstance(sim_venue.mid, Decimal)
    assert books[-1].bids[0].price <= sim_venue.mid <= books[-1].asks[0].price


def test_cancel_all_leaves_no_order_resting() -> None:
    sim_venue = venue()
    [book] = [e for e in sim_venue.advance(START_NS) if isinstance(e, BookSnapshotReceived)]
    for command in BandMaker().quote(book, START_NS):
        sim_venue.submit(command, START_NS)
    sim_venue.advance(START_NS + 100 * MS)
    resting = sim_venue.exchange.open_order_count

    cancel_all = CancelAll(coin="BTC", reason=CancelReason.SHUTDOWN, ts_local=START_NS)
    sim_venue.submit(cancel_all, START_NS + 100 * MS)
    events = sim_venue.advance(START_NS + 200 * MS)

    assert resting == 4
    assert sum(isinstance(e, OrderCancelled) for e in events) == 4
    assert sim_venue.exchange.open_order_count == 0


def test_the_position_at_the_venue_is_the_sum_of_the_fills_it_reported() -> None:
    sim_venue = venue(SimConfig(scenario=Scenario.VOLATILE))
    maker, _ = run_maker(SIM, minutes=1, sim_venue=sim_venue)
    end = START_NS + MINUTE
    cancel_all = CancelAll(coin="BTC", reason=CancelReason.SHUTDOWN, ts_local=end)
    sim_venue.submit(cancel_all, end)
    maker.on_events(sim_venue.advance(end + 1_000 * MS))

    reported = sum((fill.side.sign * fill.size for fill in maker.fills), Decimal(0))
    assert len(maker.fills) > 20
    assert sim_venue.exchange.position == reported
    assert sim_venue.exchange.open_order_count == 0
