"""The whole lifecycle: borrow, price drop, kick, price decays, partial take, final take,
leftover collateral back to the borrower. Every party's balances are checked to the wei against
the protocol's formulas computed again here."""

from helpers import BUF, CHIP, PENALTY_FUND_SHARE, TAU, TIP, WAD, at, kick
from money import collateral_to_debt_up, debt_to_collateral_down, linear_price, wdiv_up, wmul_down, wmul_up

USDC = 10**6
ETH = 10**18


def test_borrow_drop_kick_decay_take_take_leftover(
    vault, liquidator, fund, usdc, weth, borrower, keeper, lender, governor, eth_feed, chain
):
    # No interest (the base state), so the debt is exactly what was borrowed.
    start = {
        "keeper_usdc": usdc.balanceOf(keeper),
        "fund": fund.coverage(),
        "vault_cash": usdc.balanceOf(vault),
        "borrower_weth": weth.balanceOf(borrower),
        "borrower_usdc": usdc.balanceOf(borrower),
    }
    lender_shares = vault.balanceOf(lender)
    total_assets_before = vault.totalAssets()

    # Borrow 14,000 USDC against 10 WETH at $2,000: health factor 20,000 * 0.8 / 14,000 = 1.14.
    vault.supplyCollateral(weth, 10 * ETH, borrower, sender=borrower)
    vault.borrow(14_000 * USDC, borrower, borrower, sender=borrower)

    # ETH falls to $1,700: health factor 0.971, above the deep bound, so half the debt is kicked.
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    hf = vault.healthFactor(borrower)
    assert hf == (17_000 * ETH * 80 // 100) * WAD // (14_000 * ETH)
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    kicked_at = chain.blocks[tx.block_number].timestamp

    covered = 7_000 * USDC
    lot = 5 * ETH
    tab = wmul_up(covered, WAD + 10 * WAD // 100)
    top = wmul_up(wdiv_up(1_700 * WAD, WAD), BUF)
    incentive = TIP + wmul_down(tab, CHIP)
    assert (tab, top, incentive) == (7_700 * USDC, 1_870 * WAD, 82 * USDC)
    liquidated = tx.events.filter(vault.Liquidated)[0]
    assert (liquidated.debtCovered, liquidated.healthFactor) == (covered, hf)
    event = tx.events.filter(liquidator.Kick)[0]
    assert (event.lot, event.tab, event.debt, event.top, event.kicker) == (lot, tab, covered, top, keeper.address)
    assert vault.collateralOf(borrower, weth) == 5 * ETH and vault.debtOf(borrower) == 7_000 * USDC
    assert vault.auctionDebt() == covered and vault.liveTab(weth) == tab
    # The lot stays in the Vault until a take releases it; the kicker's incentive is credited.
    assert weth.balanceOf(vault) == vault.totalCollateral(weth) == 10 * ETH
    assert liquidator.claimable(keeper) == incentive and liquidator.owedIncentives() == incentive

    # Five minutes later the price has fallen a twelfth of the way: the keeper buys 2 WETH.
    at(chain, kicked_at + 300)
    price1 = linear_price(top, 300, TAU)
    owe1 = collateral_to_debt_up(2 * ETH, price1, ETH, USDC)
    tx = liquidator.take(auction_id, 2 * ETH, price1, keeper, b"", sender=keeper)
    take = tx.events.filter(liquidator.Take)[0]
    assert (take.price, take.bought, take.paid) == (price1, 2 * ETH, owe1)
    assert (take.tabLeft, take.lotLeft) == (tab - owe1, 3 * ETH)
    assert liquidator.getStatus(auction_id) == (False, price1, 3 * ETH, tab - owe1)

    # Thirty seconds on, the rest: 3 WETH would raise more than the tab, so only what the tab needs is sold.
    at(chain, kicked_at + 330)
    price2 = linear_price(top, 330, TAU)
    tab2 = tab - owe1
    assert collateral_to_debt_up(3 * ETH, price2, ETH, USDC) > tab2
    slice2 = debt_to_collateral_down(tab2, price2, ETH, USDC)
    leftover = 3 * ETH - slice2
    tx = liquidator.take(auction_id, 3 * ETH, price2, keeper, b"", sender=keeper)
    take = tx.events.filter(liquidator.Take)[0]
    assert (take.bought, take.paid, take.tabLeft) == (slice2, tab2, 0)
    ended = tx.events.filter(liquidator.AuctionEnded)[0]
    assert (ended.leftover, ended.shortfall) == (leftover, 0)
    penalty = tab - covered
    to_fund = wmul_down(penalty, PENALTY_FUND_SHARE)
    proceeds = tx.events.filter(vault.AuctionProceeds)[0]
    assert (proceeds.debtRepaid, proceeds.penalty, proceeds.penaltyToFund) == (covered - owe1, penalty, to_fund)

    # Every party, to the wei.
    assert weth.balanceOf(keeper) == 2 * ETH + slice2
    assert usdc.balanceOf(keeper) == start["keeper_usdc"] - owe1 - tab2
    assert vault.collateralOf(borrower, weth) == 5 * ETH + leftover  # leftover is back in the account
    assert weth.balanceOf(borrower) == start["borrower_weth"] - 10 * ETH
    assert usdc.balanceOf(borrower) == start["borrower_usdc"] + 14_000 * USDC
    assert vault.debtOf(borrower) == 7_000 * USDC
    # The fund's share of the penalty waits in the Vault as reserves until collected.
    assert vault.reserves() >= to_fund
    assert usdc.balanceOf(vault) == start["vault_cash"] - 14_000 * USDC + tab
    assert weth.balanceOf(vault) == vault.totalCollateral(weth) == 5 * ETH + leftover
    assert weth.balanceOf(liquidator) == 0 and usdc.balanceOf(liquidator) == 0
    assert vault.auctionDebt() == 0 and vault.liveTab(weth) == 0
    assert fund.coverage() == start["fund"] - incentive  # the credited incentive is owed first
    assert liquidator.getStatus(auction_id) == (False, 0, 0, 0)
    # Lenders keep the penalty the fund did not take, unlocking into the share price over a day
    # (so no deposit made just before the take can share in it).
    assert vault.unvestedIncome() == penalty - to_fund and vault.totalAssets() == total_assets_before
    # Staged partial liquidation: the kick moved a matching share of collateral and debt, and the
    # leftover coming back leaves the account healthier than before (here healthy again: the lot
    # sold near the oracle's price, so the penalty took little of it).
    assert hf < WAD < vault.healthFactor(borrower)

    at(chain, kicked_at + 330 + vault.INCOME_UNLOCK() + vault.UNLOCK_STEP())  # a day, to the hour
    chain.mine()
    assert vault.unvestedIncome() == 0
    assert vault.totalAssets() == total_assets_before + penalty - to_fund
    assert vault.convertToAssets(lender_shares) == lender_shares * (vault.totalAssets() + 1) // (
        vault.totalSupply() + 10**6
    )
    # The keeper claims its kick incentive from the fund.
    liquidator.claimIncentive(sender=keeper)
    assert usdc.balanceOf(keeper) == start["keeper_usdc"] - owe1 - tab2 + incentive
    assert fund.coverage() == start["fund"] - incentive and liquidator.owedIncentives() == 0
