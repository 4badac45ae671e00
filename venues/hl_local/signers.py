"""Who signed an ``/exchange`` action, recovered exactly as the exchange does.

L1 actions (trading) are recovered from the phantom-agent EIP-712 message built over the
msgpack of the action as received (JSON key order preserved); ``approveAgent`` is a
user-signed action with its own typed message. The SDK's own recovery functions are used
so the venue and the client cannot disagree about the payload.
"""

from __future__ import annotations

from typing import Any

from eth_keys.exceptions import BadSignature
from hyperliquid.utils.signing import (
    recover_agent_or_user_from_l1_action,
    recover_user_from_user_signed_action,
)

APPROVE_AGENT_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "agentAddress", "type": "address"},
    {"name": "agentName", "type": "string"},
    {"name": "nonce", "type": "uint64"},
]


class SignatureUnreadable(Exception):  # noqa: N818 - a state, like the exchange's wording
    """The signature could not be parsed or recovered at all."""


def recover_signer(
    *,
    action: dict[str, Any],
    signature: dict[str, Any],
    vault_address: str | None,
    nonce: int,
    expires_after: int | None,
    is_mainnet: bool,
) -> str:
    """The lower-case address that signed ``action``; a wrong signature gives a random one."""
    try:
        if action.get("type") == "approveAgent":
            typed = {"agentName": "", **action}  # the SDK drops an empty name after signing
            address = recover_user_from_user_signed_action(
                typed, signature, APPROVE_AGENT_TYPES, "HyperliquidTransaction:ApproveAgent",
                is_mainnet,
            )  # fmt: skip
        else:
            address = recover_agent_or_user_from_l1_action(
                action, signature, vault_address, nonce, expires_after, is_mainnet
            )
    except (ValueError, TypeError, OverflowError, BadSignature) as error:
        raise SignatureUnreadable(str(error)) from error
    return str(address).lower()
