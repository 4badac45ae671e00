"""Someone other than makerd acts on the account makerd trades, during a run.

An operator trades by hand on the account makerd quotes (a taker trade, a resting order,
a cancel), through an agent wallet of the same account, as traders do. The venue, not
makerd, is the witness: every fill journaled once, the journal's position the venue's,
the open-order bound kept, and a stop that exits 0 leaves nothing of makerd's resting.
"""

from __future__ import annotations

import json
from decimal import ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import eth_account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from makerd.daemon.exit_codes import EXIT_OK
from tests.faults.kit import (
    OPEN_ORDER_BOUND,
    QUOTE_BOUND,
    FaultVenue,
    LiveBot,
    assert_invariants,
    now_ms,
    poll,
)

IOC: Any = {"limit": {"tif": "Ioc"}}
GTC: Any = {"limit": {"tif": "Gtc"}}


class Operator:
    """A trader acting by hand on the bot's account, through an agent wallet it approved
    (its own nonces, so its actions never collide with makerd's)."""

    def __init__(self, bot: LiveBot) -> None:
        master = Exchange(eth_account.Account.from_key(bot.key), bot.venue.url)
        approval, agent_key = master.approve_agent()
        assert approval["status"] == "ok", approval
        agent = eth_account.Account.from_key(agent_key)
        self.exchange = Exchange(agent, bot.venue.url, account_address=bot.address)
        self.info = Info(bot.venue.url, skip_ws=True)
        self.address = bot.address

    def touch(self, coin: str = "BTC") -> tuple[Decimal, Decimal]:
        bids, asks = self.info.l2_snapshot(coin)["levels"]
        return Decimal(bids[0]["px"]), Decimal(asks[0]["px"])

    def take(self, coin: str, *, buy: bool, size: Decimal) -> Any:
        """An IOC that crosses the book by 1 %: the position moves at once."""
        bid, ask = self.touch(coin)
        limit = ask * Decimal("1.01") if buy else bid * Decimal("0.99")
        price = float(f"{limit:.5g}")
        return self.exchange.order(coin, buy, float(size), price, IOC)

    def rest(self, coin: str, *, buy: bool) -> int:
        """A GTC 2 % behind the touch, worth about $20: it rests; its oid."""
        bid, ask = self.touch(coin)
        price = bid * Decimal("0.98") if buy else ask * Decimal("1.02")
        size = (Decimal(20) / price).quantize(Decimal("0.0001"), rounding=ROUND_UP)
        answer = self.exchange.order(coin, buy, float(size), float(f"{price:.5g}"), GTC)
        oid: int = answer["response"]["data"]["statuses"][0]["resting"]["oid"]
        return oid

    def resting_oids(self, coin: str) -> list[int]:
        return [o["oid"] for o in self.info.open_orders(self.address) if o["coin"] == coin]


