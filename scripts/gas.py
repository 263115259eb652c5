"""Gas per entry point, Gavel beside Morpho Blue, as the Markdown tables in docs/benchmarks.md.

    make gas        (or: ape run gas --network ethereum:local:foundry, after `make compile`)

Deploys Gavel (as `make deploy` does: the exponential curve) and Morpho Blue (from npm,
compiled by tools/compile_morpho.js with its own pinned compiler; its own oracle and rate-model
mocks) on one throw-away Anvil, sharing the same ERC-20 tokens, then runs the same positions
through both and reads gasUsed from each receipt. A benchmark, not a test: it prints, it does not assert.
Beside them, the least any take can cost on the same tokens and oracle (contracts/test/GasFloor.sol:
the two transfers and, as Gavel's take does, the two price reads; nothing else).

Every figure is the same on every run: the chain's clock starts at a fixed timestamp and each
block is dated one second after the one before (jumps are set explicitly), so whether interest
is written in a transaction never depends on how fast this machine is.

The scenario: two accounts of 10 WETH / 12,000 USDC each, ETH 2,000 -> 1,400 (health factor
0.93, below the deep bound: each kick covers the whole debt), kick both, take after 240 s (the
lot's debt is 86% of its worth: at full urgency it sells below its floor, see docs/design.md).
(With 10,000 of debt the account would be healthy at 1,400 under an 80% threshold.)
"""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand
from ape.logging import logger

from scripts._deployment import ProtocolConfig, add_liquidity, deploy_local
from scripts._morpho import market_id, morpho_contracts

USDC = 10**6
ETH = 10**18
WAD = 10**18
MAX = 2**256 - 1
T0 = 1_900_000_000  # [seconds] the chain's clock at the first transaction (2030-03-17)
TAKE_AFTER = 240  # [seconds] after the kick; the same wait before Morpho's liquidations
FLOOR_PRICED = "the transaction, two token transfers, two oracle reads"
FLOOR_UNPRICED = "the transaction, two token transfers"


