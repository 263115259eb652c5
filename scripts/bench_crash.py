"""Crash scenarios, Gavel beside a fixed-discount lender: `make bench-crash` (`ARGS="--borrowers 20"`
for a quick run). What runs and what is measured: scripts/_crash.py."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click
from ape import networks
from ape.logging import logger

from scripts._bulk import Anvil
from scripts._crash import USDC, Outcome, draw, gavel_config, run_path, setup, table, verdict
from scripts._crash_paths import PATHS
from scripts._deployment import DeploymentError, check_config
from scripts._options import charts_option


@click.command()
@click.option(
    "--borrowers",
    type=click.IntRange(1, 2_000),
    default=100,
    show_default=True,
    help="Borrowers, the same on both protocols.",
)
@click.option("--seed", default=3, show_default=True, help="Their collateral and loan-to-value.")
@charts_option("bench-crash-charts")
@click.option("--buf", type=float, default=None, help="Gavel's WETH start price / oracle price (default 1).")
@click.option("--cut", type=float, default=None, help="Gavel's price kept per 60-s step (default 0.997).")
@click.option("--penalty", type=float, default=None, help="Gavel's WETH penalty (default 0.02).")
@click.option("--only", default="", help="Run only the paths whose name contains this (e.g. 'wick').")
@click.option("--cusp", type=float, default=None, help="Gavel's WETH floor / top (default 0.965).")
def cli(
    borrowers: int,
    seed: int,
    charts: Path,
    buf: float | None,
    cut: float | None,
    penalty: float | None,
    cusp: float | None,
    only: str,
) -> None:
    """Gavel and Morpho Blue through the same crashes (Gavel's auction parameters may be varied)."""
    say = click.echo
    paths = [p for p in PATHS if only.lower() in p.name.lower()]
    if not paths:
        raise click.BadParameter(f"no path's name contains {only!r}", param_hint="--only")
    try:  # Gavel's parameters, as varied, against the contracts' bounds, before any set-up
        check_config(gavel_config(buf, cut, penalty, cusp), USDC)
    except DeploymentError as err:
        raise click.BadParameter(str(err), param_hint="--buf/--cut/--penalty/--cusp") from None
    logger.set_level("WARNING")
    say("Starting a fresh Anvil (no step tracing)...")
    node = Anvil()
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    try:
        with networks.parse_network_choice(f"ethereum:local:{node.uri}") as provider:
            chain = provider.chain_manager
            # Every block one second after the last (each tick dates its first block itself):
            # interest and auction prices then do not depend on how fast this machine is, and
            # every run prints the same figures.
            node.rpc("anvil_setBlockTimestampInterval", [1])
            world = setup(chain, node, borrowers, seed, say, gavel_config(buf, cut, penalty, cusp))
            stores = Path(tempfile.mkdtemp())
            for path in paths:
                for protocol in ("Gavel", "Morpho Blue"):
                    snapshot = node.rpc("evm_snapshot", [])
                    ticked = time.perf_counter()
                    outcome = run_path(world, path, protocol, stores)
                    node.rpc("evm_revert", [snapshot])
                    # A transaction still in the pool (priced under a base fee the bench forced up)
                    # would survive the revert and be mined in the next run at its nonce.
                    node.rpc("anvil_dropAllTransactions", [])
                    outcomes.append(outcome)
                    say(
                        f"  {path.name}, {protocol}: {len(outcome.liquidated)} liquidated, borrowers lost "
                        f"{outcome.borrower_loss / USDC:,.0f} USDC, bad debt "
                        f"{outcome.total_bad_debt / USDC:,.0f} USDC"
                        + (f", {outcome.left_selling} auctions still selling" if outcome.left_selling else "")
                        + (f", {outcome.late_ticks} ticks began late" if outcome.late_ticks else "")
                        + f" ({time.perf_counter() - ticked:.0f} s)"
                    )
    finally:
        node.stop()
    say("")
    say(table(outcomes))
    say("")
    say("Targets, path by path (for default parameters at 100 borrowers):")
    for line in verdict(outcomes):
        say(line)
    for file in draw(outcomes, charts):
        say(f"  picture: {file}")
    say(f"{time.perf_counter() - started:.0f} s in all")
