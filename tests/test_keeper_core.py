"""The keeper against Anvil: it finds the account a price drop pushes under, kicks it within
two blocks of the price update, and takes the auction through the flash taker for a profit with
no capital of its own. In dry-run mode it sends nothing and says what it would send."""

import pytest

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.store import Store
from bots.keeper.strategy import KickMode
from conftest import at, open_position

USDC = 10**6
ETH = 10**18


@pytest.fixture
def new_keeper(tmp_path, project, chain, vault, liquidator, oracle, fund, usdc, uniswap, governor):
    """new_keeper(signer, **policy): a Keeper on the test deployment, its mirror in tmp_path (the
    same file each time, as a restarted process would find it)."""
    taker = project.UniswapV2Taker.deploy(liquidator, usdc, sender=governor)  # not a signer: its nonce matters
    contracts = Contracts(vault, liquidator, oracle, fund, usdc, taker, uniswap["factory"], uniswap["router"])

    def make(signer, **policy):
        store = Store(tmp_path / "keeper.sqlite", chain.chain_id, vault.address, start_block=1)
        return Keeper(contracts, signer, chain, store, Policy(**policy), project)

    return make


def three_borrowers(vault, weth, accounts, governor):
    borrowers = [accounts[3], accounts[6], accounts[7]]
    for who, debt in zip(borrowers, (14_000, 12_000, 8_000), strict=True):
        if who != accounts[3]:
            weth.mint(who, 10 * ETH, sender=governor)
            weth.approve(vault, 2**256 - 1, sender=who)
        open_position(vault, who, weth, 10 * ETH, debt * USDC)
    return borrowers


def test_keeper_kicks_within_two_blocks_and_takes_for_a_profit(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    signer = accounts[8]  # holds no USDC: it takes through the flash taker
    keeper = new_keeper(signer, kick_mode=KickMode.ALWAYS)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    report = keeper.tick()
    assert report.accounts == 3 and report.unhealthy == [] and report.kicked == []

    update = eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # only the 14,000 USDC loan goes under
    report = keeper.tick()
    assert report.unhealthy == [borrowers[0].address.lower()] and report.kicked == report.unhealthy
    (auction_id,) = liquidator.activeAuctions()
    kick_block = liquidator.Kick.query("block_number").block_number.iloc[-1]
    assert kick_block - update.block_number <= 2

    at(chain, chain.blocks.head.timestamp + 900)  # the price decays below the pool's
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    report = keeper.tick()
    assert report.taken == [auction_id] and report.profit > 0
    assert usdc.balanceOf(signer) >= report.profit // 2  # the taker keeps at least half its plan
    assert liquidator.getStatus(auction_id).lot == 0  # the tab is paid, the auction ended


def test_dry_run_sends_nothing(new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed):
    signer = accounts[8]
    keeper = new_keeper(
        signer,
        kick_mode=KickMode.ALWAYS,
        dry_run=True,
    )
    three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    nonce = signer.nonce
    report = keeper.tick()
    assert report.would_send == [f"kick {accounts[3].address.lower()}"]
    assert report.kicked == [] and liquidator.kicks() == 0 and signer.nonce == nonce


def test_profit_mode_skips_kicks_that_do_not_pay(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    signer = accounts[8]
    keeper = new_keeper(signer)
    three_borrowers(vault, weth, accounts, governor)
    liquidator.setIncentive(0, 0, sender=governor)  # kicking now pays nothing, and gas is not free
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    report = keeper.tick()
    assert len(report.unhealthy) == 1 and report.kicked == [] and liquidator.kicks() == 0


def test_a_lost_race_costs_no_gas(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed, keeper
):
    signer = accounts[8]
    # One confirmation: the mirror trails the head by a block, as a cautious keeper's does.
    bot = new_keeper(
        signer,
        kick_mode=KickMode.ALWAYS,
        confirmations=1,
    )
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # deep: one kick closes it all
    vault.liquidate(borrowers[0], sender=keeper)  # a rival keeper gets there first, in the head block
    nonce = signer.nonce
    report = bot.tick()
    assert report.unhealthy == [borrowers[0].address.lower()]  # the mirror has not seen the rival yet
    assert report.kicked == [] and report.lost_races == 1
    assert signer.nonce == nonce  # the simulation caught it: nothing was sent


def test_a_kick_sent_before_a_restart_is_not_sent_again(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    signer = accounts[8]
    first = new_keeper(signer, kick_mode=KickMode.ALWAYS)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    # The process sent a kick and died before it was mined: the log holds the still-unused nonce.
    first.store.record_sent("kick", borrowers[0].address, "0xdead", nonce=signer.nonce, block=chain.blocks.head.number)
    first.store.close()
    restarted = new_keeper(signer, kick_mode=KickMode.ALWAYS)
    report = restarted.tick()
    assert report.unhealthy == [borrowers[0].address.lower()] and report.kicked == []
    assert liquidator.kicks() == 0
