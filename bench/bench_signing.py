"""L1 signing cost: the SDK's ``sign_l1_action`` against :class:`L1Signer`, in one run.

Run from the repository root: ``python bench/bench_signing.py [iterations]``.
Prints microseconds per signed action for each path and the speed-up, for a single
post-only order, a 10-order batch and a 10-order cancel; exits non-zero if the two
paths ever disagree on a signature (the benchmark doubles as a smoke test).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

TEST_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
DEFAULT_ITERATIONS = 300
NONCE = 1_700_000_000_000


def _order_wire(index: int) -> dict[str, object]:
    return {
        "a": 0,
        "b": index % 2 == 0,
        "p": f"{65000 + index}",
        "s": "0.0015",
        "r": False,
        "t": {"limit": {"tif": "Alo"}},
        "c": f"0x{0xFEED:016x}{index:016x}",
    }


ACTIONS: dict[str, dict[str, object]] = {
    "1 order": {"type": "order", "orders": [_order_wire(1)], "grouping": "na"},
    "10-order batch": {
        "type": "order",
        "orders": [_order_wire(i) for i in range(10)],
        "grouping": "na",
    },
    "10 cancels": {"type": "cancel", "cancels": [{"a": 0, "o": 9_000 + i} for i in range(10)]},
}


def _microseconds_per_call(sign: Callable[[int], object], iterations: int) -> float:
    sign(NONCE)  # warm caches and lazy imports outside the timed loop
    start = time.perf_counter_ns()
    for offset in range(iterations):
        sign(NONCE + offset)
    return (time.perf_counter_ns() - start) / iterations / 1_000


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import eth_account
    from hyperliquid.utils.signing import sign_l1_action

    from makerd.venues.hyperliquid.secrets import PrivateKey
    from makerd.venues.hyperliquid.signing import L1Signer

    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ITERATIONS
    wallet = eth_account.Account.from_key(TEST_KEY)
    signer = L1Signer(PrivateKey.from_hex(TEST_KEY, source="benchmark"))

    def sdk(action: Mapping[str, object]) -> Callable[[int], object]:
        return lambda nonce: sign_l1_action(wallet, action, None, nonce, None, True)

    def ours(action: Mapping[str, object]) -> Callable[[int], object]:
        return lambda nonce: signer.sign_l1(
            action, nonce, vault_address=None, expires_after=None, is_mainnet=True
        )

    print(f"{'action':<16}{'SDK µs':>10}{'L1Signer µs':>14}{'speed-up':>10}   ({iterations} each)")
    for name, action in ACTIONS.items():
        if sdk(action)(NONCE) != ours(action)(NONCE):
            print(f"{name}: signatures differ from the SDK", file=sys.stderr)
            return 1
        sdk_us = _microseconds_per_call(sdk(action), iterations)
        ours_us = _microseconds_per_call(ours(action), iterations)
        print(f"{name:<16}{sdk_us:>10.1f}{ours_us:>14.1f}{sdk_us / ours_us:>9.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
