"""Collateral accounts: supply, withdraw, caps, authorisation, several assets in one account."""

import ape

from helpers import collateral_params

USDC = 10**6


def test_supply_and_withdraw(protocol, vault, weth, borrower, other):
    tx = vault.supplyCollateral(weth, 3 * 10**18, borrower, sender=borrower)
    event = tx.events.filter(vault.CollateralSupplied)[0]
    assert (event.account, event.collateral, event.amount, event.balance) == (
        borrower.address,
        weth.address,
        3 * 10**18,
        3 * 10**18,
    )
    assert vault.collateralOf(borrower, weth) == 3 * 10**18 and vault.totalCollateral(weth) == 3 * 10**18
    tx = vault.withdrawCollateral(weth, 10**18, borrower, other, sender=borrower)
    assert tx.events.filter(vault.CollateralWithdrawn)[0].balance == 2 * 10**18
    assert weth.balanceOf(other) == 10**18
    assert vault.totalCollateral(weth) == 2 * 10**18


def test_supply_on_behalf_needs_no_permission(protocol, vault, weth, borrower, other):
    vault.supplyCollateral(weth, 10**18, other, sender=borrower)
    assert vault.collateralOf(other, weth) == 10**18


def test_withdraw_on_behalf_needs_authorisation(protocol, vault, weth, borrower, other):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    with ape.reverts(vault.Unauthorized, owner=borrower.address, caller=other.address):
        vault.withdrawCollateral(weth, 1, borrower, other, sender=other)
    tx = vault.setAuthorization(other, True, sender=borrower)
    event = tx.events.filter(vault.AuthorizationSet)[0]
    assert event.operator == other.address and event.allowed
    vault.withdrawCollateral(weth, 1, borrower, other, sender=other)
    vault.setAuthorization(other, False, sender=borrower)
    with ape.reverts(vault.Unauthorized):
        vault.withdrawCollateral(weth, 1, borrower, other, sender=other)
    with ape.reverts(vault.ZeroAddress):
        vault.setAuthorization(ape.utils.ZERO_ADDRESS, True, sender=borrower)


def test_bad_collateral_input(protocol, vault, weth, usdc, borrower):
    with ape.reverts(vault.ZeroAmount):
        vault.supplyCollateral(weth, 0, borrower, sender=borrower)
    with ape.reverts(vault.InvalidCollateral, collateral=usdc.address):
        vault.supplyCollateral(usdc, 1, borrower, sender=borrower)
    with ape.reverts(vault.ZeroAddress):
        vault.supplyCollateral(weth, 1, ape.utils.ZERO_ADDRESS, sender=borrower)
    vault.supplyCollateral(weth, 10, borrower, sender=borrower)
    with ape.reverts(vault.InsufficientCollateralBalance, collateral=weth.address, requested=11, balance=10):
        vault.withdrawCollateral(weth, 11, borrower, borrower, sender=borrower)
    with ape.reverts(vault.ZeroAmount):
        vault.withdrawCollateral(weth, 0, borrower, borrower, sender=borrower)
    with ape.reverts(vault.ZeroAddress):
        vault.withdrawCollateral(weth, 1, borrower, ape.utils.ZERO_ADDRESS, sender=borrower)
    assert vault.collateralOf(borrower, weth) == 10


def test_supply_cap(protocol, vault, weth, borrower, governor):
    vault.setCollateralParams(weth, collateral_params(supply_cap=5 * 10**18), sender=governor)
    vault.supplyCollateral(weth, 5 * 10**18, borrower, sender=borrower)
    with ape.reverts(vault.SupplyCapExceeded, collateral=weth.address, total=5 * 10**18 + 1, cap=5 * 10**18):
        vault.supplyCollateral(weth, 1, borrower, sender=borrower)
    # Withdrawing makes room again.
    vault.withdrawCollateral(weth, 1, borrower, borrower, sender=borrower)
    vault.supplyCollateral(weth, 1, borrower, sender=borrower)


def test_withdraw_that_breaks_borrow_limit_is_refused(protocol, vault, weth, borrower):
    vault.supplyCollateral(weth, 10 * 10**18, borrower, sender=borrower)  # $20,000, limit 75% = $15,000
    vault.borrow(15_000 * USDC, borrower, borrower, sender=borrower)
    with ape.reverts(vault.InsufficientCollateral, account=borrower.address):
        vault.withdrawCollateral(weth, 1, borrower, borrower, sender=borrower)
    assert vault.collateralOf(borrower, weth) == 10 * 10**18


def test_cross_margin_two_assets_back_one_debt(protocol, vault, weth, wbtc, borrower):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)  # $2,000 * 75% = $1,500
    vault.supplyCollateral(wbtc, 10**7, borrower, sender=borrower)  # 0.1 BTC = $3,000 * 70% = $2,100
    vault.borrow(3_600 * USDC, borrower, borrower, sender=borrower)
    snapshot = vault.accountSnapshot(borrower)
    assert snapshot.collateralValue == 5_000 * 10**18
    assert snapshot.borrowLimit == 3_600 * 10**18
    assert snapshot.liquidationValue == (1_600 + 2_250) * 10**18
    with ape.reverts(vault.InsufficientCollateral):
        vault.borrow(1, borrower, borrower, sender=borrower)