class Rows:
    """Receipts' gasUsed, in the order measured."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int]] = []

    def add(self, name: str, case: str, tx) -> object:
        self.rows.append((name, case, int(tx.gas_used)))
        return tx

    def get(self, name: str, case: str) -> int:
        return next(gas for n, c, gas in self.rows if (n, c) == (name, case))


def fixed_clock() -> None:
    """Start the chain at T0 and date every block one second after the last."""
    chain.provider.make_request("anvil_setBlockTimestampInterval", [1])
    chain.mine(timestamp=T0)


def gavel(rows: Rows, governor, guardian, lender, a, b, c, d, keeper) -> dict:
    g = deploy_local(project, governor, guardian, ProtocolConfig())
    vault, liquidator, fund, usdc, weth, wbtc = (
        g["vault"], g["liquidator"], g["insurance_fund"], g["usdc"], g["weth"], g["wbtc"]
    )  # fmt: skip
    add_liquidity(g["uniswap_router"], governor, weth, usdc, 1_000 * ETH, 2_000_000 * USDC)
    usdc.mint(lender, 2_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=lender)
    rows.add(
        "deposit", "first deposit into the Vault (ERC-4626)", vault.deposit(1_000_000 * USDC, lender, sender=lender)
    )
    usdc.mint(governor, 100_000 * USDC, sender=governor)
    usdc.approve(fund, MAX, sender=governor)
    fund.fund(100_000 * USDC, sender=governor)
    for who in (a, b, c, d):
        weth.mint(who, 100 * ETH, sender=governor)
        wbtc.mint(who, 10**8, sender=governor)
        for token in (weth, wbtc, usdc):
            token.approve(vault, MAX, sender=who)

    rows.add("supplyCollateral", "first supply of a collateral", vault.supplyCollateral(weth, 10 * ETH, a, sender=a))
    rows.add("borrow", "first borrow, one collateral", vault.borrow(12_000 * USDC, a, a, sender=a))
    rows.add("repay", "partial", vault.repay(100 * USDC, a, sender=a))
    vault.supplyCollateral(weth, 10 * ETH, b, sender=b)
    vault.borrow(12_000 * USDC, b, b, sender=b)
    vault.supplyCollateral(weth, 2 * ETH, c, sender=c)
    vault.supplyCollateral(wbtc, 10**7, c, sender=c)
    rows.add("borrow", "two collaterals", vault.borrow(5_000 * USDC, c, c, sender=c))
    rows.add(
        "withdrawCollateral", "with debt (health checked)", vault.withdrawCollateral(weth, ETH // 100, a, a, sender=a)
    )
    vault.supplyCollateral(weth, 10 * ETH, d, sender=d)
    vault.borrow(11_500 * USDC, d, d, sender=d)

    g["weth_feed"].setAnswer(1_400 * 10**8, sender=governor)
    tx = rows.add("liquidate", "kick, first account (whole debt)", vault.liquidate(a, sender=keeper))
    (first,) = [log.id for log in tx.events.filter(liquidator.Kick)]
    kicked_at = chain.blocks[tx.block_number].timestamp
    tx = rows.add("liquidate", "kick, later account (whole debt)", vault.liquidate(b, sender=keeper))
    (second,) = [log.id for log in tx.events.filter(liquidator.Kick)]
    rows.add("liquidate", "kick, partial (close factor)", vault.liquidate(d, sender=keeper))
    tx = rows.add("liquidate", "kick, two collaterals, two auctions", vault.liquidate(c, sender=keeper))
    third, fourth = [log.id for log in tx.events.filter(liquidator.Kick)]

    usdc.mint(keeper, 1_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=keeper)  # the Vault pulls a take's payment
    chain.pending_timestamp = kicked_at + TAKE_AFTER
    take = liquidator.take
    rows.add(
        "take", "partial, receiver holding none of the collateral", take(first, ETH, MAX, keeper, b"", sender=keeper)
    )
    rows.add("take", "partial, from inventory", take(first, ETH, MAX, keeper, b"", sender=keeper))
    rows.add(
        "take", "whole lot: ends the auction, leftover back", take(second, 10 * ETH, MAX, keeper, b"", sender=keeper)
    )
    rows.add("take", "final rest: ends the auction", take(first, 10 * ETH, MAX, keeper, b"", sender=keeper))
    tx = g["taker"].takeAndSell(third, 10 * ETH, MAX, g["uniswap_router"], [weth, usdc], 0, sender=keeper)
    rows.add("take with callback", "UniswapV2Taker: onTake sells on Uniswap V2, then pays", tx)
    chain.pending_timestamp = kicked_at + ProtocolConfig().collaterals[1].tail + 1  # too old: needs redo
    for feed, dollars in (("weth_feed", 1_400), ("wbtc_feed", 30_000), ("usdc_feed", 1)):
        g[feed].setAnswer(dollars * 10**8, sender=governor)
    rows.add("redo", "restart an auction past its tail, keeper credited", liquidator.redo(fourth, sender=keeper))
    rows.add("claimIncentive", "keeper claims its credited incentives", liquidator.claimIncentive(sender=keeper))
    g["weth_feed"].setAnswer(2_000 * 10**8, sender=governor)
    rows.add("repay", "in full", vault.repay(MAX, d, sender=d))
    return g


def floor(rows: Rows, g: dict, governor, keeper) -> None:
    """What any take must spend on the same tokens and oracle (contracts/test/GasFloor.sol), in the
    state of Gavel's "partial, from inventory": the seller and the buyer already hold both tokens."""
    usdc, weth = g["usdc"], g["weth"]
    least = project.GasFloor.deploy(sender=governor)
    weth.mint(least, 10 * ETH, sender=governor)
    usdc.mint(least, 1 * USDC, sender=governor)
    usdc.approve(least, MAX, sender=keeper)
    for case, read in ((FLOOR_PRICED, True), (FLOOR_UNPRICED, False)):
        tx = least.take(g["oracle"], weth, usdc, ETH, 1_400 * USDC, keeper, read, sender=keeper)
        rows.add("floor", case, tx)


def morpho(rows: Rows, g: dict, governor, lender, a, b, keeper) -> None:
    """The same two positions on Morpho Blue, on the same tokens, liquidated with its fixed
    discount (LLTV 80%, Gavel's WETH liquidation threshold: incentive factor 1/(1 - 0.3 * 0.2))."""
    m = morpho_contracts()
    usdc, weth = g["usdc"], g["weth"]
    blue = m["Morpho"].deploy(governor, sender=governor)
    oracle = m["OracleMock"].deploy(sender=governor)
    irm = m["IrmMock"].deploy(sender=governor)
    lltv = 80 * WAD // 100
    blue.enableIrm(irm, sender=governor)
    blue.enableLltv(lltv, sender=governor)
    market = (usdc.address, weth.address, oracle.address, irm.address, lltv)
    scale = 10**36 * USDC // ETH  # Morpho's price: loan units per collateral unit, times 1e36
    oracle.setPrice(2_000 * scale, sender=governor)
    blue.createMarket(market, sender=governor)
    usdc.approve(blue, MAX, sender=lender)
    blue.supply(market, 1_000_000 * USDC, 0, lender, b"", sender=lender)
    for who in (a, b):
        weth.approve(blue, MAX, sender=who)
        blue.supplyCollateral(market, 10 * ETH, who, b"", sender=who)
        blue.borrow(market, 12_000 * USDC, 0, who, who, sender=who)
    oracle.setPrice(1_400 * scale, sender=governor)
    usdc.mint(keeper, 1_000_000 * USDC, sender=governor)  # a liquidator holding no WETH yet
    usdc.approve(blue, MAX, sender=keeper)
    chain.pending_timestamp = chain.blocks.head.timestamp + TAKE_AFTER
    # Partial: seize 1 WETH, twice (the second with the liquidator already holding WETH), then
    # repay what is left of the account's debt shares.
    rows.add("morpho liquidate", "partial, seize 1 WETH", blue.liquidate(market, a, ETH, 0, b"", sender=keeper))
    rows.add("morpho liquidate", "partial again, seize 1 WETH", blue.liquidate(market, a, ETH, 0, b"", sender=keeper))
    the_market = market_id(market)
    shares = blue.position(the_market, a).borrowShares
    rows.add(
        "morpho liquidate", "final rest: repay every share", blue.liquidate(market, a, 0, shares, b"", sender=keeper)
    )
    shares = blue.position(the_market, b).borrowShares
    rows.add("morpho liquidate", "whole position in one call", blue.liquidate(market, b, 0, shares, b"", sender=keeper))


