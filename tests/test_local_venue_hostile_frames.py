"""The local venue's ``malformed_frames`` fault: hostile frames mixed into its own streams.

The venue builds each kind from its real traffic and counts what it wrote, so a client
test compares what the client counted with ``GET /_debug/malformed``. The last test does
to makerd live what tests/test_frame_boundary_e2e.py does through a hand-written proxy.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import eth_account
import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local import VenueConfig, VenueThread
from makerd.venues.hl_local.hostile_frames import HEAVY_KINDS, KINDS_BY_STREAM
from tests.hostile_proxy_kit import MARKET_KINDS, USER_KINDS
from tests.local_venue_kit import ping_and_drain, subscribe
from tests.test_frame_boundary_e2e import BAND, _scrape
from tests.test_hl_live_e2e import Trader, resting, wait_until

TICK_S = 0.1
HOUR_MS = 3_600_000
HUGE_MS = 10**30
LONG = 1_000_000
BOOK = {"type": "l2Book", "coin": "BTC"}
Frame = dict[str, Any]


@pytest.fixture
def venue() -> Iterator[VenueThread]:
    """A venue of its own per test, so every connection and count is the test's."""
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=13, tick_interval_s=TICK_S))
    running.start()
    yield running
    running.stop()


def _socket(venue: VenueThread) -> ClientConnection:
    # No size limit: the heavy kinds are a megabyte each.
    return connect(venue.url.replace("http", "ws", 1) + "/ws", max_size=None)


def _arm(venue: VenueThread, **spec: Any) -> int:
    reply = requests.post(f"{venue.url}/_debug/faults", json={"malformed_frames": spec}, timeout=5)
    assert reply.status_code == 200, reply.text
    count: int = reply.json()["malformed_to_send"]
    return count


def _report(venue: VenueThread) -> dict[str, Any]:
    reply = requests.get(f"{venue.url}/_debug/malformed", timeout=5)
    assert reply.status_code == 200
    report: dict[str, Any] = reply.json()
    return report


def _real_mid(venue: VenueThread) -> Decimal:
    book = requests.post(f"{venue.url}/info", json=BOOK, timeout=5).json()
    return _mid({"data": book})


def _sent_since(before: dict[str, Any], after: dict[str, Any], stream: str) -> Counter[str]:
    delta = Counter(after["sent"]) - Counter(before["sent"])
    return Counter({k.split(":", 1)[1]: n for k, n in delta.items() if k.startswith(stream)})


def _top(frame: Frame, side: int) -> dict[str, Any]:
    level: dict[str, Any] = frame["data"]["levels"][side][0]
    return level


def _mid(frame: Frame) -> Decimal:
    return (Decimal(_top(frame, 0)["px"]) + Decimal(_top(frame, 1)["px"])) / 2


# In order: the first predicate that holds names the kind (a crossed book is also absurd).
MARKET_CHECKS: tuple[tuple[str, Callable[[Frame, Decimal], bool]], ...] = (
    ("unknown_channel", lambda f, _: f["channel"] == "candle"),
    ("missing_fields", lambda f, _: "levels" not in f["data"]),
    ("wrong_coin", lambda f, _: f["data"]["coin"] == "ETH"),
    ("unknown_coin", lambda f, _: f["data"]["coin"] == "NOPE"),
    ("huge_time", lambda f, _: f["data"]["time"] == HUGE_MS),
    ("future_time", lambda f, _: f["data"]["time"] > time.time() * 1000 + HOUR_MS),
    ("zero_price", lambda f, _: _top(f, 0)["px"] == "0"),
    ("long_price", lambda f, _: len(_top(f, 0)["px"]) == LONG),
    ("huge_price", lambda f, _: _top(f, 0)["px"] == "9" * 400),
    ("zero_size", lambda f, _: _top(f, 0)["sz"] == "0"),
    ("crossed_book", lambda f, _: Decimal(_top(f, 0)["px"]) >= Decimal(_top(f, 1)["px"])),
    ("double_price", lambda f, real_mid: _mid(f) > real_mid * Decimal("1.5")),
)


def _market_kind(raw: str | bytes, real_mid: Decimal) -> str | None:
    """The hostile market kind ``raw`` is, or ``None`` for a real frame."""
    if isinstance(raw, bytes):
        assert raw == b"\xff\xfe\x00\x81hostile"
        return "binary"
    if raw.startswith("[["):
        return "deep_json"
    try:
        frame = json.loads(raw)
    except ValueError:
        return "not_json"
    if frame["channel"] not in {"l2Book", "candle"}:
        return None
    return next((kind for kind, holds in MARKET_CHECKS if holds(frame, real_mid)), None)


USER_FILL_CHECKS: tuple[tuple[str, Callable[[dict[str, Any]], bool]], ...] = (
    ("zero_fill_price", lambda fill: fill["px"] == "0"),
    ("zero_fill_size", lambda fill: fill["sz"] == "0"),
    ("huge_fill_time", lambda fill: fill["time"] == HUGE_MS),
    ("long_fill_price", lambda fill: len(fill["px"]) == LONG),
)


