"""L1 signing: the SDK's own vectors, and random actions byte-for-byte against the SDK.

The SDK is imported here only as the reference oracle; production code never does.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

import eth_account
import pytest
from hyperliquid.utils.signing import recover_agent_or_user_from_l1_action, sign_l1_action
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makerd.venues.hyperliquid.secrets import PrivateKey
from makerd.venues.hyperliquid.signing import (
    InvalidSignatureError,
    L1Signer,
    action_hash,
    recover_l1_signer,
)

TEST_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
TEST_ADDRESS = "0x14791697260e4c9a71f18484c9f997b308e59325"
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
ORDER_A = {
    "type": "order",
    "orders": [
        {"a": 1, "b": True, "p": "100", "s": "100", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    ],
    "grouping": "na",
}
ORDER_B = {
    "type": "order",
    "orders": [
        {
            "a": 1,
            "b": True,
            "p": "100",
            "s": "100",
            "r": False,
            "t": {"limit": {"tif": "Gtc"}},
            "c": "0x00000000000000000000000000000001",
        }
    ],
    "grouping": "na",
}
DUMMY = {"type": "dummy", "num": 100000000000}


class Vector(NamedTuple):
    """One published SDK signing vector, nonce 0, no expiresAfter."""

    name: str
    action: dict[str, Any]
    vault: str | None
    is_mainnet: bool
    r: str
    s: str
    v: int


SDK_VECTORS = [
    Vector(
        name="A mainnet",
        action=ORDER_A,
        vault=None,
        is_mainnet=True,
        r="0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
        s="0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
        v=28,
    ),
    Vector(
        name="A testnet",
        action=ORDER_A,
        vault=None,
        is_mainnet=False,
        r="0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
        s="0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5",
        v=27,
    ),
    Vector(
        name="B mainnet",
        action=ORDER_B,
        vault=None,
        is_mainnet=True,
        r="0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
        s="0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da",
        v=27,
    ),
    Vector(
        name="B testnet",
        action=ORDER_B,
        vault=None,
        is_mainnet=False,
        r="0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d",
        s="0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988",
        v=28,
    ),
    Vector(
        name="D with time",
        action={"type": "scheduleCancel", "time": 123456789},
        vault=None,
        is_mainnet=True,
        r="0x609cb20c737945d070716dcc696ba030e9976fcf5edad87afa7d877493109d55",
        s="0x16c685d63b5c7a04512d73f183b3d7a00da5406ff1f8aad33f8ae2163bab758b",
        v=28,
    ),
    Vector(
        name="D without time",
        action={"type": "scheduleCancel"},
        vault=None,
        is_mainnet=True,
        r="0x6cdfb286702f5917e76cd9b3b8bf678fcc49aec194c02a73e6d4f16891195df9",
        s="0x6557ac307fa05d25b8d61f21fb8a938e703b3d9bf575f6717ba21ec61261b2a0",
        v=27,
    ),
    Vector(
        name="E with vault",
        action=DUMMY,
        vault=VAULT,
        is_mainnet=True,
        r="0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
        s="0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c",
        v=28,
    ),
    Vector(
        name="E without vault",
        action=DUMMY,
        vault=None,
        is_mainnet=True,
        r="0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
        s="0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
        v=27,
    ),
]

SIGNER = L1Signer(PrivateKey.from_hex(TEST_KEY, source="test"))
SDK_WALLET = eth_account.Account.from_key(TEST_KEY)


@pytest.mark.parametrize("vector", SDK_VECTORS, ids=[vector.name for vector in SDK_VECTORS])
def test_signatures_match_the_sdk_published_vectors(vector: Vector) -> None:
    signature = SIGNER.sign_l1(
        vector.action,
        0,
        vault_address=vector.vault,
        expires_after=None,
        is_mainnet=vector.is_mainnet,
    )

    assert signature == {"r": vector.r, "s": vector.s, "v": vector.v}


def test_phantom_agent_connection_id_matches_the_sdk_vector() -> None:
    action = {
        "type": "order",
        "orders": [
            {
                "a": 4,
                "b": True,
                "p": "1670.1",
                "s": "0.0147",
                "r": False,
                "t": {"limit": {"tif": "Ioc"}},
            }
        ],
        "grouping": "na",
    }

    connection_id = action_hash(action, 1677777606040, vault_address=None, expires_after=None)

    assert connection_id.hex() == "0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"


def test_the_signer_address_is_the_keys_lowercase_address() -> None:
    assert SIGNER.address == TEST_ADDRESS


def test_key_order_changes_the_hash_so_actions_must_keep_wire_order() -> None:
    reordered = {"type": "order", "grouping": "na", "orders": ORDER_A["orders"]}

    original = action_hash(ORDER_A, 0, vault_address=None, expires_after=None)
    shuffled = action_hash(reordered, 0, vault_address=None, expires_after=None)

    assert original != shuffled


def _cloid(rng: random.Random) -> str:
    return f"0x{rng.getrandbits(128):032x}"


def _price_text(rng: random.Random) -> str:
    return rng.choice(["100", "0.0001234", "65432", "1670.1", "2.1105", "123456", "0.5"])


def _order_wire(rng: random.Random) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "a": rng.randrange(0, 200),
        "b": rng.random() < 0.5,
        "p": _price_text(rng),
        "s": rng.choice(["0.001", "1", "12.5", "0.0147", "100000"]),
        "r": rng.random() < 0.2,
        "t": {"limit": {"tif": rng.choice(["Alo", "Gtc", "Ioc"])}},
    }
    if rng.random() < 0.7:
        wire["c"] = _cloid(rng)
    return wire


def _random_action(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["order", "cancel", "cancelByCloid", "batchModify", "scheduleCancel"])
    count = rng.randrange(1, 6)
    if kind == "order":
        return {
            "type": "order",
            "orders": [_order_wire(rng) for _ in range(count)],
            "grouping": "na",
        }
    if kind == "cancel":
        cancels = [{"a": rng.randrange(200), "o": rng.getrandbits(40)} for _ in range(count)]
        return {"type": "cancel", "cancels": cancels}
    if kind == "cancelByCloid":
        by_cloid = [{"asset": rng.randrange(200), "cloid": _cloid(rng)} for _ in range(count)]
        return {"type": "cancelByCloid", "cancels": by_cloid}
    if kind == "batchModify":
        modifies = [
            {"oid": rng.choice([rng.getrandbits(40), _cloid(rng)]), "order": _order_wire(rng)}
            for _ in range(count)
        ]
        return {"type": "batchModify", "modifies": modifies}
    action: dict[str, Any] = {"type": "scheduleCancel"}
    if rng.random() < 0.5:
        action["time"] = 1_700_000_000_000 + rng.getrandbits(32)
    return action


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    key=st.integers(min_value=1, max_value=2**256 - 2**160),
    use_vault=st.booleans(),
    use_expiry=st.booleans(),
    is_mainnet=st.booleans(),
)
def test_random_actions_sign_byte_for_byte_like_the_sdk_and_recover_the_signer(
    seed: int, key: int, use_vault: bool, use_expiry: bool, is_mainnet: bool
) -> None:
    rng = random.Random(seed)
    key_hex = f"0x{key:064x}"
    signer = L1Signer(PrivateKey.from_hex(key_hex, source="test"))
    wallet = eth_account.Account.from_key(key_hex)
    action = _random_action(rng)
    nonce = 1_700_000_000_000 + rng.getrandbits(30)
    vault = f"0x{rng.getrandbits(160):040x}" if use_vault else None
    expires_after = nonce + rng.randrange(1, 60_000) if use_expiry else None

    ours = signer.sign_l1(
        action, nonce, vault_address=vault, expires_after=expires_after, is_mainnet=is_mainnet
    )
    reference = sign_l1_action(wallet, action, vault, nonce, expires_after, is_mainnet)
    recovered = recover_l1_signer(
        action, ours, nonce, vault_address=vault, expires_after=expires_after, is_mainnet=is_mainnet
    )

    assert ours == reference
    assert recovered == wallet.address.lower() == signer.address


def test_recovering_with_the_other_network_names_a_different_signer() -> None:
    signature = SIGNER.sign_l1(DUMMY, 7, vault_address=None, expires_after=None, is_mainnet=True)

    recovered = recover_l1_signer(
        DUMMY, signature, 7, vault_address=None, expires_after=None, is_mainnet=False
    )

    assert recovered != TEST_ADDRESS


def test_our_recovery_agrees_with_the_sdk_recovery_on_an_sdk_signature() -> None:
    sdk_signature = sign_l1_action(SDK_WALLET, ORDER_B, VAULT, 42, 99, False)

    ours = recover_l1_signer(
        ORDER_B, sdk_signature, 42, vault_address=VAULT, expires_after=99, is_mainnet=False
    )
    sdk = recover_agent_or_user_from_l1_action(ORDER_B, sdk_signature, VAULT, 42, 99, False)

    assert ours == sdk.lower() == TEST_ADDRESS


@pytest.mark.parametrize(
    "signature",
    [
        {"r": "0x1", "s": "0x1", "v": 29},
        {"r": "12", "s": "0x1", "v": 27},
        {"r": "0xzz", "s": "0x1", "v": 27},
        {"r": "0x0", "s": "0x1", "v": 27},
        {"r": "0x1", "s": "0x1", "v": "27"},
        {"s": "0x1", "v": 27},
    ],
)
def test_malformed_signatures_are_refused_with_a_typed_error(signature: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignatureError):
        recover_l1_signer(
            DUMMY, signature, 0, vault_address=None, expires_after=None, is_mainnet=True
        )


def test_the_signer_repr_shows_the_address_but_not_the_key() -> None:
    text = repr(SIGNER)

    assert TEST_ADDRESS in text
    assert TEST_KEY[2:] not in text
