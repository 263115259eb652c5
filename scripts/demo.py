"""The whole system on a throw-away Anvil, in one command (`make demo`; `make demo ARGS="--borrowers
20"` is the quick run):

deploy Gavel and a real Uniswap V2 pool with depth, open the borrowers at varied loan-to-value,
start the keeper, crash ETH through its feed in steps (an arbitrageur moves the pool with it),
and tell what happened: one line per price step, then a report, and three pictures (PNG) in the
folder it names. Exits non-zero if any liquidatable account is left unliquidated.

It starts its own Anvil, without the step tracing Ape's provider turns on (that alone took
gigabytes), and stops it at the end; Ape's line per transaction is turned off. Block timestamps
are set here (two minutes per keeper tick), never taken from the wall clock."""

from __future__ import annotations

import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from ape import accounts, networks, project
from ape.contracts import ContractContainer
from ape.logging import logger

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.store import Store
from bots.keeper.strategy import KickMode
from scripts._bulk import Anvil, Borrower, BulkChain, borrower_address, open_borrowers
from scripts._demo_charts import Story, draw
from scripts._deployment import ProtocolConfig, add_liquidity, deploy_local, npm_artifact
from scripts._options import charts_option
from scripts._pools import trade_to

USDC = 10**6
ETH = 10**18
WAD = 10**18
BORROWERS = 200
LENDING = 20_000_000  # [whole USDC] the lender's deposit: all the borrowers can borrow
LENDABLE = LENDING * 99 // 100  # less a margin for the reserves interest books during set-up
PRICE_STEPS = (1_900, 1_750, 1_600, 1_450, 1_300)  # [USD per ETH] from 2,000
TICKS_PER_STEP = 12
SECONDS_PER_TICK = 120
NO_DEBT = 2**255  # [wad] health factors from here up: an account without debt


def borrowers_for(n: int, seed: int, weth: str) -> list[Borrower]:
    """1 to 20 WETH each, borrowing 20-74% of its value at $2,000."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        collateral = rng.randint(1, 20) * ETH
        ltv = rng.randint(20, 74)
        out.append(Borrower(borrower_address(i), {weth: collateral}, collateral * 2_000 * ltv // 100 // ETH * USDC))
    return out


def check_lending(borrowers: int, seed: int) -> None:
    """Refuse more borrowers than the lender's deposit can lend to: beyond it their borrows
    fail at set-up (the Vault has no cash left), after minutes of opening the first ones."""
    total, fits = 0, 0
    for b in borrowers_for(borrowers, seed, "0x" + "00" * 20):
        total += b.debt
        fits += total <= LENDABLE * USDC
    if fits < borrowers:
        raise click.BadParameter(
            f"{borrowers:,} borrowers would borrow {total / USDC:,.0f} USDC, over the {LENDABLE:,} USDC the "
            f"demo's lender can lend: at most {fits:,} fit with --seed {seed}",
            param_hint="--borrowers",
        )


def health_factors(vault: Any, people: list[str]) -> list[int]:
    """[wad] Each account's health factor, 500 a call (the largest there is: no debt)."""
    return [int(h) for first in range(0, len(people), 500) for h in vault.healthFactors(people[first : first + 500])]


def in_debt(factors: list[int]) -> list[float]:
    """The health of every borrower still in debt (accounts without debt have none to speak of)."""
    return [h / WAD for h in factors if h < NO_DEBT]