def _user_kind(raw: str | bytes, user: str) -> str | None:
    """The hostile user kind ``raw`` is, or ``None`` for a real frame; a frame naming
    another user, or of the market stream, fails the test."""
    if isinstance(raw, bytes):
        assert raw == b"\x80\x81\xfe"
        return "binary"
    try:
        frame = json.loads(raw)
    except ValueError:
        assert raw.startswith('{"channel":"userFills"')
        return "not_json"
    return _user_frame_kind(frame, user)


def _user_frame_kind(frame: Frame, user: str) -> str | None:
    channel, data = frame["channel"], frame["data"]
    assert channel in {"userTwapHistory", "userFills", "orderUpdates", "subscriptionResponse"}
    if channel == "orderUpdates":
        return "zero_order_price" if data[0]["order"]["limitPx"] == "0" else None
    if channel == "subscriptionResponse":
        return None
    assert data["user"] == user
    if channel == "userTwapHistory":
        return "unknown_channel"
    if "fills" not in data:
        return "missing_fields"
    fills = data["fills"]
    return next((kind for kind, holds in USER_FILL_CHECKS if fills and holds(fills[0])), None)


def _read_hostile(
    socket: ClientConnection, count: int, kind_of: Callable[[str | bytes], str | None]
) -> list[str | None]:
    """Every frame (its hostile kind, or ``None`` when real) up to the ``count``-th hostile
    one, then a quiet moment more to see that no further one comes."""
    seen: list[str | None] = []
    while sum(kind is not None for kind in seen) < count:
        seen.append(kind_of(socket.recv(timeout=10)))
    deadline = time.monotonic() + 3 * TICK_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            seen.append(kind_of(socket.recv(timeout=left)))
        except TimeoutError:
            break
    return seen


def _no_pending(venue: VenueThread) -> None:
    wait_until(lambda: _report(venue)["pending"] == 0, timeout_s=10)


def test_the_catalogue_is_the_one_makerd_is_held_to() -> None:
    assert set(KINDS_BY_STREAM["market"]) == set(MARKET_KINDS)
    assert set(KINDS_BY_STREAM["user"]) == set(USER_KINDS)


def test_sixty_frames_of_every_kind_arrive_between_real_books_and_are_counted_by_kind(
    venue: VenueThread,
) -> None:
    with _socket(venue) as socket:
        subscribe(socket, BOOK)
        ping_and_drain(socket)
        real_mid = _real_mid(venue)
        before = _report(venue)

        to_send = _arm(venue, count=60, every_ms=50)
        seen = _read_hostile(socket, 60, lambda raw: _market_kind(raw, real_mid))
        _no_pending(venue)

    hostile = [kind for kind in seen if kind is not None]
    at = [index for index, kind in enumerate(seen) if kind is not None]
    first, last = at[0], at[-1]
    light = {kind for kind in MARKET_KINDS if kind not in HEAVY_KINDS}
    assert to_send == 60
    assert len(hostile) == 60
    assert Counter(hostile) == _sent_since(before, _report(venue), "market")
    assert set(hostile) == light, "every light kind comes round in 60 frames; heavy ones wait"
    assert None in seen[first:last], "real books arrive between the hostile frames"
    assert _report(venue)["pending"] == 0


def test_a_user_stream_gets_only_user_kinds_naming_its_user(venue: VenueThread) -> None:
    user = eth_account.Account.create().address.lower()
    with _socket(venue) as market, _socket(venue) as account:
        subscribe(market, BOOK)
        subscribe(account, {"type": "userFills", "user": user})
        subscribe(account, {"type": "orderUpdates", "user": user})
        ping_and_drain(market)
        ping_and_drain(account)
        real_mid = _real_mid(venue)
        before = _report(venue)

        to_send = _arm(venue, count=24, stream="all")
        on_user = _read_hostile(account, 24, lambda raw: _user_kind(raw, user))
        on_market = _read_hostile(market, 24, lambda raw: _market_kind(raw, real_mid))
        _no_pending(venue)
        after = _report(venue)

    user_kinds = Counter(kind for kind in on_user if kind is not None)
    assert to_send == 2 * 24
    assert user_kinds == Counter({kind: 3 for kind in USER_KINDS if kind not in HEAVY_KINDS})
    assert user_kinds == _sent_since(before, after, "user")
    assert Counter(kind for kind in on_market if kind) == _sent_since(before, after, "market")


