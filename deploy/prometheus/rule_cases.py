"""The cases behind makerd-rules.test.yml: for every rule in makerd-rules.yml, input
series and the alerts expected at given times (rule_tests.py turns them into promtool's
unit tests). Written once, here; a new rule needs a case or rule_tests.py refuses it.
"""

from __future__ import annotations

from typing import Any

BOT = {"job": "makerd", "instance": "127.0.0.1:9108", "venue": "live", "symbol": "BTC"}


def series(name: str, values: str, **labels: str) -> dict[str, str]:
    if values.startswith("NaNx"):  # promtool expands "AxN" for numbers only
        values = " ".join(["NaN"] * (int(values.removeprefix("NaNx")) + 1))
    every = {**BOT, **labels}
    inner = ", ".join(f'{key}="{value}"' for key, value in sorted(every.items()))
    return {"series": f"{name}{{{inner}}}", "values": values}


def fires(at: str, value: str = "", **labels: str) -> dict[str, Any]:
    """An eval time at which the alert fires once, with the bot's labels plus ``labels``;
    ``value`` is the alert's value as its annotations print it."""
    return {"eval_time": at, "exp_alerts": [({**BOT, **labels}, value)]}


def quiet(at: str) -> dict[str, Any]:
    return {"eval_time": at, "exp_alerts": []}


