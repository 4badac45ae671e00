"""What makes a book usable: both sides present, each in order, not crossed, all positive.

One function, so the book_feed (which refuses such a book) and the live market feed
(which moves its price band's anchor only on a book the book_feed will take) agree.
"""

from __future__ import annotations

import itertools
import operator

from makerd.protocol.market import BookLevel


def book_problem(bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...]) -> str | None:
    """Why the book cannot be quoted on (a drop reason), or None when it can."""
    # Every book passes here, so each check is one pass in C (map, min) over the prices.
    if not bids or not asks:
        return "empty_side"
    bid_prices = [level.price for level in bids]
    ask_prices = [level.price for level in asks]
    if not all(map(operator.gt, bid_prices, itertools.islice(bid_prices, 1, None))):
        return "bids_not_descending"
    if not all(map(operator.lt, ask_prices, itertools.islice(ask_prices, 1, None))):
        return "asks_not_ascending"
    if bid_prices[0] >= ask_prices[0]:
        return "crossed"
    # Ordered and not crossed, so the last bid is the lowest price of the book.
    if bid_prices[-1] <= 0 or min(map(_size, (*bids, *asks))) <= 0:
        return "non_positive_level"
    return None


_size = operator.attrgetter("size")
