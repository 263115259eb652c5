"""Keeper indexer against Anvil: the mirror matches the Vault, resumes from its checkpoint after
a restart, stays behind the confirmation depth, and rebuilds after a reorg below it."""

from bots.keeper.indexer import ApeChainView, Indexer
from bots.keeper.store import Store
from helpers import kick, open_position

USDC = 10**6
ETH = 10**18


def on_chain(vault, accounts, assets):
    return {
        a.address.lower(): (
            {t.address.lower(): vault.collateralOf(a, t) for t in assets if vault.collateralOf(a, t) > 0},
            vault.scaledDebtOf(a),
        )
        for a in accounts
    }


def mirrored(store, accounts):
    positions = store.positions()
    return {a.address.lower(): positions.get(a.address.lower(), ({}, 0)) for a in accounts}


def test_mirror_matches_the_vault_through_a_liquidation(
    tmp_path, chain, vault, liquidator, weth, wbtc, borrower, other, keeper, governor, eth_feed
):
    store = Store(tmp_path / "k.sqlite", chain.chain_id, vault.address, chain.blocks.head.number + 1)
    indexer = Indexer(store, ApeChainView(chain, vault), confirmations=0)
    wbtc.mint(other, 10**8, sender=governor)
    wbtc.approve(vault, 2**256 - 1, sender=other)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    open_position(vault, other, wbtc, 10**7, 1_000 * USDC)
    result = indexer.sync()
    assert result.events == 4 and result.lag == 0 and not result.rebuilt
    assert mirrored(store, [borrower, other]) == on_chain(vault, [borrower, other], [weth, wbtc])

    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    kick(vault, liquidator, borrower, keeper)
    result = indexer.sync()
    assert result.events == 2  # CollateralSeized and Liquidated
    assert mirrored(store, [borrower, other]) == on_chain(vault, [borrower, other], [weth, wbtc])


def test_restart_resumes_from_the_checkpoint(tmp_path, chain, vault, weth, borrower):
    path = tmp_path / "k.sqlite"
    start = chain.blocks.head.number + 1
    open_position(vault, borrower, weth, 10 * ETH, 1_000 * USDC)
    first = Indexer(
        Store(path, chain.chain_id, vault.address, start), ApeChainView(chain, vault), confirmations=0
    ).sync()
    vault.repay(500 * USDC, borrower, sender=borrower)
    store = Store(path, chain.chain_id, vault.address, start)  # a new process, the same file
    assert store.next_block() == first.checkpoint + 1
    again = Indexer(store, ApeChainView(chain, vault), confirmations=0).sync()
    assert again.events == 1  # only the repay: nothing before the checkpoint is read again
    assert store.positions()[borrower.address.lower()][1] == vault.scaledDebtOf(borrower)


def test_confirmation_depth_holds_back_recent_blocks(tmp_path, chain, vault, weth, borrower):
    store = Store(tmp_path / "k.sqlite", chain.chain_id, vault.address, chain.blocks.head.number + 1)
    indexer = Indexer(store, ApeChainView(chain, vault), confirmations=2)
    vault.supplyCollateral(weth, ETH, borrower, sender=borrower)
    result = indexer.sync()
    assert result.events == 0 and result.head - 2 < store.start_block  # its block is too recent
    chain.mine(2)
    assert indexer.sync().events == 1


def test_reorg_below_the_checkpoint_rebuilds_the_mirror(tmp_path, chain, vault, weth, borrower):
    store = Store(tmp_path / "k.sqlite", chain.chain_id, vault.address, chain.blocks.head.number + 1)
    indexer = Indexer(store, ApeChainView(chain, vault), confirmations=0)
    vault.supplyCollateral(weth, ETH, borrower, sender=borrower)
    indexer.sync()
    fork_point = chain.snapshot()
    vault.supplyCollateral(weth, ETH, borrower, sender=borrower)
    indexer.sync()
    assert store.positions()[borrower.address.lower()][0][weth.address.lower()] == 2 * ETH
    chain.restore(fork_point)  # the second supply never happened on the new canonical chain
    vault.supplyCollateral(weth, 5 * ETH, borrower, sender=borrower)
    result = indexer.sync()
    assert result.rebuilt
    assert (
        store.positions()[borrower.address.lower()][0][weth.address.lower()]
        == 6 * ETH
        == vault.collateralOf(borrower, weth)
    )