def peak_mb(pid: int | None = None) -> float:
    """Peak resident memory [MB] of this process, or of process `pid` (Linux: VmHWM)."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@click.command()
@click.option(
    "--borrowers",
    type=click.IntRange(min=1),
    default=BORROWERS,
    show_default=True,
    help=f"How many borrower accounts to open (as many as {LENDING:,} USDC of lending serves: about 2,000).",
)
@click.option("--seed", default=7, show_default=True, help="Seed for the borrowers' loan-to-value.")
@charts_option("demo-charts")
def cli(borrowers: int, seed: int, charts: Path) -> None:
    """Run the end-to-end demo and print its story."""
    check_lending(borrowers, seed)
    started = time.perf_counter()
    logger.set_level("WARNING")  # no line per transaction
    click.echo("Starting a fresh Anvil (no step tracing)...")
    node = Anvil()
    try:
        with networks.parse_network_choice(f"ethereum:local:{node.uri}") as provider:
            story, left = run(provider.chain_manager, node, borrowers, seed)
        anvil_peak = peak_mb(node.process.pid)
    finally:
        node.stop()
    for path in draw(story, charts):
        click.echo(f"  picture: {path}")
    click.echo(
        f"  peak memory: Anvil {anvil_peak:,.0f} MB, this process {peak_mb():,.0f} MB; "
        f"{time.perf_counter() - started:,.0f} s in all"
    )
    if left:
        raise click.ClickException(f"{len(left)} liquidatable accounts were left unliquidated: {left[:5]}...")


def run(chain: Any, node: Anvil, borrowers: int, seed: int) -> tuple[Story, list[str]]:
    """The demo itself; returns what it saw and the liquidatable accounts left (none, if all
    went well)."""
    governor, guardian, lender, keeper_account, arb = accounts.test_accounts[:5]
    # Every block one second after the last, but where a tick dates its first block itself, so
    # interest and auction prices never depend on how fast this machine is.
    node.rpc("anvil_setBlockTimestampInterval", [1])
    click.echo("Deploying Gavel, tokens, feeds and a Uniswap V2 WETH/USDC pool (5,000 WETH deep)...")
    c = deploy_local(project, governor, guardian, ProtocolConfig())
    vault, liquidator, usdc, weth = c["vault"], c["liquidator"], c["usdc"], c["weth"]
    add_liquidity(c["uniswap_router"], governor, weth, usdc, 5_000 * ETH, 10_000_000 * USDC)
    pair = ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Pair")).at(
        c["uniswap_factory"].getPair(weth, usdc)
    )
    usdc.mint(lender, LENDING * USDC, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=lender)
    vault.deposit(LENDING * USDC, lender, sender=lender)
    usdc.mint(governor, 200_000 * USDC, sender=governor)
    usdc.approve(c["insurance_fund"], 2**256 - 1, sender=governor)
    c["insurance_fund"].fund(200_000 * USDC, sender=governor)
    start_block = chain.blocks.head.number + 1

    people = borrowers_for(borrowers, seed, str(weth.address))
    weth.mint(governor, sum(b.collateral[str(weth.address)] for b in people), sender=governor)
    weth.approve(vault, 2**256 - 1, sender=governor)
    bulk = BulkChain(node.rpc)
    bulk.manual_mining()
    t0 = time.perf_counter()

    def opened(done: int) -> None:
        took = time.perf_counter() - t0
        click.echo(f"Opening borrowers at 20-74% loan-to-value: {done:,} of {borrowers:,} ({took:.0f} s)")

    open_borrowers(bulk, str(vault.address), governor.address, people, opened, chunk=1_000)
    node.rpc("evm_setAutomine", [True])
    addresses = [b.address for b in people]

    store = Store(Path(tempfile.mkdtemp()) / "keeper.sqlite", chain.chain_id, vault.address, start_block)
    contracts = Contracts(
        vault, liquidator, c["oracle"], c["insurance_fund"], usdc, c["taker"], c["uniswap_factory"], c["uniswap_router"]
    )
    keeper = Keeper(
        contracts, keeper_account, chain, store, Policy(kick_mode=KickMode.ALWAYS), project, native_asset=weth.address
    )
    keeper_start = int(usdc.balanceOf(keeper_account))
    keeper.tick()  # index the borrowers
    weth_spec = ProtocolConfig().collaterals[0]
    story = Story(
        health_before=in_debt(health_factors(vault, addresses)), floor=weth_spec.buf * weth_spec.cusp / WAD**2
    )
    click.echo(f"The keeper is watching {keeper.tick().accounts:,} borrowers. ETH falls from $2,000:")

    crash_time = int(chain.blocks.head.timestamp)
    story.prices.append((0.0, 2_000.0))
    kicked_accounts: set[str] = set()
    kicks_of: dict[str, int] = {}  # account -> how many times it was kicked
    kick_delays: list[int] = []
    sold_value = 0  # [USDC units] the oracle's value of the collateral takes bought
    takes_seen = 0
    for price in PRICE_STEPS:
        update = c["weth_feed"].setAnswer(price * 10**8, sender=governor)
        minute = (int(chain.blocks.head.timestamp) - crash_time) / 60
        story.prices.append((minute, float(price)))
        unhealthy, kicks_now, takes_now = 0, 0, 0
        for tick in range(TICKS_PER_STEP):
            before = chain.blocks.head.number
            report = bulk.mined_after(keeper.tick)  # mined after the tick, as on a network
            if tick == 0:
                unhealthy = len(report.unhealthy)
                # Then an arbitrageur brings the pool to the new price (after the keeper's first
                # tick: its transactions are not the keeper's latency).
                trade_to(price * USDC, pair, c["uniswap_router"], weth, usdc, arb)
            now = (int(chain.blocks.head.timestamp) - crash_time) / 60
            for take in liquidator.Take.range(before + 1, chain.blocks.head.number + 1):
                story.takes.append((now, take.price / WAD, float(price)))
                sold_value += take.bought * price * USDC // ETH
                takes_now += 1
            # The block each kick was mined in.
            for kick in vault.Liquidated.range(before + 1, chain.blocks.head.number + 1):
                story.kicks.append((now, float(price)))
                kicks_now += 1
                kicks_of[kick.account.lower()] = kicks_of.get(kick.account.lower(), 0) + 1
                if kick.account.lower() not in kicked_accounts:
                    kicked_accounts.add(kick.account.lower())
                    kick_delays.append(kick.block_number - update.block_number)
            node.rpc("evm_setNextBlockTimestamp", [int(chain.blocks.head.timestamp) + SECONDS_PER_TICK])
            c["weth_feed"].setAnswer(price * 10**8, sender=governor)  # the feed keeps beating
            c["usdc_feed"].setAnswer(10**8, sender=governor)
            c["wbtc_feed"].setAnswer(30_000 * 10**8, sender=governor)
        takes_seen += takes_now
        bad_debt = sum(s.badDebt for s in vault.ShortfallSettled.range(start_block, chain.blocks.head.number + 1))
        click.echo(
            f"  ETH ${price:,}: {unhealthy:,} accounts went under, {kicks_now:,} kicks, {takes_now:,} takes, "
            f"{len(keeper.store.live_auctions()):,} auctions still selling; bad debt so far {bad_debt / USDC:,.2f} USDC"
        )

    factors = health_factors(vault, addresses)
    story.health_after = in_debt(factors)
    story.closed = sum(
        1 for a, h in zip(addresses, factors, strict=True) if h >= NO_DEBT and a.lower() in kicked_accounts
    )
    proceeds = list(vault.AuctionProceeds.range(start_block, chain.blocks.head.number + 1))
    repaid = sum(int(p.debtRepaid) for p in proceeds)
    penalty = sum(int(p.penalty) for p in proceeds)
    config = vault.liquidationConfig()
    left = [a for a, h in zip(addresses, factors, strict=True) if h < WAD]
    bad_debt = sum(s.badDebt for s in vault.ShortfallSettled.range(start_block, chain.blocks.head.number + 1))
    profit = int(usdc.balanceOf(keeper_account)) - keeper_start
    live = len(keeper.store.live_auctions())

    click.echo("")
    click.echo("Gavel demo report")
    click.echo(f"  borrowers                     {borrowers:,}")
    click.echo(f"  accounts liquidated           {len(kicked_accounts):,}")
    click.echo(f"  auctions taken                {takes_seen:,} takes")
    click.echo(f"  auctions still selling        {live:,}")
    if live:
        click.echo(
            "    (an auction still selling is not a loss: its price keeps falling until a take clears it or it is\n"
            "    redone; the demo simply stops at the last price step. Its debt is valued at most at its lot's worth.)"
        )
    again = sum(1 for n in kicks_of.values() if n > 1)
    if again:
        click.echo(f"  accounts kicked more than once {again:,} (most: {max(kicks_of.values())} times)")
        click.echo(
            f"    (a kick closes {config.closeFactor / WAD:.0%} of an account's debt (the close factor) while its\n"
            f"    health is at least {config.deepHealth / WAD:.2f}, the whole debt below it: an account still under\n"
            "    after a partial sale, as the price falls on, is kicked again)"
        )
    if kick_delays:
        median = sorted(kick_delays)[len(kick_delays) // 2]
        click.echo(f"  blocks, price update to kick  min {min(kick_delays)}, median {median}, max {max(kick_delays)}")
        click.echo("    (the keeper's transactions of a tick are mined after it, together, as on a network)")
    if story.takes:
        ratios = [t[1] / t[2] for t in story.takes]
        click.echo(
            f"  clearing / oracle price       mean {sum(ratios) / len(ratios):.3f}, "
            f"range {min(ratios):.3f}-{max(ratios):.3f}"
        )
    click.echo(f"  bad debt                      {bad_debt / USDC:,.2f} USDC")
    click.echo(f"  keeper profit (incl. tips)    {profit / USDC:,.2f} USDC")
    click.echo(
        f"  borrowers' loss               {(sold_value - repaid) / USDC:,.2f} USDC, of it the penalty "
        f"{penalty / USDC:,.2f} (lenders' and the fund's)"
    )
    if sold_value:
        click.echo(
            f"    (the oracle's value of the collateral sold, {sold_value / USDC:,.2f}, less the debt it repaid: "
            f"{(sold_value - repaid) / sold_value:.1%} of it,\n"
            "    against about 6% at a fixed discount with the same threshold: Morpho Blue's at LLTV 80%)"
        )
    click.echo(f"  liquidatable accounts left    {len(left):,}")
    keeper.store.close()
    return story, left