def ctl_json(bot: LiveBot, command: str) -> dict[str, Any]:
    done = bot.ctl(command)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_explore_chaos(venue: FaultVenue, tmp_path: Path) -> None:
    import random
    import threading

    from hyperliquid.utils.types import Cloid

    bot = LiveBot(tmp_path, venue)
    operator = Operator(bot)
    process = bot.quoting()
    rng = random.Random(5)
    wait = threading.Event()
    ALO: Any = {"limit": {"tif": "Alo"}}
    done = []
    for _ in range(40):
        kind = rng.choice(["take", "rest_near", "cancel", "cancel_cloid", "modify", "modify_keep", "eth"])
        ours = [o for o in operator.info.frontend_open_orders(bot.address) if o["coin"] == "BTC" and o.get("cloid")]
        try:
            if kind == "take":
                r = operator.take("BTC", buy=rng.random() < 0.5, size=Decimal("0.003"))
            elif kind == "rest_near":
                bid, ask = operator.touch("BTC")
                buy = rng.random() < 0.5
                r = operator.exchange.order("BTC", buy, 0.0003, float(bid if buy else ask), GTC)
            elif kind == "eth":
                r = operator.rest("ETH", buy=True)
            elif not ours:
                continue
            else:
                o = rng.choice(ours)
                if kind == "cancel":
                    r = operator.exchange.cancel("BTC", o["oid"])
                elif kind == "cancel_cloid":
                    r = operator.exchange.cancel_by_cloid("BTC", Cloid(o["cloid"]))
                else:
                    px = Decimal(o["limitPx"]) * (Decimal("0.999") if o["side"] == "B" else Decimal("1.001"))
                    r = operator.exchange.modify_order(
                        o["oid"] if kind == "modify" else Cloid(o["cloid"]), "BTC", o["side"] == "B",
                        float(o["sz"]) * 2, float(f"{px:.5g}"), ALO,
                        cloid=Cloid(o["cloid"]) if kind == "modify_keep" else None,
                    )
            done.append((kind, str(r)[:120]))
        except Exception as error:  # noqa: BLE001
            done.append((kind, repr(error)[:120]))
        wait.wait(rng.uniform(0.1, 0.6))
    print("\n".join(map(str, done)))
    wait.wait(3)
    code = bot.stop(process)
    record = bot.record()
    print("exit", code, record.open_by_coin, record.peak_by_coin, record.positions["BTC"], bot.journal_position())
    print("\n".join(l for l in process.text.splitlines() if "WARNING" in l or "ERROR" in l or "makerd:" in l)[-6000:])
    for oid in operator.resting_oids("ETH"):
        operator.exchange.cancel("ETH", oid)
    assert_invariants(bot, output=process.text)


def test_explore_manual_taker(venue: FaultVenue, tmp_path: Path) -> None:
    bot = LiveBot(tmp_path, venue)
    operator = Operator(bot)
    process = bot.quoting()

    answer = operator.take("BTC", buy=True, size=Decimal("0.01"))
    print("take", answer)
    poll(
        lambda: Decimal(ctl_json(bot, "status")["position"]) >= Decimal("0.01"),
        timeout_s=15,
        what="position booked",
        process=process,
    )
    print("status", ctl_json(bot, "status"))
    flatten = ctl_json(bot, "flatten")
    print("flatten", flatten)
    poll(lambda: bot.record().position == 0, timeout_s=15, what="flat", process=process)
    print("status", ctl_json(bot, "status"))
    record = bot.stop_cleanly(process)
    print(record.positions, record.open_by_coin)
    print(process.text[-4000:])


