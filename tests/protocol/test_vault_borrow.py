"""Borrowing and repaying: limits, dust, authorisation, health views, oracle gating."""

import ape
import pytest

from helpers import MIN_DEBT, WAD, open_position, reverts_named
from money import mul_div_up, wdiv_down, wdiv_up, wmul_down

USDC = 10**6
MAX = 2**256 - 1


def test_borrow_and_repay_in_full(protocol, vault, usdc, weth, borrower, other, governor):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    tx = vault.borrow(1_000 * USDC, borrower, other, sender=borrower)
    event = tx.events.filter(vault.Borrowed)[0]
    assert (event.account, event.to, event.amount) == (borrower.address, other.address, 1_000 * USDC)
    assert usdc.balanceOf(other) == 1_000 * USDC
    assert vault.debtOf(borrower) >= 1_000 * USDC
    usdc.mint(borrower, 1_010 * USDC, sender=governor)
    tx = vault.repay(MAX, borrower, sender=borrower)
    repaid = tx.events.filter(vault.Repaid)[0]
    assert repaid.scaledDebt == 0 and repaid.amount >= 1_000 * USDC
    assert vault.debtOf(borrower) == 0 and vault.totalScaledDebt() == 0


def test_partial_repay_and_repay_on_behalf(protocol, vault, usdc, weth, borrower, keeper):
    open_position(vault, borrower, weth, 10**18, 1_000 * USDC)
    usdc.approve(vault, MAX, sender=keeper)
    vault.repay(400 * USDC, borrower, sender=keeper)  # anyone may repay for an account
    assert vault.debtOf(borrower) == 600 * USDC


def test_repay_leaving_dust_is_refused(protocol, vault, weth, borrower):
    open_position(vault, borrower, weth, 10**18, 150 * USDC)
    with ape.reverts(vault.DebtBelowMinimum, minDebt=MIN_DEBT):
        vault.repay(60 * USDC, borrower, sender=borrower)


def test_borrow_below_dust_is_refused(protocol, vault, weth, borrower):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    with ape.reverts(vault.DebtBelowMinimum, debt=MIN_DEBT - 1, minDebt=MIN_DEBT):
        vault.borrow(MIN_DEBT - 1, borrower, borrower, sender=borrower)
    vault.borrow(MIN_DEBT, borrower, borrower, sender=borrower)
    vault.borrow(1, borrower, borrower, sender=borrower)  # above dust, one more wei is fine


def test_borrow_errors(protocol, vault, weth, borrower, other):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    with ape.reverts(vault.ZeroAmount):
        vault.borrow(0, borrower, borrower, sender=borrower)
    with ape.reverts(vault.ZeroAddress):
        vault.borrow(MIN_DEBT, borrower, ape.utils.ZERO_ADDRESS, sender=borrower)
    with ape.reverts(vault.Unauthorized, owner=borrower.address, caller=other.address):
        vault.borrow(MIN_DEBT, borrower, other, sender=other)
    with ape.reverts(vault.InsufficientCollateral, account=borrower.address):
        vault.borrow(1_500 * USDC + 1, borrower, borrower, sender=borrower)
    with ape.reverts(vault.InsufficientLiquidity, requested=MAX, available=1_000_000 * USDC):
        vault.borrow(MAX, borrower, borrower, sender=borrower)
    with ape.reverts(vault.InsufficientCollateral):
        vault.borrow(MIN_DEBT, other, other, sender=other)  # no collateral at all
    assert vault.debtOf(borrower) == 0


def test_borrow_exactly_at_limit(protocol, vault, weth, borrower):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    vault.borrow(1_500 * USDC, borrower, borrower, sender=borrower)
    assert vault.accountSnapshot(borrower).debtValue == vault.accountSnapshot(borrower).borrowLimit


def test_authorised_operator_borrows_for_owner(protocol, vault, usdc, weth, borrower, other):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    vault.setAuthorization(other, True, sender=borrower)
    vault.borrow(MIN_DEBT, borrower, other, sender=other)
    assert usdc.balanceOf(other) == MIN_DEBT and vault.debtOf(borrower) == MIN_DEBT


def test_repay_errors(protocol, vault, borrower):
    with ape.reverts(vault.ZeroAmount):
        vault.repay(0, borrower, sender=borrower)
    with ape.reverts(vault.NoDebt, account=borrower.address):
        vault.repay(1, borrower, sender=borrower)


