"""Shortfalls: covered by the InsuranceFund; beyond it, realised against the share price."""

from helpers import CHIP, CUSP, TIP, WAD, at, kick, open_position
from money import collateral_to_debt_up, wmul_down, wmul_up

USDC = 10**6
ETH = 10**18


def crash_and_sell_everything(chain, vault, liquidator, weth, borrower, keeper, eth_feed, governor, dollars):
    """10 WETH backing 14,000 USDC; ETH crashes to `dollars`; the keeper buys all 10 WETH in the
    kick's second, at the floor: a lot that cannot cover its debt sells there at once."""
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(dollars * 10**8, sender=governor)
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    floor = wmul_up(liquidator.auctionView(auction_id).top, CUSP)
    at(chain, chain.blocks[tx.block_number].timestamp)
    assert liquidator.getStatus(auction_id)[1] == floor
    tx = liquidator.take(auction_id, 10 * ETH, floor, keeper, b"", sender=keeper)
    return tx, collateral_to_debt_up(10 * ETH, floor, ETH, USDC)


def test_shortfall_covered_by_the_fund(
    chain, vault, liquidator, fund, weth, borrower, keeper, lender, eth_feed, governor
):
    assets_before = vault.totalAssets()
    shares = vault.balanceOf(lender)
    value_before = vault.convertToAssets(shares)
    fund_before = fund.coverage()
    tx, raised = crash_and_sell_everything(chain, vault, liquidator, weth, borrower, keeper, eth_feed, governor, 1_000)
    assert raised == 9_350 * USDC  # 10 WETH at 1,100 * 0.85
    shortfall = 14_000 * USDC - raised
    settled = tx.events.filter(vault.ShortfallSettled)[0]
    assert (settled.account, settled.shortfall, settled.covered, settled.badDebt) == (
        borrower.address,
        shortfall,
        shortfall,
        0,
    )
    assert not list(tx.events.filter(vault.BadDebtRealized))
    # Reserves not yet collected pay first, then the fund; the kicker's credited incentive is
    # owed by the fund before any shortfall.
    assert settled.fromReserves < shortfall and vault.reserves() == 0
    incentive = TIP + wmul_down(wmul_up(14_000 * USDC, WAD + WAD // 10), CHIP)
    assert liquidator.owedIncentives() == incentive
    assert fund.coverage() == fund_before - incentive - (shortfall - settled.fromReserves)
    assert vault.totalAssets() == assets_before and vault.auctionDebt() == 0
    assert vault.convertToAssets(shares) == value_before  # lenders lost nothing
    assert vault.debtOf(borrower) == 0 and vault.collateralOf(borrower, weth) == 0


def test_shortfall_beyond_the_fund_lowers_the_share_price(
    chain, vault, liquidator, fund, weth, borrower, keeper, lender, eth_feed, governor
):
    assets_before = vault.totalAssets()
    shares = vault.balanceOf(lender)
    value_before = vault.convertToAssets(shares)
    tx, raised = crash_and_sell_everything(chain, vault, liquidator, weth, borrower, keeper, eth_feed, governor, 300)
    assert raised == 2_805 * USDC  # 10 WETH at 330 * 0.85
    shortfall = 14_000 * USDC - raised
    incentive = TIP + wmul_down(wmul_up(14_000 * USDC, WAD + WAD // 10), CHIP)
    settled = tx.events.filter(vault.ShortfallSettled)[0]
    covered = settled.fromReserves + 10_000 * USDC - incentive  # reserves, then all the fund had left
    bad_debt = shortfall - covered
    assert (settled.shortfall, settled.covered, settled.badDebt) == (shortfall, covered, bad_debt)
    realized = tx.events.filter(vault.BadDebtRealized)[0]
    assert (realized.account, realized.amount) == (borrower.address, bad_debt)
    assert fund.coverage() == 0 and liquidator.claimable(keeper) == incentive  # still owed to the kicker
    # The loss was certain at the kick (lenders value a live lot at its floor, 2,805) and left
    # lenders' assets then; the sale at the floor realised exactly that: nothing comes back.
    assert vault.unvestedIncome() == 0
    assert vault.totalAssets() == assets_before - bad_debt
    at(chain, chain.blocks.head.timestamp + vault.INCOME_UNLOCK() + vault.UNLOCK_STEP())  # a day, to the hour
    chain.mine()
    assert vault.totalAssets() == assets_before - bad_debt
    assert vault.convertToAssets(shares) < value_before
    assert vault.convertToAssets(shares) == shares * (assets_before - bad_debt + 1) // (vault.totalSupply() + 10**6)


def test_unpaid_debt_waits_on_the_account_while_its_kick_is_still_selling(
    chain, vault, liquidator, fund, weth, wbtc, borrower, keeper, eth_feed, btc_feed, governor
):
    """A whole cross-margin kick leaves the account holding nothing, with a WETH and a WBTC auction.
    The WETH auction sells out below its debt while the WBTC one still runs (its leftover would come
    back to the account): the unpaid debt goes back onto the account. When the WBTC auction sells
    out short too, nothing is left to sell: its unpaid debt and the debt that waited on the account
    are realised together, at once."""
    wbtc.mint(borrower, 10**8, sender=governor)
    wbtc.approve(vault, 2**256 - 1, sender=borrower)
    vault.supplyCollateral(wbtc, 10**8, borrower, sender=borrower)  # 1 WBTC, $30,000
    open_position(vault, borrower, weth, 10 * ETH, 34_000 * USDC)
    eth_feed.setAnswer(500 * 10**8, sender=governor)  # health 0.78: all of it, WETH carrying 1/7
    tx, ids = kick(vault, liquidator, borrower, keeper)
    by_collateral = {k.collateral: k for k in tx.events.filter(liquidator.Kick)}
    weth_id, wbtc_id = by_collateral[weth.address].id, by_collateral[wbtc.address].id
    assert set(ids) == {weth_id, wbtc_id} and vault.debtOf(borrower) == 0
    t0 = chain.blocks[tx.block_number].timestamp
    at(chain, t0 + 1_200)  # both auctions at two thirds of their start price

    tx = liquidator.take(weth_id, 10 * ETH, 2**256 - 1, keeper, b"", sender=keeper)
    unpaid = tx.events.filter(liquidator.AuctionEnded)[0].shortfall
    assert unpaid > 0 and not list(tx.events.filter(vault.ShortfallSettled))
    assert tx.events.filter(vault.DebtReturned)[0].amount == unpaid
    assert vault.debtOf(borrower) >= unpaid and vault.collateralOf(borrower, weth) == 0

    debt = vault.debtOf(borrower)
    tx = liquidator.take(wbtc_id, 10**8, 2**256 - 1, keeper, b"", sender=keeper)
    ended = tx.events.filter(liquidator.AuctionEnded)[0]
    assert ended.leftover == 0 and ended.shortfall > 0
    realized = tx.events.filter(vault.DebtRealized)[0]
    assert (realized.account, realized.scaledDebt) == (borrower.address, 0) and realized.amount >= debt
    assert tx.events.filter(vault.ShortfallSettled)[0].shortfall == ended.shortfall + realized.amount
    assert not list(tx.events.filter(vault.DebtReturned))
    assert vault.debtOf(borrower) == 0 and vault.auctionDebt() == 0 and vault.totalDebt() == 0
