"""The exchange's ``l2Book`` push in its exact shape, decoded typed in one pass.

Books are most of the market stream, forty levels each. Decoded generically, a book
becomes forty-five containers that the depth check walks again and the parser reads a
third time. A typed decoder checks the shape while it reads: every field's type (strings
for prices and sizes, integers for counts and times, never a bool or a float), exactly
two sides, no field the exchange does not send. The schema itself bounds the nesting, so
there is nothing left for the depth check to find.

A message of any other shape is not refused here: :func:`decode_book_frame` answers
``None`` and the message takes the generic path (``frames.decode_frame``), whose checks
name its problem. What a field holds (a positive plain decimal, a time within the skew
bound, a coin traded here) is still the parser's to check (``parse_book.py``).
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec


class WireLevel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One level as sent: hashable, so the level cache can be keyed on it directly."""

    px: str
    sz: str
    n: int


class WireBook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """An ``l2Book`` push's ``data``: bids best first, then asks best first."""

    coin: str
    time: int
    levels: tuple[tuple[WireLevel, ...], tuple[WireLevel, ...]]


class _BookFrame(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    channel: Literal["l2Book"]
    data: WireBook


_DECODER: Final = msgspec.json.Decoder(_BookFrame)


def decode_book_frame(raw: str | bytes) -> WireBook | None:
    """The book in ``raw`` when it is an ``l2Book`` push of the exact shape, else None."""
    try:
        return _DECODER.decode(raw).data
    except msgspec.DecodeError:  # ValidationError included: another channel or shape
        return None