def test_a_manual_order_on_makerds_coin_is_cancelled_at_once_and_one_on_another_coin_is_left(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # Before: the user stream reported the stranger at once and makerd ignored it; only
    # the minute's audit (30-90 s after the last clean listing) found and cancelled it.
    bot = LiveBot(tmp_path, venue)
    operator = Operator(bot)
    process = bot.quoting()

    btc_oid = operator.rest("BTC", buy=True)
    eth_oid = operator.rest("ETH", buy=True)

    # The last clean listing was the start's, moments ago: no audit for 28 s at least.
    poll(
        lambda: btc_oid not in operator.resting_oids("BTC"),
        timeout_s=20,
        what="the manual BTC order cancelled",
        process=process,
    )
    bot.wait_resting(process, at_least=QUOTE_BOUND, since_ms=now_ms())
    assert process.text.count("event=orphans_found") == 1, process.text[-3000:]
    assert bot.stop(process) == EXIT_OK, process.text[-3000:]
    assert operator.resting_oids("ETH") == [eth_oid], "a one-coin makerd touched ETH"
    # The trader's ETH order rests: "0 open orders" is true of makerd's coin only, and says
    # so (before, the line read as if the account had none).
    assert "makerd: venue confirms 0 open orders for BTC\n" in process.text
    operator.exchange.cancel("ETH", eth_oid)
    record = assert_invariants(bot, output=process.text)
    assert record.peak_by_coin["BTC"] <= OPEN_ORDER_BOUND


def test_explore_cancel_modify(venue: FaultVenue, tmp_path: Path) -> None:
    import threading
    import time

    from hyperliquid.utils.types import Cloid

    bot = LiveBot(tmp_path, venue)
    operator = Operator(bot)
    process = bot.quoting()
    wait = threading.Event()

    def ours() -> list[Any]:
        return [o for o in operator.info.frontend_open_orders(bot.address) if o["coin"] == "BTC"]

    def step(name: str, call: Any) -> None:
        orders = ours()
        target = orders[0]
        print(name, target, call(target))
        wait.wait(3)
        print("  after", [(o["oid"], o["limitPx"], o["sz"], o.get("cloid")) for o in ours()])

    ALO: Any = {"limit": {"tif": "Alo"}}
    step("cancel oid", lambda o: operator.exchange.cancel("BTC", o["oid"]))
    step("cancel cloid", lambda o: operator.exchange.cancel_by_cloid("BTC", Cloid(o["cloid"])))
    step(
        "modify oid",
        lambda o: operator.exchange.modify_order(
            o["oid"], "BTC", o["side"] == "B", float(o["sz"]) * 2,
            float(f"{Decimal(o['limitPx']) * (Decimal('0.99') if o['side'] == 'B' else Decimal('1.01')):.5g}"),
            ALO,
        ),
    )
    step(
        "modify cloid keep cloid",
        lambda o: operator.exchange.modify_order(
            Cloid(o["cloid"]), "BTC", o["side"] == "B", float(o["sz"]) * 2,
            float(f"{Decimal(o['limitPx']) * (Decimal('0.99') if o['side'] == 'B' else Decimal('1.01')):.5g}"),
            ALO, cloid=Cloid(o["cloid"]),
        ),
    )
    step("schedule clear", lambda o: operator.exchange.schedule_cancel(None))
    wait.wait(10)
    print("after 10s", [(o["oid"], o["limitPx"], o["sz"], o.get("cloid")) for o in ours()])
    print("record", bot.record().open_by_coin, bot.record().peak_by_coin)
    code = bot.stop(process)
    print("exit", code, bot.record().open_by_coin)
    print("\n".join(l for l in process.text.splitlines() if "WARNING" in l or "ERROR" in l or "makerd:" in l)[-8000:])
    assert_invariants(bot, output=process.text)


def test_explore_ladder_gap(venue: FaultVenue, tmp_path: Path) -> None:
    import time

    bot = LiveBot(tmp_path, venue)
    operator = Operator(bot)
    process = bot.quoting()
    before = {o["oid"] for o in operator.info.frontend_open_orders(bot.address)}
    t0 = time.monotonic()
    operator.rest("BTC", buy=True)
    samples = []
    while time.monotonic() - t0 < 6:
        orders = operator.info.frontend_open_orders(bot.address)
        ours = [o for o in orders if o.get("cloid")]
        samples.append((round(time.monotonic() - t0, 3), len(ours), len(orders) - len(ours), len(before & {o["oid"] for o in ours})))
    last = None
    for sample in samples:
        if sample[1:3] != last:
            print("  ", sample)
            last = sample[1:3]
    gap = [s for s in samples if s[1] < 6]
    print("ladder short from", gap[:1], "to", gap[-1:], "kept of the original:", samples[-1][3])
    bot.stop(process)


def test_explore_position_limit(venue: FaultVenue, tmp_path: Path) -> None:
    bot = LiveBot(tmp_path, venue)
    operator = Operator(bot)
    process = bot.quoting()
    print(operator.take("BTC", buy=True, size=Decimal("0.06")))
    print("exit", process.finish(timeout=30), bot.record().positions["BTC"], bot.record().open_by_coin)
    print("\n".join(l for l in process.text.splitlines() if "WARNING" in l or "ERROR" in l or "makerd:" in l)[-3000:])
    assert_invariants(bot, output=process.text)