def print_tables(rows: Rows) -> None:
    click.echo("Gavel, every entry point (gasUsed from each receipt):")
    click.echo("")
    click.echo("| entry point | gas used | case |")
    click.echo("| --- | ---: | --- |")
    for name, case, gas in rows.rows:
        if name not in ("morpho liquidate", "floor"):
            click.echo(f"| `{name}` | {gas:,} | {case} |")
    kick = rows.get("liquidate", "kick, later account (whole debt)")
    whole = rows.get("take", "whole lot: ends the auction, leftover back")
    first_kick = rows.get("liquidate", "kick, first account (whole debt)")
    partial = rows.get("take", "partial, from inventory")
    fresh = rows.get("take", "partial, receiver holding none of the collateral")
    final = rows.get("take", "final rest: ends the auction")
    m_whole = rows.get("morpho liquidate", "whole position in one call")
    m_partial = rows.get("morpho liquidate", "partial again, seize 1 WETH")
    m_fresh = rows.get("morpho liquidate", "partial, seize 1 WETH")
    m_final = rows.get("morpho liquidate", "final rest: repay every share")
    click.echo("")
    click.echo("Gavel beside Morpho Blue, the same position (10 WETH / 12,000 USDC, ETH 2,000 -> 1,400), one run:")
    click.echo("")
    click.echo("| step | Gavel (Dutch auction) | Morpho Blue (fixed discount) |")
    click.echo("| --- | ---: | ---: |")
    click.echo(f"| kick, first / later account | {first_kick:,} / {kick:,} | (none: no auction) |")
    click.echo(f"| partial, buyer holding none of the collateral | {fresh:,} | {m_fresh:,} |")
    click.echo(f"| partial, buyer already holding some | {partial:,} | {m_partial:,} |")
    click.echo(f"| final rest | {final:,} | {m_final:,} |")
    click.echo(f"| whole position: later kick + one whole-lot take / one liquidate | {kick + whole:,} | {m_whole:,} |")
    priced, unpriced = rows.get("floor", FLOOR_PRICED), rows.get("floor", FLOOR_UNPRICED)
    click.echo("")
    click.echo("The least any take can cost here (contracts/test/GasFloor.sol: what every take must do, nothing else):")
    click.echo("")
    click.echo("| what it does | gas used | left of 90,000 (the partial take's target) for its own work |")
    click.echo("| --- | ---: | ---: |")
    for case, gas in ((FLOOR_PRICED, priced), (FLOOR_UNPRICED, unpriced)):
        click.echo(f"| {case} | {gas:,} | {_left(gas)} |")
    gavel_take = "Gavel's partial take from inventory (the two reads, and the auction and its books)"
    click.echo(f"| {gavel_take} | {partial:,} | {_left(partial)} |")


def _left(gas: int, target: int = 90_000) -> str:
    return f"{target - gas:,}" if gas <= target else f"none ({gas - target:,} over)"


@click.command(cls=ConnectedProviderCommand)
def cli():
    """Print gas used per entry point, Gavel beside Morpho Blue."""
    logger.set_level("WARNING")  # a line per step, not one per confirmed transaction
    governor, guardian, lender, a, b, c, d, keeper, morpho_keeper = accounts.test_accounts[:9]
    fixed_clock()
    rows = Rows()
    click.echo("deploying Gavel and measuring its entry points ...")
    g = gavel(rows, governor, guardian, lender, a, b, c, d, keeper)
    click.echo("measuring the least a take can cost on the same tokens and oracle ...")
    floor(rows, g, governor, keeper)
    click.echo("deploying Morpho Blue beside it and liquidating the same positions ...")
    morpho(rows, g, governor, lender, a, b, morpho_keeper)
    click.echo("")
    print_tables(rows)