def test_an_invalid_malformed_frames_body_answers_400_naming_each_problem(
    venue: VenueThread,
) -> None:
    def problems(spec: Any) -> list[str]:
        body = {"malformed_frames": spec}
        reply = requests.post(f"{venue.url}/_debug/faults", json=body, timeout=5)
        assert reply.status_code == 400, reply.text
        found: list[str] = reply.json()["problems"]
        return sorted(found)

    bad = {"count": -1, "kinds": ["binary", "lasers"], "stream": "sideways", "burst": 0,
           "every_ms": "soon", "colour": "red"}  # fmt: skip
    listed = problems(bad)
    assert len(listed) == 6
    assert listed[:4] == [
        "malformed_frames.burst: expected an integer from 1 to 1000",
        "malformed_frames.colour: unknown key",
        "malformed_frames.count: expected a non-negative integer",
        "malformed_frames.every_ms: expected a number from 1 to 60000",
    ]
    assert listed[4].startswith("malformed_frames.kinds: unknown 'lasers' (known: binary, ")
    assert listed[5] == (
        "malformed_frames.stream: 'sideways' is not listed (one of market, user, all)"
    )
    assert problems({"kinds": ["binary"]}) == ["malformed_frames.count: missing"]
    assert problems(60) == [
        "malformed_frames: expected an object with count and optionally kinds, stream, …"
    ]
    assert problems({"count": 5, "stream": "market", "kinds": ["zero_fill_price"]}) == [
        "malformed_frames.kinds: none is sent on the market stream"
    ]
    assert problems({"count": 5, "kinds": ["deep_json", "zero_fill_price"]}) == [
        "malformed_frames.kinds: only heavy kinds on the market stream; they take one slot"
        " in 250, so list a light kind too"
    ]
    assert _report(venue) == {"sent": {}, "pending": 0}


def test_the_market_tick_keeps_pushing_real_books_through_a_burst(venue: VenueThread) -> None:
    with _socket(venue) as socket:
        subscribe(socket, BOOK)
        ping_and_drain(socket)
        real_mid = _real_mid(venue)
        arrivals: list[tuple[float, str | None]] = []

        def stamped(raw: str | bytes) -> str | None:
            kind = _market_kind(raw, real_mid)
            arrivals.append((time.monotonic(), kind))
            return kind

        to_send = _arm(venue, count=600)  # 100 bursts of 6, two heavy frames among them
        _read_hostile(socket, 600, stamped)

    hostile_times = [at for at, kind in arrivals if kind is not None]
    start, end = hostile_times[0], hostile_times[-1]
    books = [at for at, kind in arrivals if kind is None and start <= at <= end]
    gaps = [later - earlier for earlier, later in pairwise([start, *books, end])]
    kinds = Counter(kind for _, kind in arrivals if kind is not None)
    print(f"\n{len(books)} real books in {end - start:.2f} s of hostile frames")
    assert to_send == 600
    assert kinds["deep_json"] == kinds["long_price"] == 1
    assert len(books) >= (end - start) / TICK_S / 2
    assert max(gaps) < 5 * TICK_S


def _metric(port: int, name: str) -> dict[str, float]:
    """Every sample of ``name``, keyed by its label text."""
    with requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        lines = page.text.splitlines()
    return {
        line.rsplit(" ", 1)[0][len(name) :]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith(name + "{")
    }


def test_makerd_counts_every_hostile_frame_the_venue_sent_by_reason_and_keeps_quoting(
    tmp_path: Path, venue: VenueThread
) -> None:
    trader = Trader(tmp_path, venue.url)
    makerd = trader.start(tmp_path)
    port = makerd.metrics_port()
    resting(trader, makerd, timeout_s=30)
    wait_until(
        lambda: sum(_metric(port, "makerd_feed_connected").values()) == 2,
        timeout_s=15,
        process=makerd,
    )

    # Each bad fill push owes makerd a REST repair: the user stream gets them slower (a
    # burst every 40 ms, the pace tests/test_frame_boundary_e2e.py holds for 10,000 frames).
    armed = _arm(venue, count=300, stream="market")
    armed += _arm(venue, count=300, stream="user", every_ms=40)
    wait_until(lambda: _report(venue)["pending"] == 0, timeout_s=30, process=makerd)
    sent = Counter(_report(venue)["sent"])
    expected: Counter[str] = Counter()
    for label, n in sent.items():
        stream, kind = label.split(":", 1)
        expected[(MARKET_KINDS if stream == "market" else USER_KINDS)[kind]] += n
    wait_until(
        lambda: all(_scrape(port).get(r, 0) >= n for r, n in expected.items()),
        timeout_s=20,
        process=makerd,
    )
    dropped = _scrape(port)
    before = {int(str(order["oid"])) for order in trader.open_orders()}
    wait_until(
        lambda: bool({int(str(o["oid"])) for o in trader.open_orders()} - before),
        timeout_s=20,
        process=makerd,
    )
    mid = _mid({"data": trader.info({"type": "l2Book", "coin": "BTC"})})
    distances = [abs(Decimal(str(o["limitPx"])) / mid - 1) for o in trader.open_orders()]

    print(f"\nsent by kind: {dict(sent)}\nexpected by reason: {dict(expected)}")
    print(f"counted by reason: { {r: n for r, n in dropped.items() if n} }")
    assert armed == 600
    assert sum(sent.values()) == 600
    assert sent["market:deep_json"] == sent["user:long_fill_price"] == 1
    assert {r: dropped.get(r, 0) for r in expected} == dict(expected)
    assert dropped.get("handler_error", 0) == 0
    assert makerd.proc.poll() is None, makerd.text[-4000:]
    assert distances
    assert max(distances) <= BAND
    assert "Traceback" not in makerd.text
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text[-4000:]
