"""The keeper's command line:

    python -m bots.keeper run [--config keeper.toml] [--network ethereum:local:node] [--account ALIAS] [--dry-run]
    python -m bots.keeper status [--config keeper.toml] [--network ...] [--top 10] [--json]

Settings come from the TOML file, then GAVEL_KEEPER_* environment variables, then these flags.
Run it with the project's environment (`make keeper` sets it up)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bots.keeper.config import KeeperSettings, load_settings
from bots.keeper.errors import KeeperError


def _count(text: str) -> int:
    """A whole number of at least 1, for --ticks and --top: argparse names the flag if not."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bots.keeper", description="Gavel keeper")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="watch, kick and take until stopped")
    run.add_argument("--config", type=Path, help="TOML settings file")
    run.add_argument("--network", help="Ape network choice, e.g. ethereum:local:node")
    run.add_argument("--account", help="Ape account alias to sign with")
    run.add_argument("--database", type=Path, help="SQLite mirror and checkpoint")
    run.add_argument("--dry-run", action="store_true", default=None, help="send nothing; say what would be sent")
    run.add_argument("--ticks", type=_count, help="stop after this many ticks (default: run until stopped)")
    status = sub.add_parser("status", help="markets, oracle, fund, breaker, riskiest accounts and live auctions")
    status.add_argument("--config", type=Path, help="TOML settings file")
    status.add_argument("--network", help="Ape network choice, e.g. ethereum:local:node")
    status.add_argument("--database", type=Path, help="SQLite mirror (the keeper's), brought up to date first")
    status.add_argument("--top", type=_count, default=10, help="how many of the accounts closest to liquidation")
    status.add_argument("--json", action="store_true", help="JSON for scripts instead of tables")
    args = parser.parse_args(argv)

    try:
        if args.command == "status":
            settings = load_settings(args.config, network=args.network, database=args.database)
            return _status(settings, args.top, args.json)
        settings = load_settings(
            args.config, network=args.network, account=args.account, database=args.database, dry_run=args.dry_run
        )
        from bots.keeper.logs import configure

        configure(settings.log_level)
        return _run(settings, args.ticks)
    except KeeperError as err:
        print(f"gavel keeper: {err}", file=sys.stderr)
        return 2


def _run(settings: KeeperSettings, ticks: int | None) -> int:
    from ape import accounts, chain, networks, project

    from bots.keeper.metrics import KeeperMetrics
    from bots.keeper.runner import Loop, TickLog, build_keepers, check_network, connected, deployment_for

    check_network(settings.network, networks)
    for market in settings.market_list():
        deployment_for(market)  # fail on a missing file before connecting anywhere
    with connected(settings.network, networks):
        keepers = build_keepers(settings, project, chain, accounts)
        metrics = KeeperMetrics()
        if settings.metrics_port:
            metrics.serve(settings.metrics_port)
        logging.getLogger("gavel.keeper").info(
            "keeper started",
            extra={
                "network": settings.network,
                "signer": str(keepers[0].signer.address),
                "markets": {k.name: str(k.c.vault.address) for k in keepers},
                "dry_run": settings.dry_run,
                "kick_mode": str(settings.kick_mode),
                "metrics_port": settings.metrics_port,
            },
        )
        loop = Loop(keepers, metrics, settings.poll_seconds, tick_log=TickLog(settings.heartbeat_seconds))
        loop.install_signal_handlers()
        loop.run(ticks)
    return 0


def _status(settings: KeeperSettings, top: int, as_json: bool) -> int:
    from ape import chain, networks, project
    from ape.logging import logger

    logger.set_level("WARNING")  # Ape's "Connecting to..." would break the JSON on stdout

    from bots.keeper.runner import check_network, connected, deployment_for, market_contracts
    from bots.keeper.status import read_market, render, to_json
    from bots.keeper.store import Store

    check_network(settings.network, networks)
    markets = settings.market_list()
    for market in markets:
        deployment_for(market)
    outbox = settings.outbox or markets[0].mirror
    with connected(settings.network, networks):
        found = []
        for market in markets:
            _, record, addresses, contracts = market_contracts(market, settings.network, project, chain)
            contracts["erc20"] = project.MockERC20  # any ERC-20 ABI serves for decimals()
            store = Store(market.mirror, record.chain_id, addresses["vault"], record.start_block, outbox=outbox)
            try:
                found.append(read_market(market.label, contracts, store, chain, top, settings.confirmations))
            finally:
                store.close()
    print(to_json(found) if as_json else render(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
