"""Hyperliquid L1-action signing, byte-identical to the SDK's ``sign_l1_action``.

The SDK builds an EIP-712 document per signature and hashes and signs it with
eth-account's pure-Python path (~1 ms). The document never changes except for the
32-byte ``connectionId``, so this module precomputes the domain separator and the
``Agent`` type hash once, hashes with pycryptodome's C keccak and signs with
libsecp256k1 through coincurve. The digest is the same bytes the SDK signs, and both
sides use RFC 6979 nonces with low-s normalisation, so the signatures are identical.

Steps (the exchange's L1 action signing): ``msgpack(action) ‖ nonce(8 BE) ‖ vault flag[‖ address]
[‖ 0x00 ‖ expiresAfter(8 BE)]`` → keccak → ``connectionId``; EIP-712
``Agent{source: "a"|"b", connectionId}`` under domain ``Exchange/1/1337/0x0``.
"""

from __future__ import annotations

from collections.abc import Mapping

import coincurve
import msgpack
from Crypto.Hash import keccak

from makerd.venues.hyperliquid.secrets import PrivateKey

_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_ETHEREUM_V_OFFSET = 27


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not NIST SHA3-256) in C."""
    return keccak.new(digest_bits=256, data=data).digest()


def _eip712_domain_separator() -> bytes:
    type_hash = keccak256(
        b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    return keccak256(
        type_hash
        + keccak256(b"Exchange")
        + keccak256(b"1")
        + (1337).to_bytes(32, "big")
        + bytes(32)  # verifyingContract 0x000…0, left-padded to a 32-byte word
    )


_DOMAIN_SEPARATOR = _eip712_domain_separator()
_AGENT_TYPE_HASH = keccak256(b"Agent(string source,bytes32 connectionId)")
_SOURCE_HASH = {True: keccak256(b"a"), False: keccak256(b"b")}
_EIP191_TYPED_DATA_PREFIX = b"\x19\x01"


class InvalidSignatureError(ValueError):
    """A signature that is malformed or from which no public key can be recovered."""


def action_hash(
    action: Mapping[str, object],
    nonce: int,
    *,
    vault_address: str | None,
    expires_after: int | None,
) -> bytes:
    """The ``connectionId``: keccak of the msgpack'd action and its envelope fields."""
    data = msgpack.packb(action)
    data += nonce.to_bytes(8, "big")
    if vault_address is None:
        data += b"\x00"
    else:
        data += b"\x01" + bytes.fromhex(vault_address.removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return keccak256(data)


def l1_signing_digest(connection_id: bytes, *, is_mainnet: bool) -> bytes:
    """The 32-byte EIP-712 digest of ``Agent{source, connectionId}`` that gets signed."""
    struct_hash = keccak256(_AGENT_TYPE_HASH + _SOURCE_HASH[is_mainnet] + connection_id)
    return keccak256(_EIP191_TYPED_DATA_PREFIX + _DOMAIN_SEPARATOR + struct_hash)


def _digest_for(
    action: Mapping[str, object],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> bytes:
    connection_id = action_hash(
        action, nonce, vault_address=vault_address, expires_after=expires_after
    )
    return l1_signing_digest(connection_id, is_mainnet=is_mainnet)


def _address_of(public_key: coincurve.PublicKey) -> str:
    uncompressed = public_key.format(compressed=False)
    return "0x" + keccak256(uncompressed[1:])[-20:].hex()


class L1Signer:
    """Signs Hyperliquid L1 actions (orders, cancels, modifies, scheduleCancel).

    Holds the key; its repr names only the address, and the key never leaves the object.
    """

    __slots__ = ("_address", "_signing_key")

    def __init__(self, key: PrivateKey) -> None:
        self._signing_key = coincurve.PrivateKey(key.secret_bytes())
        self._address = _address_of(self._signing_key.public_key)

    @property
    def address(self) -> str:
        """The signer's address, lowercase ``0x`` hex (the agent wallet, not the master)."""
        return self._address

    def __repr__(self) -> str:
        return f"L1Signer(address={self._address})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("L1Signer holds a private key and cannot be pickled")

    def sign_l1(
        self,
        action: Mapping[str, object],
        nonce: int,
        *,
        vault_address: str | None,
        expires_after: int | None,
        is_mainnet: bool,
    ) -> dict[str, str | int]:
        """Sign ``action`` exactly as ``sign_l1_action`` would: ``{"r", "s", "v"}``.

        ``r`` and ``s`` are unpadded lowercase hex like the SDK's (``hex(int)``);
        ``action`` must already be in wire key order (see ``venues.hyperliquid.wire``).
        """
        digest = _digest_for(action, nonce, vault_address, expires_after, is_mainnet)
        # libsecp256k1 signs with RFC 6979 nonces and always returns low-s, as eth-keys does.
        signature = self._signing_key.sign_recoverable(digest, hasher=None)
        return {
            "r": hex(int.from_bytes(signature[:32], "big")),
            "s": hex(int.from_bytes(signature[32:64], "big")),
            "v": _ETHEREUM_V_OFFSET + signature[64],
        }


def recover_l1_signer(
    action: Mapping[str, object],
    signature: Mapping[str, object],
    nonce: int,
    *,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> str:
    """The lowercase address that signed ``action`` (what the venue treats as the signer).

    Like the venue, a valid signature over a different payload recovers a *different*
    address rather than failing; only malformed signatures raise
    :class:`InvalidSignatureError`.
    """
    digest = _digest_for(action, nonce, vault_address, expires_after, is_mainnet)
    compact = _compact_signature(signature)
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(compact, digest, hasher=None)
    except ValueError as error:
        raise InvalidSignatureError(f"no public key recoverable: {error}") from None
    return _address_of(public_key)


def _compact_signature(signature: Mapping[str, object]) -> bytes:
    r = _signature_scalar(signature, "r")
    s = _signature_scalar(signature, "s")
    v = signature.get("v")
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidSignatureError(f"signature v must be an integer, got {type(v).__name__}")
    recovery_id = v - _ETHEREUM_V_OFFSET if v >= _ETHEREUM_V_OFFSET else v
    if recovery_id not in {0, 1}:
        raise InvalidSignatureError(f"signature v must be 27 or 28, got {v}")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recovery_id])


def _signature_scalar(signature: Mapping[str, object], name: str) -> int:
    text = signature.get(name)
    if not isinstance(text, str) or not text.startswith("0x"):
        raise InvalidSignatureError(f"signature {name} must be a 0x-prefixed hex string")
    try:
        value = int(text, 16)
    except ValueError:
        raise InvalidSignatureError(f"signature {name} is not hex") from None
    if not 0 < value < _SECP256K1_ORDER:
        raise InvalidSignatureError(f"signature {name} is out of range")
    return value
