"""InsuranceFund: funding, paying as far as it can, and who may ask it to pay."""

import ape

USDC = 10**6


def test_fund_and_coverage(fund, usdc, other, governor):
    assert fund.asset() == usdc.address
    before = fund.coverage()
    usdc.mint(other, 50 * USDC, sender=governor)
    usdc.approve(fund, 50 * USDC, sender=other)
    tx = fund.fund(50 * USDC, sender=other)
    event = tx.events.filter(fund.Funded)[-1]
    assert (event.__getattr__("from"), event.amount) == (other.address, 50 * USDC)
    assert fund.coverage() == before + 50 * USDC
    with ape.reverts(fund.ZeroAmount):
        fund.fund(0, sender=other)


def test_pays_as_far_as_it_can(fund, usdc, governor, other):
    fund.grantRole(fund.PAYER_ROLE(), governor, sender=governor)
    fund.grantRole(fund.COVER_ROLE(), governor, sender=governor)
    balance = fund.coverage()
    tx = fund.payIncentive(other, balance + 1, sender=governor)
    event = tx.events.filter(fund.IncentivePaid)[-1]
    assert (event.owed, event.paid) == (balance + 1, balance)
    assert usdc.balanceOf(other) == balance and fund.coverage() == 0
    tx = fund.coverShortfall(7, sender=governor)
    event = tx.events.filter(fund.ShortfallCovered)[-1]
    assert (event.owed, event.covered) == (7, 0)
    with ape.reverts(fund.ZeroAddress):
        fund.payIncentive(ape.utils.ZERO_ADDRESS, 1, sender=governor)


def test_only_payers(fund, vault, liquidator, other, guardian):
    payer, cover = fund.PAYER_ROLE(), fund.COVER_ROLE()
    # The liquidator pays incentives; the Vault draws cover. Neither may do the other's.
    for caller in (other, guardian):
        with ape.reverts(fund.AccessControlUnauthorizedAccount, account=caller.address, neededRole=payer):
            fund.payIncentive(caller, 1, sender=caller)
        with ape.reverts(fund.AccessControlUnauthorizedAccount, account=caller.address, neededRole=cover):
            fund.coverShortfall(1, sender=caller)
    assert fund.hasRole(payer, liquidator) and not fund.hasRole(cover, liquidator)
    assert fund.hasRole(cover, vault) and not fund.hasRole(payer, vault)
