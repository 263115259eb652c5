"""The whole system on a throw-away Anvil, in one command (`make demo`):

deploy Gavel and a real Uniswap V2 pool with depth, open 200 borrowers at varied loan-to-value,
start the keeper, crash ETH through its feed in steps (an arbitrageur moves the pool with it),
and report: accounts liquidated, blocks from each price update to its kick, clearing prices
against the oracle, bad debt and the keeper's profit. Exits non-zero if any liquidatable account
is left unliquidated. ape-foundry stops Anvil when the script ends, so nothing is left running.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.store import Store
from bots.keeper.strategy import KickMode
from scripts._deployment import ProtocolConfig, add_liquidity, deploy_local, npm_artifact

USDC = 10**6
ETH = 10**18
WAD = 10**18
BORROWERS = 200
PRICE_STEPS = (1_900, 1_750, 1_600, 1_450, 1_300)  # [USD per ETH] from 2,000
TICKS_PER_STEP = 12
SECONDS_PER_TICK = 120


def arbitrage_pool_to(price: int, pair, router, weth, usdc, arb) -> None:
    """Sell WETH into (or buy it from) the pool until its price is about `price` USDC per ETH, as
    an arbitrageur would after the oracle moved."""
    r0, r1, _ = pair.getReserves()
    weth_reserve, usdc_reserve = (r0, r1) if pair.token0() == weth.address else (r1, r0)
    # Constant product: at the target, weth' = sqrt(k / price); sell the difference.
    k = weth_reserve * usdc_reserve
    target_weth = int((k * ETH / (price * USDC)) ** 0.5)
    if target_weth > weth_reserve:
        amount = target_weth - weth_reserve
        weth.mint(arb, amount, sender=arb)
        weth.approve(router, amount, sender=arb)
        router.swapExactTokensForTokens(amount, 0, [weth, usdc], arb, 2**255, sender=arb)


@click.command(cls=ConnectedProviderCommand)
@click.option("--borrowers", default=BORROWERS, show_default=True, help="How many borrower accounts to open.")
@click.option("--seed", default=7, show_default=True, help="Seed for the borrowers' loan-to-value.")
def cli(borrowers: int, seed: int) -> None:
    """Run the end-to-end demo and print its report."""
    rng = random.Random(seed)
    governor, guardian, lender, keeper_account, arb = accounts.test_accounts[:5]
    click.echo("Deploying Gavel, tokens, feeds and Uniswap V2 on a fresh Anvil...")
    c = deploy_local(project, governor, guardian, ProtocolConfig())
    vault, liquidator, usdc, weth = c["vault"], c["liquidator"], c["usdc"], c["weth"]
    add_liquidity(c["uniswap_router"], governor, weth, usdc, 5_000 * ETH, 10_000_000 * USDC)
    from ape.contracts import ContractContainer

    pair = ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Pair")).at(
        c["uniswap_factory"].getPair(weth, usdc)
    )
    usdc.mint(lender, 20_000_000 * USDC, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=lender)
    vault.deposit(20_000_000 * USDC, lender, sender=lender)
    usdc.mint(governor, 200_000 * USDC, sender=governor)
    usdc.approve(c["insurance_fund"], 2**256 - 1, sender=governor)
    c["insurance_fund"].fund(200_000 * USDC, sender=governor)

    click.echo(f"Opening {borrowers} borrowers at 20-74% loan-to-value...")
    weth.mint(governor, borrowers * 20 * ETH, sender=governor)
    weth.approve(vault, 2**256 - 1, sender=governor)
    people = []
    for _ in range(borrowers):
        who = accounts.test_accounts.generate_test_account()
        chain.set_balance(who.address, 10 * ETH)
        collateral = rng.randint(1, 20) * ETH
        ltv = rng.randint(20, 74)
        vault.supplyCollateral(weth, collateral, who, sender=governor)  # anyone may supply for an account
        vault.borrow(collateral * 2_000 * ltv // 100 // ETH * USDC, who, who, sender=who)
        people.append(who)

    store = Store(Path(tempfile.mkdtemp()) / "keeper.sqlite", chain.chain_id, vault.address, 1)
    contracts = Contracts(
        vault, liquidator, c["oracle"], c["insurance_fund"], usdc, c["taker"], c["uniswap_factory"], c["uniswap_router"]
    )
    policy = Policy(kick_mode=KickMode.ALWAYS)
    keeper = Keeper(contracts, keeper_account, chain, store, policy, project, native_asset=c["weth"].address)
    keeper_start = usdc.balanceOf(keeper_account)
    keeper.tick()  # index the borrowers

    kick_delays: list[int] = []
    clearing: list[float] = []  # each take's price as a fraction of the oracle price at the time
    kicked_accounts: set[str] = set()
    for price in PRICE_STEPS:
        update = c["weth_feed"].setAnswer(price * 10**8, sender=governor)
        arbitrage_pool_to(price, pair, c["uniswap_router"], weth, usdc, arb)
        click.echo(f"ETH -> ${price:,}")
        for _ in range(TICKS_PER_STEP):
            before = chain.blocks.head.number
            keeper.tick()
            for take in liquidator.Take.range(before + 1, chain.blocks.head.number + 1):
                clearing.append(take.price / WAD / price)  # clearing price / oracle price now
            # The block each kick was mined in (automine: one transaction per block, so a tick
            # that kicks twenty accounts spreads them over twenty blocks).
            for kick in vault.Liquidated.range(before + 1, chain.blocks.head.number + 1):
                if kick.account.lower() not in kicked_accounts:
                    kicked_accounts.add(kick.account.lower())
                    kick_delays.append(kick.block_number - update.block_number)
            chain.pending_timestamp = chain.blocks.head.timestamp + SECONDS_PER_TICK
            c["weth_feed"].setAnswer(price * 10**8, sender=governor)  # the feed keeps beating
            c["usdc_feed"].setAnswer(10**8, sender=governor)
            c["wbtc_feed"].setAnswer(30_000 * 10**8, sender=governor)

    takes = list(liquidator.Take.range(0, chain.blocks.head.number + 1))
    settled = list(vault.ShortfallSettled.range(0, chain.blocks.head.number + 1))
    hfs = vault.healthFactors([p.address for p in people])
    left = [p.address for p, hf in zip(people, hfs, strict=True) if hf < WAD]
    bad_debt = sum(s.badDebt for s in settled)
    profit = usdc.balanceOf(keeper_account) - keeper_start

    click.echo("")
    click.echo("Gavel demo report")
    click.echo(f"  borrowers                     {borrowers}")
    click.echo(f"  accounts liquidated           {len(kicked_accounts)}")
    click.echo(
        f"  auctions taken                {len(takes)} takes, {len(keeper.store.live_auctions())} auctions still live"
    )
    if kick_delays:
        median = sorted(kick_delays)[len(kick_delays) // 2]
        click.echo(f"  blocks, price update to kick  min {min(kick_delays)}, median {median}, max {max(kick_delays)}")
    if clearing:
        mean = sum(clearing) / len(clearing)
        click.echo(f"  clearing / oracle price       mean {mean:.3f}, range {min(clearing):.3f}-{max(clearing):.3f}")
    click.echo(f"  bad debt                      {bad_debt / USDC:,.2f} USDC")
    click.echo(f"  keeper profit (incl. tips)    {profit / USDC:,.2f} USDC")
    click.echo(f"  liquidatable accounts left    {len(left)}")
    if left:
        raise click.ClickException(f"{len(left)} liquidatable accounts were left unliquidated: {left[:5]}...")
