"""Signing and sending one ``/exchange`` action, and reading its answer.

Nonces come from a :class:`NonceSource`; a "nonce too low" refusal teaches it the
exchange's floor, so only the refused action is lost.
An answer that never came returns ``None`` after asking for settlement; a rate-limit
refusal (HTTP 429 or the address-budget text) starts the budget's backoff and comes
back as a typed whole-action error like any other refusal. An action accepted that was
sent during the backoff ends it (the limit is over): ``lifted`` hears it, so new risk
goes out again at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Final

from makerd.protocol.rejections import RejectReason
from makerd.venues.hyperliquid.answer_check import foreign_answer
from makerd.venues.hyperliquid.errors import (
    ExchangeResponse,
    FeedParseError,
    VenueError,
    parse_exchange_response,
)
from makerd.venues.hyperliquid.nonces import NonceSource, refused_floor
from makerd.venues.hyperliquid.probe import SendProbe, SendStage
from makerd.venues.hyperliquid.rate_budget import Priority
from makerd.venues.hyperliquid.rest import RateLimitedError, RequestLostError, RestClient
from makerd.venues.hyperliquid.signing import L1Signer

log = logging.getLogger("makerd.venue.requests")
_OWN_ALLOWANCE: Final = frozenset({"cancel", "cancelByCloid"})
"""Actions the exchange allows more of than orders under an address limit (cancels: twice
the cap): one accepted says nothing of whether an order would be."""


class SignedSender:
    """Signs actions for one account setup and posts them through the rate budget."""

    def __init__(
        self,
        *,
        rest: RestClient,
        signer: L1Signer,
        is_mainnet: bool,
        vault_address: str | None,
        settle: Callable[[], None],
        nonces: NonceSource,
        probe: SendProbe | None = None,
        lifted: Callable[[], None] | None = None,
    ) -> None:
        """``probe`` (a benchmark's) hears when each order command's action is signed;
        ``lifted`` when an accepted action ends the rate-limit backoff."""
        self._rest = rest
        self._probe = probe
        self._signer = signer
        self._is_mainnet = is_mainnet
        self._vault = vault_address.lower() if vault_address else None
        self._settle = settle
        self._lifted = lifted
        self._nonces = nonces
        self.lost_answers = 0

    async def send(
        self,
        action: Mapping[str, object],
        *,
        items: int,
        priority: Priority,
        expires_after_ms: int | None = None,
        decided_ns: int | None = None,
    ) -> ExchangeResponse | None:
        """Post ``action``; ``None`` means the outcome is unknown (settlement requested).

        With ``expires_after_ms`` the exchange refuses the action once its clock has passed
        that time, so an action whose answer is lost cannot take effect after it.
        ``decided_ns`` (the order command's ``ts_local``) names the action to the probe.
        """
        probe = self._probe
        if probe is not None and decided_ns is not None:
            probe.stamp(SendStage.SIGNING, decided_ns)
        nonce = self._nonces.next()
        signature = self._signer.sign_l1(
            action,
            nonce,
            vault_address=self._vault,
            expires_after=expires_after_ms,
            is_mainnet=self._is_mainnet,
        )
        if probe is not None and decided_ns is not None:
            probe.stamp(SendStage.SIGNED, decided_ns)
        payload: dict[str, object] = {
            "action": dict(action),
            "nonce": nonce,
            "signature": signature,
            "vaultAddress": self._vault,
            "expiresAfter": expires_after_ms,
        }
        kind = action.get("type")
        # Before any wait for budget: an action that waited counts as sent earlier, so
        # its refusal can only extend a backoff less, never start one it did not probe.
        sent_at = self._rest.budget.now()
        try:
            body = await self._rest.exchange(
                payload, items=items, priority=priority, decided_ns=decided_ns
            )
        except RequestLostError as error:
            self._lost(f"{kind}: {error}")
            return None
        except RateLimitedError as error:
            log.warning("event=rate_limited action=%s detail=%r", kind, str(error))
            return ExchangeResponse(
                error=VenueError(
                    reason=RejectReason.RATE_LIMITED,
                    message=str(error),
                    retry_after_s=error.retry_after_s,
                ),
                statuses=(),
            )
        try:
            response = parse_exchange_response(body)
        except FeedParseError as error:
            self._lost(f"{kind}: unreadable answer ({error.reason})")
            return None
        foreign = foreign_answer(action, response)
        if foreign is not None:  # another post's answer under this one's id
            self._lost(f"{kind}: an answer to another action ({foreign})")
            return None
        if response.error is not None and response.error.reason is RejectReason.RATE_LIMITED:
            pause = self._rest.budget.record_rate_limited(sent_at=sent_at)
            log.warning(
                "event=rate_limited action=%s pause_s=%.1f message=%r",
                kind,
                pause,
                response.error.message,
            )
            return replace(response, error=replace(response.error, retry_after_s=pause))
        if response.error is not None:
            floor = refused_floor(response.error.message)
            if floor is not None:
                self._nonces.refused_below(floor)
        if response.error is None:
            evidence = None if kind in _OWN_ALLOWANCE else sent_at
            if self._rest.budget.record_success(sent_at=evidence):
                log.info("event=rate_limit_lifted action=%s", kind)
                if self._lifted is not None:
                    self._lifted()
        return response

    def _lost(self, detail: str) -> None:
        self.lost_answers += 1
        log.warning("event=answer_lost detail=%r: settling from the venue's state", detail)
        self._settle()
