"""Gavel against mainnet's own contracts, on a fork (of live mainnet, or of the recorded block
18476512 when no MAINNET_RPC_URL is given: the header says which).

What these prove: the adapter reads the real Chainlink feeds (8 decimals, real rounds and
timestamps); the Vault takes real WETH and lends real USDC (a proxy, 6 decimals) at the live
price; the keeper indexes, kicks and takes through UniswapV2Taker, whose `onTake` sells on the
real Uniswap V2 USDC/WETH pair through the real Router02; every USDC and WETH wei is accounted
for afterwards; and the real feed's own age makes the oracle refuse it past its heartbeat."""

from __future__ import annotations

import ape
import pytest

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.store import Store
from bots.keeper.strategy import KickMode
from mainnet import ETH, ETH_USD_FEED, USDC, USDC_USD_FEED

pytestmark = pytest.mark.fork

WAD = 10**18
OK, STALE = 0, 1  # IOracleAdapter.Status


def chainlink(project, address):
    return project.MockAggregator.at(address)  # the AggregatorV3 view functions share its ABI


def supply_weth(weth, vault, who, amount: int) -> None:
    weth.deposit(value=amount, sender=who)  # real WETH9: wrap ETH
    weth.approve(vault, amount, sender=who)
    vault.supplyCollateral(weth, amount, who, sender=who)


def replace_eth_usd_answer(chain, project, governor, dollars: int):
    """Replace the ETH / USD feed at its mainnet address with a settable one speaking the same
    interface (the only way to move a real Chainlink price on a fork), answering `dollars`."""
    stand_in = project.MockAggregator.deploy(8, "ETH / USD", dollars * 10**8, sender=governor)
    chain.provider.set_code(ETH_USD_FEED, chain.provider.get_code(stand_in.address))
    feed = project.MockAggregator.at(ETH_USD_FEED)
    feed.setAnswer(dollars * 10**8, sender=governor)
    feed.setAnsweredInRound(feed.roundId(), sender=governor)
    return feed


def test_the_oracle_reads_the_real_chainlink_feeds(project, gavel, weth, usdc):
    oracle = gavel["oracle"]
    _, eth_answer, _, _, _ = chainlink(project, ETH_USD_FEED).latestRoundData()
    _, usd_answer, _, _, _ = chainlink(project, USDC_USD_FEED).latestRoundData()
    assert oracle.peek(weth) == (eth_answer * 10**10, OK)  # 8-decimal answers scaled to WAD
    assert oracle.peek(usdc) == (usd_answer * 10**10, OK)
    assert 500 * WAD < eth_answer * 10**10 < 20_000 * WAD and abs(usd_answer - 10**8) < 10**6


def test_borrow_against_weth_at_the_live_price(project, gavel, weth, usdc, borrower):
    vault, oracle = gavel["vault"], gavel["oracle"]
    supply_weth(weth, vault, borrower, 10 * ETH)
    eth_price, _ = oracle.peek(weth)
    usd_price, _ = oracle.peek(usdc)
    # Borrow limit [wad USD] = 10 WETH x price x 80% max LTV; debt is valued at USDC's own price.
    limit = 10 * eth_price * 80 // 100
    assert vault.accountSnapshot(borrower).borrowLimit == limit
    most = limit * USDC // usd_price  # [USDC] the whole limit, rounded down
    with ape.reverts(vault.InsufficientCollateral):
        vault.borrow(most + 2, borrower, borrower, sender=borrower)  # 2 wei over: above, whatever the rounding
    vault.borrow(most - 1, borrower, borrower, sender=borrower)
    assert usdc.balanceOf(borrower) == most - 1
    assert vault.debtOf(borrower) >= most - 1


