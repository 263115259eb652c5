"""Gas per entry point, as a Markdown table (the README's gas table is this script's output).

    ape run gas --network ethereum:local:foundry

Deploys everything on a throw-away Anvil with a linear curve, then runs each entry point in a
realistic state and reads gasUsed from its receipt. A benchmark, not a test: it prints, it does
not assert.
"""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from scripts._deployment import ProtocolConfig, add_liquidity, deploy_local

USDC = 10**6
ETH = 10**18


@click.command(cls=ConnectedProviderCommand)
def cli():
    """Print gas used per entry point."""
    governor, guardian, lender, borrower, keeper, other = accounts.test_accounts[:6]
    c = deploy_local(project, governor, guardian, ProtocolConfig(curve="linear"))
    vault, liquidator, usdc, weth, wbtc = c["vault"], c["liquidator"], c["usdc"], c["weth"], c["wbtc"]
    add_liquidity(c["uniswap_router"], governor, weth, usdc, 1_000 * ETH, 2_000_000 * USDC)
    rows: list[tuple[str, int, str]] = []

    def measure(name: str, note: str, tx) -> None:
        rows.append((name, tx.gas_used, note))

    usdc.mint(lender, 1_000_000 * USDC, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=lender)
    measure(
        "deposit", "first deposit into the Vault (ERC-4626)", vault.deposit(1_000_000 * USDC, lender, sender=lender)
    )
    usdc.mint(governor, 100_000 * USDC, sender=governor)
    usdc.approve(c["insurance_fund"], 2**256 - 1, sender=governor)
    c["insurance_fund"].fund(100_000 * USDC, sender=governor)

    for who in (borrower, other):
        weth.mint(who, 100 * ETH, sender=governor)
        wbtc.mint(who, 10**8, sender=governor)
        weth.approve(vault, 2**256 - 1, sender=who)
        wbtc.approve(vault, 2**256 - 1, sender=who)
        usdc.approve(vault, 2**256 - 1, sender=who)
    measure(
        "supplyCollateral",
        "first supply of an asset",
        vault.supplyCollateral(weth, 10 * ETH, borrower, sender=borrower),
    )
    measure(
        "borrow", "first borrow, one collateral asset", vault.borrow(14_000 * USDC, borrower, borrower, sender=borrower)
    )
    measure("repay", "partial", vault.repay(100 * USDC, borrower, sender=borrower))
    vault.supplyCollateral(weth, 2 * ETH, other, sender=other)
    vault.supplyCollateral(wbtc, 10**7, other, sender=other)
    measure("borrow", "two collateral assets", vault.borrow(5_000 * USDC, other, other, sender=other))
    measure(
        "withdrawCollateral",
        "with debt (health checked)",
        vault.withdrawCollateral(weth, ETH // 100, borrower, borrower, sender=borrower),
    )

    c["weth_feed"].setAnswer(1_700 * 10**8, sender=governor)
    tx = vault.liquidate(borrower, sender=keeper)
    measure("liquidate", "partial kick, one asset, one auction", tx)
    (first,) = [log.id for log in tx.events.filter(liquidator.Kick)]
    c["weth_feed"].setAnswer(1_400 * 10**8, sender=governor)
    tx = vault.liquidate(other, sender=keeper)
    measure("liquidate", "full kick, two assets, two auctions", tx)
    second, third = [log.id for log in tx.events.filter(liquidator.Kick)]

    usdc.mint(keeper, 1_000_000 * USDC, sender=governor)
    usdc.approve(liquidator, 2**256 - 1, sender=keeper)
    start = chain.blocks.head.timestamp
    chain.pending_timestamp = start + 600
    measure("take", "partial, from inventory", liquidator.take(first, ETH, 2**256 - 1, keeper, b"", sender=keeper))
    measure(
        "take",
        "final: ends the auction, leftover back",
        liquidator.take(first, 10 * ETH, 2**256 - 1, keeper, b"", sender=keeper),
    )
    tx = c["taker"].takeAndSell(second, 10 * ETH, 2**256 - 1, c["uniswap_router"], [weth, usdc], 0, sender=keeper)
    measure("take with callback", "UniswapV2Taker: onTake sells on Uniswap V2, then pays", tx)
    c["wbtc_feed"].setAnswer(30_000 * 10**8, sender=governor)
    c["weth_feed"].setAnswer(1_400 * 10**8, sender=governor)
    chain.pending_timestamp = chain.blocks.head.timestamp + 1_900  # past the cusp of a linear 1h curve
    chain.mine()
    c["wbtc_feed"].setAnswer(30_000 * 10**8, sender=governor)
    measure("redo", "restart a too-cheap auction, keeper paid", liquidator.redo(third, sender=keeper))
    c["weth_feed"].setAnswer(1_700 * 10**8, sender=governor)
    measure("repay", "in full", vault.repay(2**256 - 1, borrower, sender=borrower))

    click.echo("| entry point | gas used | case |")
    click.echo("| --- | ---: | --- |")
    for name, gas, note in rows:
        click.echo(f"| `{name}` | {gas:,} | {note} |")
