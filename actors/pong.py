"""The liveness answer every actor shell gives, in both runtimes."""

from __future__ import annotations

from makerd.protocol.control import Ping, Pong


def answer_ping(role: str, ping: Ping, now_ns: int) -> Pong:
    return Pong(role=role, seq=ping.seq, ts_local=now_ns)