def test_health_factor_and_snapshot(protocol, vault, weth, wbtc, borrower, other):
    assert vault.healthFactor(other) == MAX
    vault.supplyCollateral(weth, 2 * 10**18, borrower, sender=borrower)  # $4,000
    vault.supplyCollateral(wbtc, 10**7, borrower, sender=borrower)  # $3,000
    vault.borrow(4_000 * USDC, borrower, borrower, sender=borrower)
    liquidation_value = wmul_down(4_000 * WAD, 80 * WAD // 100) + wmul_down(3_000 * WAD, 75 * WAD // 100)
    expected = wdiv_down(liquidation_value, 4_000 * WAD)
    assert vault.healthFactor(borrower) == expected
    assert list(vault.healthFactors([borrower, other])) == [expected, MAX]
    snapshot = vault.accountSnapshot(borrower)
    assert snapshot.debt == 4_000 * USDC and snapshot.healthFactor == expected


def test_liquidation_price_per_asset(protocol, vault, weth, wbtc, borrower, eth_feed, governor):
    vault.supplyCollateral(weth, 2 * 10**18, borrower, sender=borrower)
    vault.supplyCollateral(wbtc, 10**7, borrower, sender=borrower)
    vault.borrow(4_000 * USDC, borrower, borrower, sender=borrower)
    # ETH price where 2 ETH * p * 0.8 + 3,000 * 0.75 = 4,000: p = 1,093.75
    eth_liq = vault.liquidationPrice(borrower, weth)
    others = wmul_down(3_000 * WAD, 75 * WAD // 100)
    assert eth_liq == mul_div_up(wdiv_up(4_000 * WAD - others, 80 * WAD // 100), 10**18, 2 * 10**18)
    assert eth_liq == 1_093_750_000_000_000_000_000
    # BTC alone cannot push it under: WETH covers... no, 2 ETH * 2,000 * 0.8 = 3,200 < 4,000, so it can.
    assert vault.liquidationPrice(borrower, wbtc) > 0
    assert vault.liquidationPrice(borrower, ape.utils.ZERO_ADDRESS) == 0
    # Just below the liquidation price the account is liquidatable, at it it is not.
    eth_feed.setAnswer(eth_liq // 10**10 + 1, sender=governor)
    assert vault.healthFactor(borrower) >= WAD
    eth_feed.setAnswer(eth_liq // 10**10 - 1, sender=governor)
    assert vault.healthFactor(borrower) < WAD


def test_liquidation_price_zero_when_other_collateral_suffices(protocol, vault, weth, wbtc, borrower):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    vault.supplyCollateral(wbtc, 10**8, borrower, sender=borrower)  # $30,000 of BTC
    vault.borrow(1_000 * USDC, borrower, borrower, sender=borrower)
    assert vault.liquidationPrice(borrower, weth) == 0


@pytest.mark.parametrize("setup", ["stale", "no_quorum", "disputed"])
def test_bad_oracle_stops_borrow_and_kick_not_repay_or_supply(
    protocol, project, vault, oracle, liquidator, usdc, weth, borrower, keeper, governor, eth_feed, chain, setup
):
    open_position(vault, borrower, weth, 10**18, 1_400 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # now liquidatable: 1,700 * 0.8 < 1,400
    second = project.MockAggregator.deploy(8, "ETH / USD 2", 1_700 * 10**8, sender=governor)
    if setup == "stale":
        eth_feed.setAnswerAt(1_700 * 10**8, chain.pending_timestamp - 3601, sender=governor)
        status = 1
    elif setup == "no_quorum":
        oracle.setSources(weth, [eth_feed, second], [3600, 3600], 2, WAD // 50, sender=governor)
        second.setAnswerAt(1_700 * 10**8, chain.pending_timestamp - 3601, sender=governor)
        status = 2
    else:
        oracle.setSources(weth, [eth_feed, second], [3600, 3600], 2, WAD // 50, sender=governor)
        second.setAnswer(1_800 * 10**8, sender=governor)
        status = 3
    # Collateral without an Ok price counts as worth nothing: no borrowing or withdrawing against it...
    with ape.reverts(vault.InsufficientCollateral, account=borrower.address, borrowLimit=0):
        vault.borrow(MIN_DEBT, borrower, borrower, sender=borrower)
    with ape.reverts(vault.InsufficientCollateral, account=borrower.address, borrowLimit=0):
        vault.withdrawCollateral(weth, 1, borrower, borrower, sender=borrower)
    # ...and no kick either: there is nothing priced to auction, and the account is not written
    # off as dust while it holds something that may be worth its debt.
    with reverts_named("PriceUnavailable", asset=weth.address, status=status):
        vault.liquidate(borrower, sender=keeper)
    # Repaying and adding collateral never stop.
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    vault.repay(500 * USDC, borrower, sender=borrower)
    assert vault.collateralOf(borrower, weth) == 2 * 10**18
    assert vault.debtOf(borrower) < 1_000 * USDC


def test_withdraw_without_debt_needs_no_price(protocol, vault, weth, borrower, eth_feed, governor):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    eth_feed.setAnswer(0, sender=governor)
    vault.withdrawCollateral(weth, 10**18, borrower, borrower, sender=borrower)
    assert vault.collateralOf(borrower, weth) == 0


def test_eight_decimal_collateral_dust_amounts(protocol, vault, wbtc, borrower):
    # 1 satoshi of BTC is $0.0003: worth something, but far from a loan above dust.
    vault.supplyCollateral(wbtc, 1, borrower, sender=borrower)
    assert vault.accountSnapshot(borrower).collateralValue == 300_000_000_000_000
    with ape.reverts(vault.InsufficientCollateral):
        vault.borrow(MIN_DEBT, borrower, borrower, sender=borrower)
