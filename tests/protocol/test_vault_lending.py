"""Vault as an ERC-4626 over USDC: deposits, withdrawals, virtual shares, pause, liquidity limits."""

import ape
import pytest

from helpers import MIN_DEBT, WAD, charge_interest, open_position, reverts_named
from scripts._deployment import deploy_vault

USDC = 10**6


def test_vault_metadata(vault, usdc):
    assert vault.asset() == usdc.address
    assert vault.decimals() == 6 + 6  # asset decimals + the virtual-share offset
    assert vault.name() == "Gavel USDC" and vault.symbol() == "gUSDC"


@pytest.fixture
def empty_vault(project, usdc, oracle, fund, governor, guardian):
    """A Vault no one has deposited into yet."""
    return deploy_vault(project, governor, usdc, oracle, fund, governor, guardian)


def test_deposit_and_redeem_round_trip(empty_vault, usdc, lender, governor):
    vault = empty_vault
    usdc.mint(lender, 1_000 * USDC, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=lender)
    before = usdc.balanceOf(lender)
    tx = vault.deposit(1_000 * USDC, lender, sender=lender)
    shares = vault.balanceOf(lender)
    assert shares == 1_000 * USDC * 10**6  # one asset unit is 1e6 shares in an empty vault
    assert tx.events.filter(vault.Deposit)[0].shares == shares
    assert vault.totalAssets() == 1_000 * USDC
    vault.redeem(shares, lender, lender, sender=lender)
    assert usdc.balanceOf(lender) == before and vault.totalSupply() == 0


def test_mint_and_withdraw(empty_vault, usdc, lender, governor):
    vault = empty_vault
    usdc.approve(vault, 2**256 - 1, sender=lender)
    usdc.mint(lender, 10 * USDC, sender=governor)
    before = usdc.balanceOf(lender)
    vault.mint(5 * 10**12, lender, sender=lender)  # 5 USDC worth of shares
    assert usdc.balanceOf(lender) == before - 5 * USDC
    vault.withdraw(5 * USDC, lender, lender, sender=lender)
    assert usdc.balanceOf(lender) == before and vault.balanceOf(lender) == 0


def test_deposit_into_a_used_vault_prices_shares_by_assets(vault, usdc, other, governor):
    usdc.mint(other, 1_000 * USDC, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=other)
    expected = vault.previewDeposit(1_000 * USDC)
    vault.deposit(1_000 * USDC, other, sender=other)
    assert vault.balanceOf(other) == expected
    # Redeeming straight back never returns more than was put in (rounding favours the vault).
    assert vault.previewRedeem(expected) <= 1_000 * USDC


def test_zero_amounts_are_refused(vault, lender):
    for call in (
        lambda: vault.deposit(0, lender, sender=lender),
        lambda: vault.mint(0, lender, sender=lender),
        lambda: vault.withdraw(0, lender, lender, sender=lender),
        lambda: vault.redeem(0, lender, lender, sender=lender),
    ):
        with ape.reverts(vault.ZeroAmount):
            call()


def test_first_deposit_inflation_attack_is_unprofitable(empty_vault, usdc, lender, other, governor):
    vault = empty_vault
    # The attacker deposits 1 wei, donates 10,000 USDC, and hopes the victim's shares round to zero.
    usdc.mint(other, 10_001 * USDC, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=other)
    vault.deposit(1, other, sender=other)
    usdc.transfer(vault, 10_000 * USDC, sender=other)
    usdc.mint(lender, 1_000 * USDC, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=lender)
    vault.deposit(1_000 * USDC, lender, sender=lender)
    assert vault.balanceOf(lender) > 0
    # The victim keeps nearly everything: at most 1 part in 10,000 lost to rounding.
    assert vault.maxWithdraw(lender) >= 1_000 * USDC * 9_999 // 10_000


def test_withdraw_limited_to_free_cash(protocol, vault, usdc, lender, borrower, weth, governor):
    vault.setReserveFactor(0, sender=governor)  # so free cash does not shrink between blocks
    open_position(vault, borrower, weth, 100 * 10**18, 100_000 * USDC)
    free = vault.availableLiquidity()
    assert free == 900_000 * USDC
    assert vault.maxWithdraw(lender) == free
    assert vault.maxRedeem(lender) == vault.convertToShares(free)
    with reverts_named("ERC4626ExceededMaxWithdraw"):
        vault.withdraw(free + 1, lender, lender, sender=lender)
    vault.withdraw(vault.maxWithdraw(lender), lender, lender, sender=lender)
    assert usdc.balanceOf(vault) == 0


def test_pause_stops_deposit_mint_borrow_but_not_exits(
    protocol, vault, guardian, governor, lender, borrower, weth, usdc
):
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    vault.borrow(MIN_DEBT, borrower, borrower, sender=borrower)
    tx = vault.pause(sender=guardian)
    event = tx.events.filter(vault.PausedSet)[0]
    assert event.paused and event.by == guardian.address
    assert vault.maxDeposit(lender) == 0 and vault.maxMint(lender) == 0
    with ape.reverts(vault.EnforcedPause):
        vault.deposit(1, lender, sender=lender)
    with ape.reverts(vault.EnforcedPause):
        vault.mint(1, lender, sender=lender)
    with ape.reverts(vault.EnforcedPause):
        vault.borrow(MIN_DEBT, borrower, borrower, sender=borrower)
    # Exits and risk-reducing actions keep working.
    vault.withdraw(1_000 * USDC, lender, lender, sender=lender)
    vault.supplyCollateral(weth, 10**18, borrower, sender=borrower)
    usdc.mint(borrower, MIN_DEBT, sender=governor)  # enough for the interest too
    vault.repay(2**256 - 1, borrower, sender=borrower)
    vault.withdrawCollateral(weth, 2 * 10**18, borrower, borrower, sender=borrower)
    # Only the governor unpauses.
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.unpause(sender=guardian)
    vault.unpause(sender=governor)
    vault.deposit(1, lender, sender=lender)


def test_share_price_rises_with_interest(protocol, vault, borrower, weth, chain, governor):
    charge_interest(vault, governor)
    before = vault.convertToAssets(WAD)
    open_position(vault, borrower, weth, 100 * 10**18, 100_000 * USDC)
    chain.pending_timestamp += 30 * 24 * 3600
    chain.mine()
    assert vault.convertToAssets(WAD) > before
