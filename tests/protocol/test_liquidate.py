"""liquidate (the kick): tiers, lot and live-auction caps, dust, incentives, breaker level 1,
cross-margin lots, and realising debt behind dust collateral."""

import ape
import pytest

from helpers import CHIP, MIN_DEBT, TIP, WAD, collateral_params, gas_in_usdc, kick, open_position, reverts_named
from money import mul_div_down, mul_div_up, wmul_down, wmul_up
from scripts._deployment import deploy_vault

USDC = 10**6
ETH = 10**18
PENALTY = 10 * WAD // 100


def drop_eth(eth_feed, governor, dollars):
    eth_feed.setAnswer(dollars * 10**8, sender=governor)


def test_healthy_or_debtless_account_is_not_liquidatable(vault, weth, borrower, keeper, other):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    hf = vault.healthFactor(borrower)
    with ape.reverts(vault.NotLiquidatable, account=borrower.address, healthFactor=hf):
        vault.liquidate(borrower, sender=keeper)
    with ape.reverts(vault.NotLiquidatable, account=other.address, healthFactor=2**256 - 1):
        vault.liquidate(other, sender=keeper)


def test_partial_tier_closes_the_close_factor(vault, liquidator, weth, borrower, keeper, eth_feed, governor):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)  # hf 0.971: between the deep bound and 1
    tx, ids = kick(vault, liquidator, borrower, keeper)
    assert tx.events.filter(vault.Liquidated)[0].debtCovered == 7_000 * USDC
    assert vault.debtOf(borrower) == 7_000 * USDC and len(ids) == 1


def test_deep_health_tier_closes_everything(vault, liquidator, weth, borrower, keeper, eth_feed, governor):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_600)  # hf 0.914 < 0.95
    tx, _ = kick(vault, liquidator, borrower, keeper)
    assert tx.events.filter(vault.Liquidated)[0].debtCovered == 14_000 * USDC
    assert vault.debtOf(borrower) == 0 and vault.collateralOf(borrower, weth) == 0


