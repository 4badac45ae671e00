"""Order latencies drawn from a session's measured ones: the draw follows the measurements,
the same seed draws the same, a backtest drawing them stays deterministic, and the command
line states which latency it drew."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.config.model import MakerdConfig, PaperConfig
from makerd.daemon.backtest_latency import LatencySourceError, latency_from, session_latency
from makerd.daemon.journal import Journal
from makerd.daemon.journal_latency import AckLatency
from makerd.daemon.replay import run_replay
from makerd.daemon.session_settings import read_settings
from makerd.protocol import (
    BookLevel,
    BookSnapshotReceived,
    Instrument,
    OrderAccepted,
    OrderFilled,
    OrderRequest,
    PlaceOrders,
    Side,
)
from makerd.protocol.order_actions import ActionKind
from makerd.venues.paper import PaperExchange
from makerd.venues.paper.latency import MeasuredLatency
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.test_backtest import BTC, BTC_RULES, fill_rows, makerd

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
BTC_PAPER = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
PLACES = [1 * MS, 2 * MS, 2 * MS, 3 * MS, 10 * MS]
CANCELS = [500_000, 700_000]


@pytest.fixture(scope="module")
def one_minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "btc.gz"
    write_recording(path, SyntheticRecording(seconds=60, seed=11))
    return path


def test_draws_of_a_kind_follow_that_kind_s_measured_distribution() -> None:
    latency = MeasuredLatency({ActionKind.PLACE: PLACES, ActionKind.CANCEL: CANCELS}, seed=7)

    draws = [latency.draw(ActionKind.PLACE) for _ in range(20_000)]
    round_trips = [legs.entry_ns + legs.ack_ns for legs in draws]

    assert set(round_trips) <= set(PLACES)
    assert all(abs(legs.entry_ns - legs.ack_ns) <= 1 for legs in draws), "half each way"
    counts = Counter(round_trips)
    for value in set(PLACES):
        expected = PLACES.count(value) / len(PLACES)
        assert abs(counts[value] / len(draws) - expected) < 0.02, value
    cancels = {
        sum((d.entry_ns, d.ack_ns)) for d in (latency.draw(ActionKind.CANCEL) for _ in range(200))
    }
    assert cancels == set(CANCELS)


def test_a_kind_never_measured_and_a_query_draw_from_every_measurement() -> None:
    latency = MeasuredLatency({ActionKind.PLACE: PLACES, ActionKind.CANCEL: CANCELS}, seed=1)

    pooled = sorted(PLACES + CANCELS)
    draws = [latency.draw(ActionKind.MODIFY) for _ in range(5_000)]
    draws += [latency.draw(None) for _ in range(5_000)]
    shares = Counter(d.entry_ns + d.ack_ns for d in draws)

    assert set(shares) == set(pooled)
    for value in set(pooled):
        assert abs(shares[value] / len(draws) - pooled.count(value) / len(pooled)) < 0.02
    # What the market causes arrives after half the median round trip.
    assert latency.market_ack_ns == pooled[(len(pooled) + 1) // 2 - 1] // 2
    assert latency.longest_ns == 10 * MS


def test_the_same_seed_draws_the_same_sequence_and_another_does_not() -> None:
    def sequence(seed: int) -> list[int]:
        latency = MeasuredLatency({ActionKind.PLACE: PLACES}, seed=seed)
        return [latency.draw(ActionKind.PLACE).entry_ns for _ in range(200)]

    assert sequence(3) == sequence(3)
    assert sequence(3) != sequence(4)


def test_no_measurement_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="no measured latencies"):
        MeasuredLatency({ActionKind.PLACE: []})


def measured_journal(path: Path, latencies: list[int]) -> int:
    """A journal with a live session that measured ``latencies`` (placements) and a later
    session that measured none; the first one's id."""
    with Journal(path) as journal:
        measured = journal.start_session(mode="live", coin="BTC", ts_ns=0)
        rows = [
            AckLatency(ts_ns=i, coin="BTC", kind=ActionKind.PLACE, latency_ns=ns)
            for i, ns in enumerate(latencies)
        ]
        journal.ack_latencies.record_ack_latencies(measured, rows)
        journal.start_session(mode="live", coin="BTC", ts_ns=1)
        return measured


