"""Hyperliquid wire layer: signing, wire shapes, meta rules, parsers, errors, secrets.

Only this package knows Hyperliquid's JSON; everything it hands out is a protocol type
(or a small typed value defined here). It does not import the Hyperliquid SDK: signing
is reimplemented byte for byte (see :mod:`venues.hyperliquid.signing`).
"""

from makerd.venues.hyperliquid.errors import (
    ExchangeResponse,
    FeedParseError,
    FilledOnArrival,
    ItemAccepted,
    ItemRejected,
    ItemStatus,
    Resting,
    VenueError,
    classify_error,
    order_status_for,
    parse_exchange_response,
    reject_reason_for_status,
)
from makerd.venues.hyperliquid.meta import (
    UnknownCoinError,
    UnknownDexError,
    dex_of,
    instrument_for,
    parse_meta,
    parse_meta_and_asset_ctxs,
    parse_perp_dexs,
    resolve_instrument,
)
from makerd.venues.hyperliquid.secrets import PrivateKey, PrivateKeyError, load_private_key
from makerd.venues.hyperliquid.signing import InvalidSignatureError, L1Signer, recover_l1_signer
from makerd.venues.hyperliquid.wire import (
    BuilderFee,
    batch_modify_action,
    cancel_action,
    cancel_by_cloid_action,
    cloid_session_prefix,
    decimal_to_wire,
    is_valid_cloid,
    new_cloid,
    order_action,
    order_wire,
    schedule_cancel_action,
)

__all__ = [
    "BuilderFee",
    "ExchangeResponse",
    "FeedParseError",
    "FilledOnArrival",
    "InvalidSignatureError",
    "ItemAccepted",
    "ItemRejected",
    "ItemStatus",
    "L1Signer",
    "PrivateKey",
    "PrivateKeyError",
    "Resting",
    "UnknownCoinError",
    "UnknownDexError",
    "VenueError",
    "batch_modify_action",
    "cancel_action",
    "cancel_by_cloid_action",
    "classify_error",
    "cloid_session_prefix",
    "decimal_to_wire",
    "dex_of",
    "instrument_for",
    "is_valid_cloid",
    "load_private_key",
    "new_cloid",
    "order_action",
    "order_status_for",
    "order_wire",
    "parse_exchange_response",
    "parse_meta",
    "parse_meta_and_asset_ctxs",
    "parse_perp_dexs",
    "recover_l1_signer",
    "reject_reason_for_status",
    "resolve_instrument",
    "schedule_cancel_action",
]
