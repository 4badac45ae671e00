"""``POST /exchange``: envelope checks, signer recovery, nonces, then the action itself.

Checks run in the exchange's order: the body must deserialize (else HTTP 422), the nonce
must lie in the time window (refused before the signature is read), the signer is
recovered from the EIP-712 signature (testnet source ``"b"`` unless mainnet signing is
on) and must map to an account, the nonce must be fresh for that signer. Only then does
the action run. Refusals are HTTP 200 ``{"status":"err","response":<text>}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from makerd.venues.hl_local.accounts import Account, AccountRegistry
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.fault_state import Faults
from makerd.venues.hl_local.nonces import nonce_window_error
from makerd.venues.hl_local.orders import run_order_action
from makerd.venues.hl_local.records import ActionRecord, priced_orders
from makerd.venues.hl_local.signers import SignatureUnreadable, recover_signer
from makerd.venues.hl_local.stamps import ReactionStamps
from makerd.venues.hl_local.wire import HttpReply, default_ok, deserialize_error, error_response

SCHEDULE_CANCEL_MIN_LEAD_MS = 5_000
ORDER_ACTIONS = frozenset({"order", "cancel", "cancelByCloid", "modify", "batchModify"})
ACTION_TYPES = ORDER_ACTIONS | {"scheduleCancel", "updateLeverage", "approveAgent", "noop"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedAction:
    """The ``/exchange`` envelope after shape checks."""

    action: dict[str, Any]
    nonce: int
    signature: dict[str, Any]
    vault_address: str | None
    expires_after: int | None


def parse_envelope(body: Any) -> SignedAction | HttpReply:  # noqa: PLR0911 - one refusal per field
    """Shape-check the envelope; answer HTTP 422 with the exchange's text when malformed."""
    if not isinstance(body, dict):
        return deserialize_error("invalid type: expected a JSON object")
    action, nonce, signature = body.get("action"), body.get("nonce"), body.get("signature")
    vault, expires = body.get("vaultAddress"), body.get("expiresAfter")
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        return deserialize_error("missing field `action`")
    if type(nonce) is not int:
        return deserialize_error("missing field `nonce`")
    if not isinstance(signature, dict) or not {"r", "s", "v"} <= signature.keys():
        return deserialize_error("missing field `signature`")
    if (problem := _signature_problem(signature)) is not None:
        return deserialize_error(f"signature: {problem}")
    if vault is not None and not isinstance(vault, str):
        return deserialize_error("vaultAddress: invalid type")
    if expires is not None and type(expires) is not int:
        return deserialize_error("expiresAfter: invalid type")
    return SignedAction(
        action=action,
        nonce=nonce,
        signature=signature,
        vault_address=vault,
        expires_after=expires,
    )


_SIGNATURE_V: Final = frozenset({0, 1, 27, 28})
_SIGNATURE_SCALAR: Final = re.compile(r"0x[0-9a-fA-F]{1,64}")


def _signature_problem(signature: dict[str, Any]) -> str | None:
    """An ECDSA signature is two 256-bit scalars and a recovery id; anything else would
    recover some random address, which strict verification must not mistake for a user."""
    v = signature["v"]
    if type(v) is not int or v not in _SIGNATURE_V:
        return "invalid value: v must be 27 or 28 (or 0 or 1)"
    for name in ("r", "s"):
        value = signature[name]
        if not isinstance(value, str) or _SIGNATURE_SCALAR.fullmatch(value) is None:
            return f"invalid value: {name} must be 0x and 1 to 64 hex digits"
    return None


