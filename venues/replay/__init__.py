"""Replaying recorded market data: streaming readers and the venue that feeds paper matching."""
