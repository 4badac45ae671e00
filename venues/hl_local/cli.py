"""``makerd venue``: serve the local Hyperliquid-compatible venue until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from decimal import Decimal, InvalidOperation

from makerd.venues.hl_local.liquidity import DEFAULT_TAKER_PROBABILITY, LiquidityConfig
from makerd.venues.hl_local.server import LocalVenue, VenueConfig

log = logging.getLogger("makerd.venue")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="makerd venue",
        description="Local Hyperliquid-compatible venue: POST /info, POST /exchange and /ws "
        "on one port, signatures verified, exchange rules enforced.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = any)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the synthetic market")
    parser.add_argument("--tick-ms", type=int, default=200, help="market step (default 200)")
    parser.add_argument(
        "--initial-usdc", type=_decimal, default=Decimal(1_000_000), help="USDC per new account"
    )
    parser.add_argument(
        "--auto-provision",
        action="store_true",
        help="fund any signer on its first action (off: only --fund accounts may trade)",
    )
    parser.add_argument(
        "--fund", action="append", default=[], metavar="ADDRESS", help="pre-fund an account"
    )
    parser.add_argument(
        "--mainnet-signing",
        action="store_true",
        help="verify signatures as mainnet (source 'a') instead of testnet ('b')",
    )
    parser.add_argument(
        "--taker-probability",
        type=float,
        default=DEFAULT_TAKER_PROBABILITY,
        help="chance per coin per tick of a background taker (default 0.5)",
    )
    parser.add_argument(
        "--clock-offset-s",
        type=float,
        default=0.0,
        help="run the venue's clock this many seconds ahead of the host's (negative: "
        "behind), to try a client on a host whose clock disagrees with the exchange's",
    )
    return parser


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from error


def main(argv: list[str] | None = None) -> int:
    """Run the venue until SIGINT or SIGTERM; return the process exit code."""
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    config = VenueConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        tick_interval_s=args.tick_ms / 1000,
        initial_usdc=args.initial_usdc,
        auto_provision=args.auto_provision,
        mainnet_signing=args.mainnet_signing,
        funded_accounts=tuple(args.fund),
        liquidity=LiquidityConfig(taker_probability=args.taker_probability),
        clock_offset_s=args.clock_offset_s,
    )
    try:
        asyncio.run(_serve(config))
    except OSError as error:
        log.error("venue could not start: %s", error)
        return 1
    return 0


async def _serve(config: VenueConfig) -> None:
    venue = LocalVenue(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    url = await venue.start()
    network = "mainnet" if config.mainnet_signing else "testnet"
    log.info(
        "local venue ready at %s (ws %s/ws, %s signing)", url, url.replace("http", "ws", 1), network
    )
    try:
        await stop.wait()
    finally:
        log.info("local venue stopping")
        await venue.stop()
