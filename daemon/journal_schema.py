"""The journal's tables, and the steps that bring an older journal up to date.

``PRAGMA user_version`` holds the version. A new journal is created at version 1 and
migrated like any other, so every journal, old or new, went through the same steps.
"""

from __future__ import annotations

import sqlite3

_VERSION_1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_ns INTEGER NOT NULL, ended_ns INTEGER,
    mode TEXT NOT NULL, coin TEXT NOT NULL, summary TEXT);
CREATE TABLE fills (
    trade_id TEXT PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
    cloid TEXT, venue_order_id INTEGER NOT NULL, coin TEXT NOT NULL, side TEXT NOT NULL,
    price TEXT NOT NULL, size TEXT NOT NULL, fee TEXT NOT NULL, liquidity TEXT NOT NULL,
    ts_exchange INTEGER NOT NULL, ts_local INTEGER NOT NULL,
    realized_pnl TEXT NOT NULL, position_after TEXT NOT NULL);
CREATE INDEX fills_by_session ON fills(session_id);
CREATE TABLE order_events (
    session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
    cloid TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE equity (
    session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
    position TEXT NOT NULL, realized TEXT NOT NULL, unrealized TEXT NOT NULL,
    fees TEXT NOT NULL, mark TEXT NOT NULL);
CREATE INDEX equity_by_session ON equity(session_id, ts);
CREATE TABLE restarts (
    session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
    role TEXT NOT NULL, kind TEXT NOT NULL, error TEXT NOT NULL,
    restarts_in_window INTEGER NOT NULL);
CREATE TABLE kill_switch_events (
    ts INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('trip', 'clear')));
"""

_MIGRATIONS: tuple[str, ...] = (
    # 1 → 2: fills belong to a venue account across sessions (live), late fills are marked,
    # and position changes no fill explains are booked as adjustments.
    """
    ALTER TABLE sessions ADD COLUMN account TEXT;
    ALTER TABLE fills ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX sessions_by_account ON sessions(account);
    CREATE TABLE position_adjustments (
        account TEXT NOT NULL, coin TEXT NOT NULL, ts INTEGER NOT NULL,
        size TEXT NOT NULL, reason TEXT NOT NULL);
    """,
    # 2 → 3: the risk guardian's state (high-water mark, the UTC day's PnL, the loss streak)
    # outlives the process, so a restart cannot reset a loss limit.
    """
    CREATE TABLE risk_state (
        id INTEGER PRIMARY KEY CHECK (id = 1), day TEXT NOT NULL, day_pnl TEXT NOT NULL,
        peak_equity TEXT NOT NULL, equity TEXT NOT NULL, loss_streak INTEGER NOT NULL,
        last_trip_reason TEXT NOT NULL, last_trip_ns INTEGER NOT NULL,
        updated_ns INTEGER NOT NULL);
    """,
    # 3 → 4: what operators asked of a running makerd (``makerd ctl``) and what it did.
    """
    CREATE TABLE operator_commands (
        session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
        command TEXT NOT NULL, ok INTEGER NOT NULL, detail TEXT NOT NULL,
        uid INTEGER NOT NULL);
    CREATE INDEX operator_commands_by_session ON operator_commands(session_id, ts);
    """,
    # 4 → 5: what the report needs that the other tables lack: our quotes against the
    # touch, sampled once a second, and the settings a session ran with (mode, fill
    # model, latency, fees, position limit) so a report can state them.
    """
    CREATE TABLE quote_samples (
        session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
        bid TEXT, ask TEXT, touch_bid TEXT, touch_ask TEXT);
    CREATE INDEX quote_samples_by_session ON quote_samples(session_id, ts);
    CREATE TABLE session_settings (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id), settings TEXT NOT NULL);
    """,
    # 5 → 6: funding payments, each booked once per scope (the venue account in live, the
    # session in sim and paper) under its key (coin and funding time); equity carries them.
    """
    CREATE TABLE funding_payments (
        scope TEXT NOT NULL, key TEXT NOT NULL, session_id INTEGER NOT NULL
        REFERENCES sessions(id), coin TEXT NOT NULL, amount TEXT NOT NULL,
        rate TEXT NOT NULL, position TEXT NOT NULL, ts_exchange INTEGER NOT NULL,
        ts_local INTEGER NOT NULL, PRIMARY KEY (scope, key));
    CREATE INDEX funding_by_session ON funding_payments(session_id);
    ALTER TABLE equity ADD COLUMN funding TEXT NOT NULL DEFAULT '0';
    """,
    # 6 → 7: while a session records its market, each change of our orders (resting where,
    # how much left, or gone), so a replay of that recording can take us out of it.
    """
    CREATE TABLE own_orders (
        session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
        cloid TEXT NOT NULL, side TEXT NOT NULL, status TEXT NOT NULL,
        price TEXT NOT NULL, size TEXT NOT NULL);
    CREATE INDEX own_orders_by_session ON own_orders(session_id, ts);
    """,
    # 7 → 8: each order action's measured acknowledgement latency (sent → the venue's
    # answer), so a backtest can draw its latencies from a live run's.
    """
    CREATE TABLE ack_latencies (
        session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
        coin TEXT NOT NULL, kind TEXT NOT NULL, latency_ns INTEGER NOT NULL);
    CREATE INDEX ack_latencies_by_session ON ack_latencies(session_id);
    """,
    # 8 → 9: how far each session's host clock ran ahead of the exchange's, read from its
    # first account answer, so the start the journal keeps an account from is read on the
    # exchange's clock: a first session on a host ten minutes fast, then a restart on the
    # right clock, took the fills of that first session brought by a repair for history.
    """
    ALTER TABLE sessions ADD COLUMN host_lead_ns INTEGER;
    """,
)

SCHEMA_VERSION = 1 + len(_MIGRATIONS)


def create_or_migrate(db: sqlite3.Connection, version: int) -> None:
    """Create a new journal (version 0) or migrate an older one, one version per step."""
    if version == 0:
        db.executescript(f"BEGIN; {_VERSION_1} PRAGMA user_version=1; COMMIT;")
        version = 1
    for target, script in enumerate(_MIGRATIONS[version - 1 :], start=version + 1):
        db.executescript(f"BEGIN; {script} PRAGMA user_version={target}; COMMIT;")