class ExchangeEndpoint:
    """Runs signed actions against the engine."""

    def __init__(
        self,
        *,
        engine: MatchingEngine,
        accounts: AccountRegistry,
        faults: Faults,
        mainnet_signing: bool,
        now_ms: Callable[[], int],
        stamps: ReactionStamps | None = None,
    ) -> None:
        self._engine = engine
        self._accounts = accounts
        self._faults = faults
        self._mainnet_signing = mainnet_signing
        self._now_ms = now_ms
        self._stamps = stamps or ReactionStamps()

    def handle(
        self, body: Any, *, arrived_ms: int | None = None, arrived_ns: int | None = None
    ) -> HttpReply:
        """Answer one ``/exchange`` request body (already JSON-decoded).

        ``arrived_ms`` is when the request reached the venue (now when omitted); the
        account's action log records it. ``arrived_ns`` is the same instant on the venue's
        monotonic clock, for the reaction stamps (:mod:`venues.hl_local.stamps`).
        """
        arrived_mono = self._stamps.monotonic_ns() if arrived_ns is None else arrived_ns
        parsed = parse_envelope(body)
        if isinstance(parsed, HttpReply):
            return parsed
        now = self._now_ms()
        self._engine.now_ms = now
        window_error = nonce_window_error(parsed.nonce, now)
        if window_error is not None:
            return HttpReply.json(error_response(window_error))
        try:
            signer = recover_signer(
                action=parsed.action,
                signature=parsed.signature,
                vault_address=parsed.vault_address,
                nonce=parsed.nonce,
                expires_after=parsed.expires_after,
                is_mainnet=self._mainnet_signing,
            )
        except SignatureUnreadable:
            return HttpReply.json(error_response("Unable to recover signer."))
        account = self._accounts.account_for_signer(signer)
        if account is None:
            return HttpReply.json(error_response(f"User or API Wallet {signer} does not exist."))
        priced = priced_orders(parsed.action, self._touch)  # the book before the action ran
        refusal = self._faults.take_refusal(account, parsed.action["type"], now)
        reply = refusal or self._run_fresh(parsed, signer, account, now)
        arrived = now if arrived_ms is None else arrived_ms
        record = ActionRecord.of(parsed.action, reply, arrived_ms=arrived, priced=priced)
        account.actions.add(record)
        self._stamps.action_arrived(
            user=account.address,
            kind=record.type,
            arrived_ns=arrived_mono,
            accepted=record.accepted,
        )
        return reply

    def _touch(self, asset: object) -> tuple[str, Decimal | None, Decimal | None] | None:
        listed = self._engine.universe.by_asset(asset) if type(asset) is int else None
        if listed is None:
            return None
        book = self._engine.books[listed.coin]
        return listed.coin, book.best_bid(), book.best_ask()

    def _run_fresh(
        self, parsed: SignedAction, signer: str, account: Account, now: int
    ) -> HttpReply:
        if parsed.vault_address is not None:
            return HttpReply.json(error_response("Vault not registered"))
        if parsed.expires_after is not None and parsed.expires_after < now:
            return HttpReply.json(
                error_response(f"Action expired at {parsed.expires_after}, now is {now}.")
            )
        nonce_error = self._accounts.nonces.use(signer, parsed.nonce)
        if nonce_error is not None:
            return HttpReply.json(error_response(nonce_error))
        account.n_requests += address_requests(parsed.action)
        return self._dispatch(parsed.action, account, now)

    def _dispatch(self, action: dict[str, Any], account: Account, now: int) -> HttpReply:
        kind = action["type"]
        if kind in ORDER_ACTIONS:
            return run_order_action(self._engine, account, action)
        if kind == "scheduleCancel":
            return self._schedule_cancel(action, account, now)
        if kind == "updateLeverage":
            return self._update_leverage(action, account)
        if kind == "approveAgent":
            return self._approve_agent(action, account)
        if kind == "noop":
            return HttpReply.json(default_ok())
        return deserialize_error(f"unknown variant `{kind}`")

    def _approve_agent(self, action: dict[str, Any], account: Account) -> HttpReply:
        agent = action.get("agentAddress")
        if not isinstance(agent, str):
            return deserialize_error("approveAgent: missing field `agentAddress`")
        self._accounts.approve_agent(master=account.address, agent=agent)
        return HttpReply.json(default_ok())

    @staticmethod
    def _schedule_cancel(action: dict[str, Any], account: Account, now: int) -> HttpReply:
        when = action.get("time")
        if when is None:
            account.schedule_cancel_ms = None
            return HttpReply.json(default_ok())
        if type(when) is not int:
            return deserialize_error("scheduleCancel: invalid type for `time`")
        if when < now + SCHEDULE_CANCEL_MIN_LEAD_MS:
            return HttpReply.json(
                error_response(
                    "Scheduled cancel time too early, must be at least 5 seconds from now."
                )
            )
        account.schedule_cancel_ms = when
        return HttpReply.json(default_ok())

    def _update_leverage(self, action: dict[str, Any], account: Account) -> HttpReply:
        asset, leverage = action.get("asset"), action.get("leverage")
        if type(asset) is not int or type(leverage) is not int:
            return deserialize_error("updateLeverage: invalid type")
        perp = self._engine.universe.by_asset(asset)
        if perp is None or not 1 <= leverage <= perp.instrument.max_leverage:
            return HttpReply.json(error_response("Invalid leverage value"))
        account.leverage[perp.coin] = leverage
        return HttpReply.json(default_ok())


def address_requests(action: dict[str, Any]) -> int:
    """What an action costs its address's request budget: the exchange counts a batch of
    n orders, cancels or modifies as n (the IP's weight counts the batch once)."""
    for key in ("orders", "cancels", "modifies"):
        items = action.get(key)
        if isinstance(items, list) and items:
            return len(items)
    return 1