def test_keeper_kicks_and_takes_through_real_uniswap_and_every_wei_is_accounted(
    chain, project, gavel, weth, usdc, borrower, governor, accounts, tmp_path
):
    vault, liquidator, fund = gavel["vault"], gavel["liquidator"], gavel["insurance_fund"]
    supply_weth(weth, vault, borrower, 10 * ETH)
    eth_price, _ = gavel["oracle"].peek(weth)
    vault.borrow(10 * eth_price * 75 // 100 * USDC // WAD, borrower, borrower, sender=borrower)  # 75% LTV
    start = chain.blocks.head.number

    keeper_account = accounts[8]  # holds no USDC at all: it takes through the flash taker
    assert usdc.balanceOf(keeper_account) == 0
    contracts = Contracts(
        vault,
        liquidator,
        gavel["oracle"],
        fund,
        usdc,
        gavel["taker"],
        gavel["uniswap_factory"],
        gavel["uniswap_router"],
    )
    store = Store(tmp_path / "keeper.sqlite", chain.chain_id, vault.address, start)
    policy = Policy(kick_mode=KickMode.ALWAYS)
    keeper = Keeper(contracts, keeper_account, chain, store, policy, project, native_asset=weth.address)
    assert keeper.tick().accounts == 1  # indexed from the fork's own events, nothing to do yet

    # The fork's ETH/USD answer is replaced at its address: the price falls 17%.
    replace_eth_usd_answer(chain, project, governor, eth_price * 83 // 100 // WAD)
    cash, coverage = usdc.balanceOf(vault), fund.coverage()
    debt_before, weth_before = vault.debtOf(borrower), vault.collateralOf(borrower, weth)
    reports = [keeper.tick() for _ in range(3)]
    assert reports[0].kicked == [borrower.address.lower()]
    assert sum(len(r.taken) for r in reports) >= 1 and keeper.store.live_auctions() == []

    # The keeper started with no USDC and ends with its take profit (and its claimed incentive).
    assert usdc.balanceOf(keeper_account) > 0

    # Every wei, from the events of the kick and the takes.
    since = {"start_block": start + 1}
    (liquidated,) = vault.Liquidated.query("*", **since).itertuples()
    proceeds = list(vault.AuctionProceeds.query("*", **since).itertuples())
    takes = list(liquidator.Take.query("*", **since).itertuples())
    ended = list(liquidator.AuctionEnded.query("*", **since).itertuples())
    incentives = list(liquidator.KeeperIncentive.query("*", **since).itertuples())
    seized = sum(e.event_arguments["amount"] for e in vault.CollateralSeized.query("*", **since).itertuples())
    returned = sum(e.event_arguments["leftover"] for e in ended)
    repaid = sum(p.event_arguments["debtRepaid"] for p in proceeds)
    penalty = sum(p.event_arguments["penalty"] for p in proceeds)
    to_fund = sum(p.event_arguments["penaltyToFund"] for p in proceeds)
    credited = sum(i.event_arguments["owed"] for i in incentives)
    assert sum(t.event_arguments["paid"] for t in takes) == repaid + penalty  # bidders paid the tab
    assert all(e.event_arguments["shortfall"] == 0 for e in ended)  # the pool paid well: no bad debt
    assert repaid == liquidated.event_arguments["debtCovered"]
    # The whole tab reached the Vault; the fund's share of the penalty waits there as reserves.
    assert usdc.balanceOf(vault) == cash + repaid + penalty and vault.reserves() >= to_fund
    # The fund owes the credited incentive first (claimed or not): shortfalls see the rest.
    assert fund.coverage() == coverage - credited
    # Interest accrues by the second up to the kick, so the debt covered is a little above the
    # debt read before; the account's own record is exact: deep under, it was closed in full.
    assert debt_before <= repaid < debt_before + debt_before // 10**5
    assert liquidated.event_arguments["scaledDebt"] == vault.scaledDebtOf(borrower) == 0
    assert vault.collateralOf(borrower, weth) == weth_before - seized + returned
    assert weth.balanceOf(vault) == vault.totalCollateral(weth) == vault.collateralOf(borrower, weth)
    assert weth.balanceOf(liquidator) == 0 and vault.auctionDebt() == 0
    vault.accrueInterest(sender=governor)
    # Lenders' assets: cash and debt, less reserves and the penalty income still unlocking (a day).
    unlocking = vault.unvestedIncome()
    assert unlocking > 0
    assert vault.totalAssets() == usdc.balanceOf(vault) + vault.totalDebt() - vault.reserves() - unlocking


def test_the_real_feed_goes_stale_after_its_heartbeat(chain, project, gavel, weth, usdc, borrower):
    """No answer is replaced here: the real ETH / USD round's own `updatedAt`, and the fork's
    clock moved to one second either side of its 3,600-second heartbeat."""
    vault, oracle = gavel["vault"], gavel["oracle"]
    supply_weth(weth, vault, borrower, 10 * ETH)
    _, _, _, updated_at, _ = chainlink(project, ETH_USD_FEED).latestRoundData()
    assert oracle.sourcesOf(weth)[0][0].heartbeat == 3_600

    chain.pending_timestamp = updated_at + 3_600  # the borrow's block: exactly a heartbeat old
    tx = vault.borrow(1_000 * USDC, borrower, borrower, sender=borrower)
    assert chain.blocks[tx.block_number].timestamp == updated_at + 3_600
    assert oracle.peek(weth)[1] == OK  # still counts

    chain.mine(timestamp=updated_at + 3_601)
    assert oracle.peek(weth)[1] == STALE
    # Stale collateral counts for nothing: no borrowing against it.
    with ape.reverts(vault.InsufficientCollateral, borrowLimit=0):
        vault.borrow(1_000 * USDC, borrower, borrower, sender=borrower)
    usdc.approve(vault, 500 * USDC, sender=borrower)  # real USDC: allowance as for any ERC-20
    vault.repay(500 * USDC, borrower, sender=borrower)  # repaying never needs a price
    assert vault.debtOf(borrower) >= 500 * USDC


def test_price_updates_are_watched_where_chainlink_receives_them(chain, gavel, weth, usdc):
    """The oracle reads Chainlink's proxies, but a round's `transmit` goes to the aggregator behind
    each: the keeper's pool watch must know both."""
    from bots.keeper.market import AGGREGATOR, MarketReader
    from bots.keeper.rpc import HttpJsonRpc

    rpc = HttpJsonRpc(chain.provider.http_uri)
    reader = MarketReader(rpc, str(gavel["vault"].address), str(gavel["oracle"].address), str(usdc.address))
    targets = reader.update_targets([str(weth.address), str(usdc.address)])
    (aggregator,) = AGGREGATOR.decode(rpc("eth_call", [{"to": ETH_USD_FEED, "data": AGGREGATOR.data()}, "latest"]))
    assert aggregator.lower() != ETH_USD_FEED.lower()
    assert {ETH_USD_FEED.lower(), aggregator.lower(), USDC_USD_FEED.lower()} <= targets
