"""Property tests of the frame boundary: arbitrary bytes, arbitrary JSON and mutations of
real frames never raise out of it, and never yield a message for another coin or with a
non-finite, non-positive or out-of-band price or size."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makerd.protocol.account import OrderFilled
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.limits import FrameGuard, FrameLimits
from makerd.venues.hyperliquid.parse import parse_user_fills_message
from tests.feed_kit import RECORDING, Feed, recorded_frames
from tests.test_frame_boundary import LIMITS, assert_sane

needs_recording = pytest.mark.skipif(
    not RECORDING.is_file(),
    reason="the Hyperliquid recording beside the checkout (../shared/fixtures) is absent",
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "BTC",
            "ETH",
            "B",
            "A",
            "0",
            "-1",
            "0.0",
            "1e5",
            "NaN",
            "Infinity",
            " 1",
            "1_0",
            "105055.0",
            "9" * 400,
            "105056.5",
            "",
        ]
    )
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["coin", "time", "levels", "px", "sz", "n", "side", "tid", "data"])
            | st.text(max_size=4),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)
CHANNELS = st.sampled_from(["l2Book", "trades", "userFills", "bbo", "pong", "error", "x"])


def _seeded() -> tuple[Feed, int]:
    """A feed that has seen the first real book (so the band has an anchor)."""
    ts_local, raw = recorded_frames()[0]
    feed = Feed()
    feed.send(raw, ts_local)
    return feed, ts_local + 1_000_000


def _check(feed: Feed, raw: str | bytes, ts_local: int) -> None:
    mid = feed.mid(ts_local)
    events = feed.send(raw, ts_local)
    assert_sane(events, mid=mid, ts_local=ts_local)


@needs_recording
@SETTINGS
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_and_never_become_a_message(raw: bytes) -> None:
    feed, ts_local = _seeded()

    _check(feed, raw, ts_local)


@needs_recording
@SETTINGS
@given(channel=CHANNELS, data=JSON_VALUES, as_text=st.booleans())
def test_arbitrary_json_on_any_channel_never_yields_an_insane_message(
    channel: str, data: object, as_text: bool
) -> None:
    feed, ts_local = _seeded()
    text = json.dumps({"channel": channel, "data": data})

    _check(feed, text if as_text else text.encode(), ts_local)


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _mutated(frame: object, path: tuple[Any, ...], action: str, new: object) -> object:
    if not path:
        return new
    frame = copy.deepcopy(frame)
    parent: Any = frame
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "scale" and isinstance(parent[last], str):
        try:
            parent[last] = str(Decimal(parent[last]) * Decimal(str(new)))
        except (ArithmeticError, ValueError):
            parent[last] = new
    elif action == "shift" and isinstance(parent[last], int):
        parent[last] = parent[last] + (new if isinstance(new, int) else 86_400_000)
    else:
        parent[last] = new
    return frame


MUTATIONS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10**6),
        st.sampled_from(["replace", "delete", "scale", "shift"]),
        JSON_LEAVES | st.sampled_from([0, 2, Decimal("0.5"), Decimal("1.2"), -1]),
    ),
    min_size=1,
    max_size=3,
)


@needs_recording
@SETTINGS
@given(index=st.integers(min_value=0, max_value=54), mutations=MUTATIONS)
def test_mutations_of_real_frames_never_yield_an_insane_message(
    index: int, mutations: list[tuple[int, str, object]]
) -> None:
    feed, ts_local = _seeded()
    frames = recorded_frames()
    frame: object = json.loads(frames[index % len(frames)][1])
    for choice, action, new in mutations:
        paths = _paths(frame)
        frame = _mutated(frame, paths[choice % len(paths)], action, new)

    _check(feed, json.dumps(frame, default=str), ts_local)


MID = Decimal("105055.5")
TS_LOCAL = 1_737_918_843_907_660_000


def _fill(**overrides: object) -> dict[str, object]:
    fill: dict[str, object] = {
        "coin": "BTC", "px": "105050.0", "sz": "0.0012", "side": "B", "time": 1737918843542,
        "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0xa166",
        "oid": 90542681, "crossed": False, "fee": "-0.0017", "feeToken": "USDC",
        "tid": 118906512037719,
    }  # fmt: skip
    fill.update(overrides)
    return fill


def _guard() -> FrameGuard:
    guard = FrameGuard(limits=FrameLimits(), coins=("BTC",), listed=("BTC", "ETH"))
    guard.anchor("BTC", MID, TS_LOCAL)
    return guard


IMPOSSIBLE_FILLS = [
    ({"px": "0"}, "bad_price"),
    ({"px": "-105050.0"}, "bad_price"),
    ({"sz": "0"}, "bad_size"),
    ({"sz": "0.0"}, "bad_size"),
    ({"px": "9" * 400}, "bad_price"),
    ({"px": "1" * 1_000_000}, "bad_price"),
    ({"px": "NaN"}, "bad_price"),
    ({"sz": "Infinity"}, "bad_size"),
    ({"fee": "1e400"}, "bad_number"),
    ({"px": "52000.0"}, "out_of_band"),
    ({"time": 10**30}, "future_time"),
    ({"time": 1737918843542 + 86_400_000}, "future_time"),
    ({"time": 0}, "bad_time"),
    ({"coin": "ETH"}, "wrong_coin"),
    ({"coin": "NOPE"}, "unknown_coin"),
]


@pytest.mark.parametrize(("overrides", "reason"), IMPOSSIBLE_FILLS)
def test_an_impossible_live_fill_refuses_its_push_with_a_named_reason(
    overrides: dict[str, object], reason: str
) -> None:
    push = {"user": "0xabc", "fills": [_fill(), _fill(tid=2, **overrides)]}

    with pytest.raises(FeedParseError) as refused:
        parse_user_fills_message(push, ts_local=TS_LOCAL, guard=_guard())

    assert refused.value.reason == reason
    assert len(str(refused.value)) < 200


def test_an_impossible_fill_is_refused_without_a_guard_too() -> None:
    for overrides in ({"px": "0"}, {"sz": "0"}, {"px": "9" * 400}, {"time": 10**30}):
        with pytest.raises(FeedParseError):
            parse_user_fills_message(
                {"user": "0xabc", "fills": [_fill(**overrides)]}, ts_local=TS_LOCAL
            )


def test_a_snapshot_keeps_history_of_other_coins_and_old_prices() -> None:
    snapshot = {
        "isSnapshot": True,
        "user": "0xabc",
        "fills": [_fill(coin="ETH", px="3000.1", tid=3), _fill(px="60000.0", tid=4)],
    }

    message = parse_user_fills_message(snapshot, ts_local=TS_LOCAL, guard=_guard())

    assert [fill.coin for fill in message.fills] == ["ETH", "BTC"]


@SETTINGS
@given(mutations=MUTATIONS, is_snapshot=st.booleans())
def test_mutated_fill_pushes_only_ever_raise_the_parse_error_or_yield_sane_fills(
    mutations: list[tuple[int, str, object]], is_snapshot: bool
) -> None:
    push: object = {"user": "0xabc", "isSnapshot": is_snapshot, "fills": [_fill()]}
    for choice, action, new in mutations:
        paths = _paths(push)
        push = _mutated(push, paths[choice % len(paths)], action, new)
    band = LIMITS.price_band_pct / 100

    try:
        message = parse_user_fills_message(push, ts_local=TS_LOCAL, guard=_guard())
    except FeedParseError:
        return

    for fill in message.fills:
        assert isinstance(fill, OrderFilled)
        assert fill.price.is_finite()
        assert fill.price > 0
        assert fill.size.is_finite()
        assert fill.size > 0
        assert fill.fee.is_finite()
        assert 0 < fill.ts_exchange <= TS_LOCAL + int(LIMITS.max_clock_skew_s * 1e9)
        if not message.is_snapshot:
            assert fill.coin == "BTC"
            assert MID * (1 - band) <= fill.price <= MID * (1 + band)
