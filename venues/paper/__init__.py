"""Paper matching: honest simulated execution against public market data."""

from makerd.venues.paper.exchange import PaperExchange

__all__ = ["PaperExchange"]
