"""Interest: the kinked rate, the per-second index against hand-computed figures, reserves."""

import ape

from helpers import WAD, YEAR, at, charge_interest
from money import div_up, mul_div_up, wdiv_up, wmul_down, wmul_up

USDC = 10**6
SLOPE1, SLOPE2, KINK = 4 * WAD // 100, 75 * WAD // 100, 80 * WAD // 100
RESERVE_FACTOR = WAD // 10


def annual_rate(u: int) -> int:
    rate = mul_div_up(SLOPE1, min(u, KINK), KINK)
    if u > KINK:
        rate += mul_div_up(SLOPE2, u - KINK, WAD - KINK)
    return rate


def borrow_half(vault, weth, borrower, governor, amount=500_000 * USDC):
    charge_interest(vault, governor)
    weth.mint(borrower, 1_000 * 10**18, sender=governor)
    vault.supplyCollateral(weth, 1_000 * 10**18, borrower, sender=borrower)
    return vault.borrow(amount, borrower, borrower, sender=borrower)


def test_rate_below_and_above_kink(vault, weth, borrower, governor):
    charge_interest(vault, governor)
    assert vault.borrowRate() == 0  # nothing borrowed
    borrow_half(vault, weth, borrower, governor)
    assert vault.utilization() == WAD // 2
    assert vault.borrowRate() == annual_rate(WAD // 2) == 25 * WAD // 1000  # 4% * 0.5 / 0.8
    vault.borrow(400_000 * USDC, borrower, borrower, sender=borrower)
    u = vault.utilization()
    assert u >= 9 * WAD // 10
    assert vault.borrowRate() == annual_rate(u)
    assert annual_rate(9 * WAD // 10) == 415 * WAD // 1000  # 4% + 75% * 0.1 / 0.2


def test_one_year_of_interest_by_hand(vault, weth, borrower, governor, chain):
    tx = borrow_half(vault, weth, borrower, governor)
    start = chain.blocks[tx.block_number].timestamp
    at(chain, start + YEAR)
    tx = vault.accrueInterest(sender=governor)

    rate_per_second = div_up(annual_rate(WAD // 2), YEAR)  # 0.025 / year, rounded up per second
    index = WAD + wmul_up(WAD, rate_per_second * YEAR)
    scaled = wdiv_up(500_000 * USDC, WAD)
    interest = wmul_down(scaled, index) - wmul_down(scaled, WAD)
    reserves = wmul_down(interest, RESERVE_FACTOR)

    assert vault.borrowIndex() == index
    assert vault.debtOf(borrower) == wmul_up(scaled, index)
    # 500,000 * 1.025 = 512,500; the per-second rate rounded up adds 6.4 units of 1e-6, rounded up.
    assert vault.debtOf(borrower) == 512_500_000_007
    event = tx.events.filter(vault.InterestAccrued)[0]
    assert (event.borrowIndex, event.interest, event.reserves) == (index, interest, reserves)
    assert vault.reserves() == reserves == 1_250_000_000
    # Lenders earn the interest less the reserve.
    assert vault.totalAssets() == 1_000_000 * USDC + interest - reserves


def test_two_accruals_compound(vault, weth, borrower, governor, chain):
    tx = borrow_half(vault, weth, borrower, governor)
    start = chain.blocks[tx.block_number].timestamp
    half = YEAR // 2
    at(chain, start + half)
    vault.accrueInterest(sender=governor)
    u = vault.utilization()  # interest raised utilisation a little
    at(chain, start + 2 * half)
    vault.accrueInterest(sender=governor)
    first = WAD + wmul_up(WAD, div_up(annual_rate(WAD // 2), YEAR) * half)
    second = first + wmul_up(first, div_up(annual_rate(u), YEAR) * half)
    assert vault.borrowIndex() == second
    assert second > WAD + wmul_up(WAD, div_up(annual_rate(WAD // 2), YEAR) * 2 * half)  # compounding beats simple


def test_reserves_reach_the_fund(vault, fund, weth, borrower, governor, chain):
    tx = borrow_half(vault, weth, borrower, governor)
    at(chain, chain.blocks[tx.block_number].timestamp + YEAR)
    before = fund.coverage()
    tx = vault.collectReserves(sender=governor)
    collected = tx.events.filter(vault.ReservesCollected)[0].amount
    assert collected == 1_250_000_000
    assert fund.coverage() == before + collected and vault.reserves() == 0
    # In the same second nothing more has accrued, so there is nothing left to collect.
    at(chain, chain.blocks[tx.block_number].timestamp)
    with ape.reverts(vault.ZeroAmount):
        vault.collectReserves(sender=governor)


def test_reserves_limited_by_cash(vault, fund, weth, borrower, governor, chain, lender):
    tx = borrow_half(vault, weth, borrower, governor)
    at(chain, chain.blocks[tx.block_number].timestamp + YEAR)
    vault.accrueInterest(sender=governor)
    at(chain, chain.blocks.head.timestamp)  # withdraw in the second the maximum was read at
    vault.withdraw(vault.maxWithdraw(lender), lender, lender, sender=lender)
    # Lenders could not take the reserves out: they are still there to collect.
    assert vault.availableLiquidity() == 0
    tx = vault.collectReserves(sender=governor)
    assert tx.events.filter(vault.ReservesCollected)[0].amount == 1_250_000_000


def test_no_interest_without_borrowers(vault, chain, governor):
    charge_interest(vault, governor)
    at(chain, chain.pending_timestamp + YEAR)
    tx = vault.accrueInterest(sender=governor)
    assert vault.borrowIndex() == WAD and len(tx.events) == 0