def test_the_statement_gives_the_session_the_sample_size_and_the_percentiles(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    session = measured_journal(path, [ms * MS for ms in range(1, 11)])
    paper = PaperConfig()

    with Journal(path) as journal:
        measured = session_latency(journal, session, paper)
        none = session_latency(journal, session + 1, paper)
        own_report = read_settings(journal, session).latency
        quiet_report = read_settings(journal, session + 1).latency

    assert measured.statement.startswith(
        f"measured ack latency, session {session}, n=10, p50 5.0 ms, p90 9.0 ms"
    )
    assert none.statement == (
        f"order entry 30 ms, acknowledgement 20 ms (constant): session {session + 1} measured none"
    )
    # The session's own reports add the distribution to their latency line.
    assert own_report.endswith("; measured ack latency n=10, p50 5.0 ms, p90 9.0 ms")
    assert "measured" not in quiet_report
    # The journal alone names its latest session that measured any.
    assert latency_from(str(path), paper).statement == measured.statement
    assert latency_from(f"{path}:{session + 1}", paper).statement == none.statement
    with pytest.raises(LatencySourceError, match="no session 9"):
        latency_from(f"{path}:9", paper)
    with pytest.raises(LatencySourceError, match="no journal at"):
        latency_from(str(tmp_path / "absent.sqlite"), paper)


def test_a_backtest_drawing_measured_latencies_gives_identical_fills_twice(
    one_minute: Path,
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    measured_journal(path, [ms * MS for ms in (1, 2, 2, 3, 5, 8, 40)])
    config = MakerdConfig()

    def replay(name: str) -> list[tuple[str, str, str, str, int, str]]:
        latency = latency_from(str(path), config.paper)
        run_replay(config, [one_minute], instrument=BTC, state_dir=tmp_path / name, latency=latency)
        return fill_rows(tmp_path / name)

    first, second = replay("a"), replay("b")
    run_replay(config, [one_minute], instrument=BTC, state_dir=tmp_path / "constant")

    assert first, "the replay trades"
    assert first == second
    assert first != fill_rows(tmp_path / "constant"), "the drawn latencies change the fills"


def test_the_backtest_command_states_the_latency_it_drew_and_refuses_a_bad_source(
    one_minute: Path,
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    session = measured_journal(path, [2 * MS, 4 * MS])

    drawn = makerd(
        "backtest", str(one_minute), *BTC_RULES, "--state-dir", str(tmp_path / "s"),
        "--latency-from", f"{path}:{session}", cwd=tmp_path,
    )  # fmt: skip
    missing = makerd(
        "backtest", str(one_minute), *BTC_RULES, "--state-dir", str(tmp_path / "m"),
        "--latency-from", str(tmp_path / "nothing.sqlite"), cwd=tmp_path,
    )  # fmt: skip

    assert drawn.returncode == 0, drawn.stderr
    statement = f"measured ack latency, session {session}, n=2, p50 2.0 ms, p90 4.0 ms"
    assert f"fill model: paper matching, queue risk_averse; {statement}" in drawn.stdout
    with Journal(tmp_path / "s" / "journal.sqlite") as journal:
        kept = read_settings(journal, 1).latency
    assert kept.startswith(statement), "every report of the session states it"
    assert missing.returncode == 78
    assert f"--latency-from {tmp_path / 'nothing.sqlite'}: no journal at" in missing.stderr
    assert not (tmp_path / "m" / "journal.sqlite").exists()


def test_the_seed_chosen_with_seed_is_stated_and_the_same_seed_fills_the_same(
    one_minute: Path,
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    session = measured_journal(path, [ms * MS for ms in (1, 2, 2, 3, 5, 8, 40)])

    def backtest(name: str, *seed: str) -> tuple[str, list[tuple[str, str, str, str, int, str]]]:
        done = makerd(
            "backtest", str(one_minute), *BTC_RULES, "--state-dir", str(tmp_path / name),
            "--latency-from", f"{path}:{session}", *seed, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout, fill_rows(tmp_path / name)

    default_said, default_fills = backtest("default")
    first_said, first = backtest("first", "--seed", "5")
    _, second = backtest("second", "--seed", "5")
    reports = tmp_path / "reports"
    makerd(
        "report", "--state-dir", str(tmp_path / "first"), "--report-dir", str(reports), cwd=tmp_path
    )

    assert first, "the replay trades"
    assert first == second, "the same file, journal and seed fill the same"
    assert first != default_fills, "another seed draws other latencies, so other fills"
    assert "half each way; seed 0), feed latency as recorded" in default_said
    assert "half each way; seed 5), feed latency as recorded" in first_said
    summary = json.loads((reports / "summary.json").read_text("utf-8"))
    assert summary["latency"].endswith("half each way; seed 5)"), "its reports state the seed"


def test_a_seed_with_nothing_to_draw_is_refused(one_minute: Path, tmp_path: Path) -> None:
    constant = makerd(
        "backtest", str(one_minute), *BTC_RULES, "--state-dir", str(tmp_path / "s"),
        "--seed", "5", cwd=tmp_path,
    )  # fmt: skip
    not_replayed = makerd("report", "--state-dir", str(tmp_path), "--seed", "5", cwd=tmp_path)
    configured = makerd(
        "report", "--state-dir", str(tmp_path), "--replay", "--configured-latency",
        "--seed", "5", cwd=tmp_path,
    )  # fmt: skip

    assert constant.returncode == 78
    assert "--seed seeds the draws of --latency-from" in constant.stderr
    assert not (tmp_path / "s" / "journal.sqlite").exists()
    assert not_replayed.returncode == 78
    assert "--seed goes with --replay" in not_replayed.stderr
    assert configured.returncode == 78
    assert "with --configured-latency nothing is drawn" in configured.stderr


def test_a_replay_option_without_replay_is_refused_not_ignored(tmp_path: Path) -> None:
    alone = makerd("report", "--state-dir", str(tmp_path), "--configured-latency", cwd=tmp_path)

    assert alone.returncode == 78, alone.stdout + alone.stderr
    assert "--configured-latency goes with --replay" in alone.stderr


def test_the_paper_venue_acts_half_a_drawn_round_trip_late_and_answers_half_later() -> None:
    exchange = PaperExchange(
        BTC_PAPER,
        PaperConfig(),
        id_prefix="t",
        latency=MeasuredLatency({ActionKind.PLACE: [8 * MS]}),
    )
    exchange.on_market(book(T0, bid="60000", ask="60001"))
    exchange.submit(order("a", "59990"), T0)

    before = exchange.advance(T0 + 8 * MS - 1)
    [accepted] = exchange.advance(T0 + 8 * MS)
    exchange.on_market(book(T0 + 100 * MS, bid="59980", ask="59985"))  # through our bid
    [filled] = exchange.advance(T0 + 104 * MS)

    assert before == []
    assert isinstance(accepted, OrderAccepted)
    assert (accepted.ts_exchange, accepted.ts_local) == (T0 + 4 * MS, T0 + 8 * MS)
    assert isinstance(filled, OrderFilled)
    assert (filled.ts_exchange, filled.ts_local) == (T0 + 100 * MS, T0 + 104 * MS)


def book(ts: int, *, bid: str, ask: str) -> BookSnapshotReceived:
    one = Decimal(1)
    return BookSnapshotReceived(
        coin="BTC", bids=(BookLevel(price=Decimal(bid), size=one),),
        asks=(BookLevel(price=Decimal(ask), size=one),), ts_exchange=ts, ts_local=ts,
    )  # fmt: skip


def order(cloid: str, price: str) -> PlaceOrders:
    request = OrderRequest(
        cloid=cloid, coin="BTC", side=Side.BUY, price=Decimal(price), size=Decimal("0.002")
    )
    return PlaceOrders(orders=(request,), ts_local=T0)