# alert -> list of (input series, [fires/quiet at times])
CASES: dict[str, list[tuple[list[dict[str, str]], list[dict[str, Any]]]]] = {
    "MakerdDown": [
        ([series("up", "0x5")], [quiet("1m"), fires("3m")]),
        ([series("up", "1x5")], [quiet("3m")]),
    ],
    "MakerdKillSwitchTripped": [
        (
            [
                series("makerd_kill_switch_state", "0 0 1", makerd_kill_switch_state="tripped"),
                series("makerd_kill_switch_state", "1 1 0", makerd_kill_switch_state="armed"),
            ],
            # Fires on the last scrape before the exit and stays visible 15 minutes.
            [
                quiet("1m"),
                fires("2m", makerd_kill_switch_state="tripped"),
                fires("10m", makerd_kill_switch_state="tripped"),
                quiet("20m"),
            ],
        ),
    ],
    "MakerdSupervisorGaveUp": [
        (
            [series("makerd_supervisor_intensity_exceeded_total", "0 0 1")],
            [quiet("1m"), fires("2m"), fires("10m"), quiet("20m")],
        ),
    ],
    "MakerdRestartBurst": [
        (
            [series("makerd_actor_restarts_total", "0 1 2 3 3", actor="quoter", reason="crashed")],
            [quiet("1m"), fires("4m", value="3")],
        ),
        (
            [series("makerd_actor_restarts_total", "0 0 1 1 1", actor="quoter", reason="crashed")],
            [quiet("4m")],
        ),
    ],
    "MakerdActorDown": [
        (
            [
                series("makerd_actor_up", "1 0 0 0", actor="quoter"),
                series("makerd_actor_up", "1 1 1 1", actor="book_feed"),
            ],
            [quiet("1m"), fires("3m", actor="quoter")],
        ),
    ],
    "MakerdFeedStale": [
        (
            [
                series("makerd_feed_stale", "0 1 1 1 1"),
                series("makerd_feed_last_message_timestamp_seconds", "0+60x4"),
            ],
            [quiet("1m"), fires("3m")],
        ),
        (
            # The flag never went up, but no book has arrived for over two minutes.
            [
                series("makerd_feed_stale", "0x6"),
                series("makerd_feed_last_message_timestamp_seconds", "0x6"),
            ],
            [quiet("2m"), fires("4m")],
        ),
        (
            [
                series("makerd_feed_stale", "0x6"),
                series("makerd_feed_last_message_timestamp_seconds", "0+60x6"),
            ],
            [quiet("5m")],
        ),
    ],
    "MakerdFeedDisconnected": [
        (
            [
                series("makerd_feed_connected", "1 0 0 0", stream="market"),
                series("makerd_feed_connected", "1 1 1 1", stream="user"),
            ],
            [quiet("1m"), fires("3m", stream="market")],
        ),
    ],
    "MakerdNotQuoting": [
        (
            [
                series("makerd_open_orders", "0x7", side="buy"),
                series("makerd_open_orders", "0x7", side="sell"),
                series("makerd_trading_state", "1x7", makerd_trading_state="normal"),
                series("makerd_kill_switch_state", "1x7", makerd_kill_switch_state="armed"),
                series("makerd_operator_paused", "0x7"),
            ],
            [quiet("3m"), fires("6m")],
        ),
        (
            [
                series("makerd_open_orders", "0x7", side="buy"),
                series("makerd_open_orders", "3x7", side="sell"),
                series("makerd_trading_state", "1x7", makerd_trading_state="normal"),
                series("makerd_kill_switch_state", "1x7", makerd_kill_switch_state="armed"),
                series("makerd_operator_paused", "0x7"),
            ],
            [quiet("6m")],
        ),
        (
            # Reduce-only is the risk guardian's doing, not a fault: no alert.
            [
                series("makerd_open_orders", "0x7", side="buy"),
                series("makerd_open_orders", "0x7", side="sell"),
                series("makerd_trading_state", "0x7", makerd_trading_state="normal"),
                series("makerd_kill_switch_state", "1x7", makerd_kill_switch_state="armed"),
                series("makerd_operator_paused", "0x7"),
            ],
            [quiet("6m")],
        ),
        (
            # An operator's pause (makerd ctl pause) is no fault either.
            [
                series("makerd_open_orders", "0x7", side="buy"),
                series("makerd_open_orders", "0x7", side="sell"),
                series("makerd_trading_state", "1x7", makerd_trading_state="normal"),
                series("makerd_kill_switch_state", "1x7", makerd_kill_switch_state="armed"),
                series("makerd_operator_paused", "1x7"),
            ],
            [quiet("6m")],
        ),
    ],
    "MakerdSessionLossNearLimit": [
        (
            [
                series("makerd_pnl_realized_usd", "-100 -150"),
                series("makerd_pnl_unrealized_usd", "0 -15"),
                series("makerd_fees_paid_usd_total", "0 5"),
                series("makerd_fee_rebates_usd_total", "0 0"),
                series("makerd_risk_session_loss_limit_usd", "200 200"),
            ],
            [quiet("0m"), fires("1m", value="170")],
        ),
    ],
    "MakerdDrawdownNearLimit": [
        (
            [
                series("makerd_pnl_realized_usd", "0 100 -100 -150"),
                series("makerd_pnl_unrealized_usd", "0x3"),
                series("makerd_fees_paid_usd_total", "0x3"),
                series("makerd_fee_rebates_usd_total", "0x3"),
                series("makerd_risk_max_drawdown_usd", "300x3"),
            ],
            [quiet("1m"), quiet("2m"), fires("3m", value="250")],
        ),
    ],
    "MakerdPositionNearLimit": [
        (
            [
                series("makerd_position", "-0.045x7"),
                series("makerd_risk_max_position", "0.05x7"),
            ],
            [quiet("3m"), fires("6m", value="0.045")],
        ),
        (
            [
                series("makerd_position", "0.03x7"),
                series("makerd_risk_max_position", "0.05x7"),
            ],
            [quiet("6m")],
        ),
    ],
    "MakerdMarginUseNearLimit": [
        (
            [series("makerd_margin_use_ratio", "0.5 0.65x6")],
            [quiet("2m"), fires("4m", value="0.65")],
        ),
        (
            [series("makerd_margin_use_ratio", "0.65 0.5 0.65 0.5 0.65 0.5 0.65")],
            [quiet("6m")],
        ),
    ],
    "MakerdMarginUseHigh": [
        (
            [
                series("makerd_orders_rejected_total", "0 0 1 1", reason="insufficient_margin"),
                series("makerd_orders_rejected_total", "0 3 6 9", reason="post_only_would_cross"),
            ],
            [quiet("1m"), fires("3m", reason="insufficient_margin")],
        ),
    ],
    "MakerdDeadManSwitchNotRearmed": [
        (
            [series("makerd_watchdog_last_ping_timestamp_seconds", "0+60x3 180x6")],
            [quiet("4m"), fires("6m")],
        ),
        (
            [series("makerd_watchdog_last_ping_timestamp_seconds", "0+60x8")],
            [quiet("6m")],
        ),
    ],
    "MakerdNoFillsWhileQuoting": [
        (
            [
                series("makerd_fills_total", "0x60", side="buy", liquidity="maker"),
                series("makerd_open_orders", "3x60", side="buy"),
            ],
            [quiet("20m"), fires("45m")],
        ),
        (
            [
                series("makerd_fills_total", "0+1x60", side="buy", liquidity="maker"),
                series("makerd_open_orders", "3x60", side="buy"),
            ],
            [quiet("45m")],
        ),
    ],
    "MakerdDeadManSwitchLost": [
        ([series("makerd_dead_man_switch_armed", "1 1 0 0 0 0")], [quiet("2m"), fires("4m", "0")]),
        # sim and paper: no exchange switch is NaN, never "lost".
        ([series("makerd_dead_man_switch_armed", "NaNx6")], [quiet("5m")]),
        ([series("makerd_dead_man_switch_armed", "0 1 1 1 1 1")], [quiet("4m")]),
    ],
    "MakerdPositionAdjusted": [
        (
            [series("makerd_position_mismatches_total", "0 0 1 1 1", action="adjusted")],
            [quiet("1m"), fires("3m", value="1", action="adjusted")],
        ),
        (
            [series("makerd_position_mismatches_total", "0 0 1 1 1", action="repair")],
            [quiet("3m")],
        ),
    ],
    "MakerdFillOffLotGrid": [
        (
            [series("makerd_fills_off_lot_grid_total", "0 0 1 1 1")],
            [quiet("1m"), fires("3m", value="1")],
        ),
        ([series("makerd_fills_off_lot_grid_total", "0 0 0 0 0")], [quiet("4m")]),
    ],
    "MakerdOpenInterestCapped": [
        (
            # A coin held at the cap: a refused ladder every hold, for 20 minutes.
            [series("makerd_orders_rejected_total", "0+2x20", reason="open_interest_cap")],
            [quiet("9m"), fires("12m")],
        ),
        (
            # A cap that lifted after two minutes: no alert.
            [series("makerd_orders_rejected_total", "0 1 2 2x20", reason="open_interest_cap")],
            [quiet("15m")],
        ),
    ],
    "MakerdMarketHalted": [
        (
            # A coin halted for good (a delisting): a refused ladder every hold.
            [series("makerd_orders_rejected_total", "0+1x20", reason="halted")],
            [quiet("9m"), fires("12m")],
        ),
        (
            # A halt of three minutes: no alert.
            [series("makerd_orders_rejected_total", "0 1 2 3 3x20", reason="halted")],
            [quiet("15m")],
        ),
    ],
    "MakerdRequestBudgetLow": [
        (
            [
                series("makerd_rate_budget_weight_left", "50x7"),
                series("makerd_address_requests_left", "NaNx7"),
            ],
            [quiet("3m"), fires("6m", value="50")],
        ),
        (
            [
                series("makerd_rate_budget_weight_left", "NaNx7"),
                series("makerd_address_requests_left", "500x7"),
            ],
            [fires("6m", value="500")],
        ),
        (
            # sim mode: no budget at all is NaN, never "low".
            [
                series("makerd_rate_budget_weight_left", "NaNx7"),
                series("makerd_address_requests_left", "NaNx7"),
            ],
            [quiet("6m")],
        ),
    ],
}

RECORDING_CASES: list[dict[str, Any]] = [
    {
        "interval": "1m",
        "input_series": [
            series("makerd_pnl_realized_usd", "0 100 -100"),
            series("makerd_pnl_unrealized_usd", "0 20 10"),
            series("makerd_fees_paid_usd_total", "0 4 6"),
            series("makerd_fee_rebates_usd_total", "0 1 2"),
        ],
        "promql_expr_test": [
            {
                "expr": "makerd:pnl_total_usd",
                "eval_time": "1m",
                # 100 + 20 - (4 - 1)
                "exp_samples": [
                    {"labels": series("makerd:pnl_total_usd", "")["series"], "value": 117}
                ],
            },
            {
                "expr": "makerd:drawdown_usd",
                "eval_time": "2m",
                # peak 117 at 1m, now -100 + 10 - 4 = -94: 211 below the peak
                "exp_samples": [
                    {"labels": series("makerd:drawdown_usd", "")["series"], "value": 211}
                ],
            },
        ],
    }
]