def test_small_debt_tier_closes_everything(vault, liquidator, weth, borrower, keeper, eth_feed, governor):
    open_position(vault, borrower, weth, ETH // 2, 700 * USDC)  # at or below the 1,000 USDC threshold
    drop_eth(eth_feed, governor, 1_700)  # hf 0.971
    tx, _ = kick(vault, liquidator, borrower, keeper)
    assert tx.events.filter(vault.Liquidated)[0].debtCovered == 700 * USDC


def test_partial_never_leaves_dust(vault, liquidator, weth, borrower, keeper, eth_feed, governor):
    vault.setLiquidationConfig((MIN_DEBT, 1_000 * USDC, 95 * WAD // 100, 95 * WAD // 100, WAD // 2), sender=governor)
    open_position(vault, borrower, weth, ETH, 1_400 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    # 95% of 1,400 would leave 70 < 100 dust: the kick leaves exactly the dust instead.
    tx, _ = kick(vault, liquidator, borrower, keeper)
    assert tx.events.filter(vault.Liquidated)[0].debtCovered == 1_300 * USDC
    assert vault.debtOf(borrower) == MIN_DEBT


def test_lot_cap_limits_each_auction(vault, liquidator, weth, borrower, keeper, eth_feed, governor):
    vault.setCollateralParams(weth, collateral_params(lot_cap=2_000 * USDC), sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    value = 17_000 * WAD
    covered = mul_div_down(2_000 * USDC, value, wmul_up(value, WAD + PENALTY))
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    assert tx.events.filter(vault.Liquidated)[0].debtCovered == covered == 1_818_181_818
    assert liquidator.auctions(auction_id).tab <= 2_000 * USDC
    # The rest waits for later kicks, each capped the same way.
    tx, _ = kick(vault, liquidator, borrower, keeper)
    assert tx.events.filter(vault.Liquidated)[0].debtCovered <= covered


def two_positions_under_water(vault, weth, borrower, other, eth_feed, governor):
    """Two accounts with 10 WETH and 14,000 USDC each, ETH at $1,700 (health factor 0.971)."""
    weth.mint(other, 10 * ETH, sender=governor)
    weth.approve(vault, 2**256 - 1, sender=other)
    for who in (borrower, other):
        open_position(vault, who, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)


def test_live_auction_cap_is_a_cascade_brake(vault, liquidator, weth, borrower, other, keeper, eth_feed, governor):
    vault.setCollateralParams(weth, collateral_params(lot_cap=10_000 * USDC, live_cap=10_000 * USDC), sender=governor)
    two_positions_under_water(vault, weth, borrower, other, eth_feed, governor)
    kick(vault, liquidator, borrower, keeper)  # tab 7,700 of the 10,000 cap
    assert vault.liveTab(weth) == 7_700 * USDC
    tx, (second,) = kick(vault, liquidator, other, keeper)  # only 2,300 of room left
    assert liquidator.auctionView(second).tab <= 2_300 * USDC
    assert tx.events.filter(vault.Liquidated)[0].debtCovered == mul_div_down(
        2_300 * USDC, 17_000 * WAD, wmul_up(17_000 * WAD, WAD + PENALTY)
    )
    # A few wei of room are left: not enough for a kick above dust.
    with ape.reverts(vault.KickBelowDust):
        vault.liquidate(other, sender=keeper)


def test_full_live_auction_cap_refuses_kicks(vault, liquidator, weth, borrower, other, keeper, eth_feed, governor):
    vault.setCollateralParams(weth, collateral_params(lot_cap=7_700 * USDC, live_cap=7_700 * USDC), sender=governor)
    two_positions_under_water(vault, weth, borrower, other, eth_feed, governor)
    kick(vault, liquidator, borrower, keeper)
    assert vault.liveTab(weth) == 7_700 * USDC
    with ape.reverts(vault.AuctionCapReached, collateral=weth.address, liveTab=7_700 * USDC, liveTabCap=7_700 * USDC):
        vault.liquidate(other, sender=keeper)


def test_caps_squeezing_below_dust_refuse_the_kick(vault, weth, borrower, keeper, eth_feed, governor):
    vault.setCollateralParams(weth, collateral_params(lot_cap=50 * USDC), sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    with ape.reverts(vault.KickBelowDust, minDebt=MIN_DEBT):
        vault.liquidate(borrower, sender=keeper)
    assert vault.debtOf(borrower) == 14_000 * USDC


def test_kicker_is_credited_tip_plus_chip(vault, liquidator, fund, usdc, weth, borrower, keeper, eth_feed, governor):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    before, fund_before = usdc.balanceOf(keeper), fund.coverage()
    tx, _ = kick(vault, liquidator, borrower, keeper)
    owed = TIP + wmul_down(7_700 * USDC, CHIP)
    event = tx.events.filter(liquidator.KeeperIncentive)[0]
    assert (event.keeper, event.owed, event.paid) == (keeper.address, owed, owed)
    # Credited at the kick (no transfer), paid from the fund when claimed.
    assert liquidator.claimable(keeper) == owed and usdc.balanceOf(keeper) == before
    assert liquidator.incentive(7_700 * USDC) == owed
    assert fund.coverage() == fund_before - owed  # owed before any shortfall
    tx = liquidator.claimIncentive(sender=keeper)
    claimed = tx.events.filter(liquidator.IncentiveClaimed)[0]
    assert (claimed.keeper, claimed.owed, claimed.paid) == (keeper.address, owed, owed)
    assert usdc.balanceOf(keeper) == before + owed and fund.coverage() == fund_before - owed
    with ape.reverts(liquidator.ZeroAmount):
        liquidator.claimIncentive(sender=keeper)


GWEI = 10**9


def kick_at_base_fee(next_base_fee, vault, account, keeper, base_fee: int):
    """Liquidate `account` in a block whose base fee is `base_fee` [wei] (set through the
    `next_base_fee` fixture, which puts the chain back after the test); returns the receipt."""
    next_base_fee(base_fee)
    return vault.liquidate(account, sender=keeper, max_fee=base_fee * 2, max_priority_fee=0)


def kick_pay(tx, liquidator) -> int:
    """[USDC units] What a kick credited its kicker: its incentive, then its gas."""
    return sum(event.owed for event in tx.events.filter(liquidator.KeeperIncentive))


@pytest.mark.parametrize(("base_fee_gwei", "covered"), [(0, 7_000), (300, 7_000), (500, 14_000)])
def test_in_congestion_a_kick_takes_the_whole_debt(
    next_base_fee, vault, liquidator, weth, borrower, keeper, eth_feed, governor, base_fee_gwei, covered
):
    """A debt worth less than WHOLE_KICK_GAS (20,000,000 gas) at the base fee is kicked whole, as
    a small debt is: in congestion each lot of a partial kick would pay its own kick's and sale's
    gas. With ETH at $1,700 that gas is worth $10,200 at 300 gwei (the 14,000 debt goes by the
    close factor, half) and $17,000 at 500 gwei (all of it at once)."""
    liquidator.setGasAsset(weth, sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)  # health 0.97: above deepHealth
    tx = kick_at_base_fee(next_base_fee, vault, borrower, keeper, base_fee_gwei * GWEI)
    assert tx.events.filter(vault.Liquidated)[0].debtCovered == covered * USDC


def test_kick_is_paid_its_gas_at_the_base_fee(
    next_base_fee, vault, liquidator, weth, borrower, keeper, eth_feed, governor
):
    """With a gas asset set (WETH prices ETH), a kick earns its incentive plus its own gas at the
    block's base fee (85-100% of what the kick burned: at 300 gwei more than the incentive
    itself); with the gas asset turned off, the incentive alone."""
    liquidator.setGasAsset(weth, sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    incentive = TIP + wmul_down(7_700 * USDC, CHIP)  # 82, within half the 700 penalty
    tx = kick_at_base_fee(next_base_fee, vault, borrower, keeper, 300 * GWEI)
    owed = kick_pay(tx, liquidator)
    gas_cost = gas_in_usdc(tx, 1_700)  # about 100 USDC: more than the incentive alone
    assert gas_cost > incentive
    assert incentive + gas_cost * 85 // 100 <= owed <= incentive + gas_cost
    # Turned off: the incentive alone.
    liquidator.setGasAsset(ape.utils.ZERO_ADDRESS, sender=governor)
    drop_eth(eth_feed, governor, 1_300)
    tx = kick_at_base_fee(next_base_fee, vault, borrower, keeper, 300 * GWEI)
    tab = sum(k.tab for k in tx.events.filter(liquidator.Kick))
    assert tx.events.filter(liquidator.KeeperIncentive)[0].owed == TIP + wmul_down(tab, CHIP)


@pytest.mark.parametrize("gwei", [1, 30, 300, 3_000, 20_000])
def test_a_self_kick_never_pays_even_at_any_base_fee(
    next_base_fee, vault, liquidator, weth, borrower, eth_feed, governor, gwei
):
    """A kick's pay is its incentive, never more than half the penalty it charges the account,
    and its gas at the base fee, never more than the gas it burned (and at most a tenth of its
    tab): a borrower kicking itself gets back at most half the penalty beyond the gas it paid,
    so it loses at least the other half, at any base fee."""
    liquidator.setGasAsset(weth, sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    tx = kick_at_base_fee(next_base_fee, vault, borrower, borrower, gwei * GWEI)
    kicked = tx.events.filter(liquidator.Kick)[0]
    penalty = kicked.tab - kicked.debt
    owed = kick_pay(tx, liquidator)
    assert owed <= penalty // 2 + kicked.tab // 10
    net = owed - penalty - gas_in_usdc(tx, 1_700)  # what the self-kick made
    assert net <= -(penalty // 2) < 0


KICK_SHAPES = {
    "partial, one lot": (1_700, 0),
    "whole, one lot": (1_500, 0),
    "whole, two lots": (1_300, 10**7),
    "partial, two lots": (1_420, 10**7),
}


@pytest.mark.parametrize("shape", list(KICK_SHAPES))
def test_a_kick_is_never_paid_more_gas_than_it_burned(
    next_base_fee, vault, liquidator, weth, wbtc, borrower, keeper, eth_feed, governor, shape
):
    """The gas part is what the liquidator measured plus what it cannot (KICK_GAS_OUTSIDE): at
    every kick shape below what the transaction burned, and most of it."""
    eth, wbtc_units = KICK_SHAPES[shape]
    liquidator.setGasAsset(weth, sender=governor)
    if wbtc_units:
        vault.supplyCollateral(wbtc, wbtc_units, borrower, sender=borrower)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, eth)
    tx = kick_at_base_fee(next_base_fee, vault, borrower, keeper, 1_000 * GWEI)
    tabs = [k.tab for k in tx.events.filter(liquidator.Kick)]
    penalty = sum(k.tab - k.debt for k in tx.events.filter(liquidator.Kick))
    incentive = min(TIP + wmul_down(sum(tabs), CHIP), penalty // 2)
    gas_pay = kick_pay(tx, liquidator) - incentive
    cost = gas_in_usdc(tx, eth)
    assert cost * 90 // 100 <= gas_pay <= cost


def test_set_gas_asset_needs_the_governor_and_a_price(liquidator, project, weth, governor, other, oracle):
    with ape.reverts(liquidator.AccessControlUnauthorizedAccount):
        liquidator.setGasAsset(weth, sender=other)
    unpriced = project.MockERC20.deploy("Unpriced", "UNP", 18, sender=governor)
    with reverts_named("AssetNotConfigured", asset=unpriced.address):
        liquidator.setGasAsset(unpriced, sender=governor)
    tx = liquidator.setGasAsset(weth, sender=governor)
    assert tx.events.filter(liquidator.GasAssetSet)[0].asset == weth.address == liquidator.gasAsset()


def test_empty_fund_never_blocks_a_kick(
    project, vault, liquidator, fund, usdc, weth, borrower, keeper, eth_feed, governor
):
    # Drain the fund through a payer the governor grants, leaving 10 USDC for an 82 USDC incentive.
    fund.grantRole(fund.PAYER_ROLE(), governor, sender=governor)
    fund.payIncentive(governor, fund.coverage() - 10 * USDC, sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    tx, ids = kick(vault, liquidator, borrower, keeper)
    assert tx.events.filter(liquidator.KeeperIncentive)[0].owed == 82 * USDC and len(ids) == 1
    # The claim pays what the fund has; the rest stays credited for later.
    before = usdc.balanceOf(keeper)
    tx = liquidator.claimIncentive(sender=keeper)
    claimed = tx.events.filter(liquidator.IncentiveClaimed)[0]
    assert (claimed.owed, claimed.paid) == (82 * USDC, 10 * USDC)
    assert usdc.balanceOf(keeper) == before + 10 * USDC and fund.coverage() == 0
    assert liquidator.claimable(keeper) == 72 * USDC == liquidator.owedIncentives()
    # And with nothing at all in it, the next kick still goes through, credited as ever.
    tx, _ = kick(vault, liquidator, borrower, keeper)
    assert liquidator.claimable(keeper) == 72 * USDC + tx.events.filter(liquidator.KeeperIncentive)[0].owed


def test_breaker_level_one_stops_kicks(vault, liquidator, weth, borrower, keeper, guardian, eth_feed, governor):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    drop_eth(eth_feed, governor, 1_700)
    liquidator.setBreaker(1, sender=guardian)
    with reverts_named("BreakerActive", level=1):  # the Vault refuses before any branch of the kick
        vault.liquidate(borrower, sender=keeper)
    liquidator.setBreaker(0, sender=governor)
    kick(vault, liquidator, borrower, keeper)


def test_cross_margin_kick_splits_by_value(
    vault, liquidator, weth, wbtc, borrower, keeper, eth_feed, btc_feed, governor
):
    vault.supplyCollateral(weth, 2 * ETH, borrower, sender=borrower)  # $4,000
    vault.supplyCollateral(wbtc, 10**7, borrower, sender=borrower)  # $3,000
    vault.borrow(5_000 * USDC, borrower, borrower, sender=borrower)
    drop_eth(eth_feed, governor, 1_500)  # $3,000 * 0.8 + $3,000 * 0.75 = 4,650 < 5,000: hf 0.93, all of it
    tx, ids = kick(vault, liquidator, borrower, keeper)
    kicks = {log.collateral: log for log in tx.events.filter(liquidator.Kick)}
    assert len(ids) == 2
    assert kicks[weth.address].lot == 2 * ETH and kicks[wbtc.address].lot == 10**7
    weth_debt = mul_div_down(5_000 * USDC, 3_000 * WAD, 6_000 * WAD)
    assert kicks[weth.address].debt == weth_debt
    assert kicks[wbtc.address].debt == 5_000 * USDC - weth_debt  # the parts sum to the debt covered
    assert kicks[weth.address].tab == wmul_up(weth_debt, WAD + PENALTY)
    assert kicks[wbtc.address].tab == wmul_up(5_000 * USDC - weth_debt, WAD + 8 * WAD // 100)
    assert kicks[wbtc.address].top == wmul_up(30_000 * WAD, 11 * WAD // 10)


def test_partial_cross_margin_moves_matching_share(vault, liquidator, weth, wbtc, borrower, keeper, eth_feed, governor):
    vault.supplyCollateral(weth, 3 * ETH, borrower, sender=borrower)  # $6,000
    vault.supplyCollateral(wbtc, 3 * 10**7, borrower, sender=borrower)  # $9,000
    vault.borrow(10_000 * USDC, borrower, borrower, sender=borrower)
    drop_eth(eth_feed, governor, 1_000)  # 3,000*0.8 + 9,000*0.75 = 9,150 < 10,000: hf 0.915 -> all
    vault.setLiquidationConfig((MIN_DEBT, 1_000 * USDC, 90 * WAD // 100, WAD // 2, WAD // 2), sender=governor)
    tx, _ = kick(vault, liquidator, borrower, keeper)  # hf 0.915 >= 0.90: half
    kicks = {log.collateral: log for log in tx.events.filter(liquidator.Kick)}
    assert kicks[weth.address].lot == mul_div_up(3 * ETH, 5_000 * USDC, 10_000 * USDC)
    assert kicks[wbtc.address].lot == mul_div_up(3 * 10**7, 5_000 * USDC, 10_000 * USDC)
    assert vault.collateralOf(borrower, weth) == 3 * ETH // 2
    assert vault.collateralOf(borrower, wbtc) == 3 * 10**7 // 2


def test_dust_collateral_realises_the_debt_at_once(
    vault, liquidator, fund, usdc, weth, borrower, keeper, eth_feed, governor
):
    open_position(vault, borrower, weth, ETH // 10, 150 * USDC)  # 0.1 WETH = $200
    drop_eth(eth_feed, governor, 900)  # collateral $90 < $100 dust, debt 150
    fund_before, assets_before = fund.coverage(), vault.totalAssets()
    tx, ids = kick(vault, liquidator, borrower, keeper)
    assert ids == []
    settled = tx.events.filter(vault.ShortfallSettled)[0]
    assert (settled.shortfall, settled.covered, settled.badDebt) == (150 * USDC, 150 * USDC, 0)
    seized = tx.events.filter(vault.CollateralSeized)[0]
    assert (seized.to, seized.amount) == (fund.address, ETH // 10)
    assert weth.balanceOf(fund) == ETH // 10
    assert fund.coverage() == fund_before - 150 * USDC
    assert vault.debtOf(borrower) == 0 and vault.collateralOf(borrower, weth) == 0
    assert vault.totalAssets() == assets_before  # the fund made lenders whole


def test_liquidate_without_a_liquidator(project, usdc, oracle, fund, governor, guardian, keeper):
    bare = deploy_vault(project, governor, usdc, oracle, fund, governor, guardian)
    with ape.reverts(bare.LiquidatorNotSet):
        bare.liquidate(keeper, sender=keeper)
