"""The exchange's addresses: light enough for any command line to import."""

from __future__ import annotations

from typing import Final

MAINNET_API_URL: Final = "https://api.hyperliquid.xyz"
TESTNET_API_URL: Final = "https://api.hyperliquid-testnet.xyz"


def websocket_url(api_url: str) -> str:
    """The WebSocket URL the way the SDK derives it: ``"ws" + url[len("http"):] + "/ws"``."""
    return "ws" + api_url.rstrip("/")[len("http") :] + "/ws"
