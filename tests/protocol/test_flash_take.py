"""Taking through the onTake callback: a taker with no capital sells the collateral on real
Uniswap V2 inside the take and pays from the proceeds; any re-entry from a receiver is refused."""

import ape
import pytest

from helpers import CUSP, at, gas_in_usdc, kick, open_position, reverts_named
from money import debt_to_collateral_down, wmul_up

USDC = 10**6
ETH = 10**18


@pytest.fixture
def taker(project, liquidator, usdc, governor):
    return project.UniswapV2Taker.deploy(liquidator, usdc, sender=governor)


@pytest.fixture
def auction(vault, liquidator, weth, borrower, keeper, eth_feed, governor, chain, uniswap):
    """Half of a 10 WETH / 14,000 USDC position in auction at ETH $1,700: 5 WETH for 7,700 USDC."""
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    return auction_id, chain.blocks[tx.block_number].timestamp


def test_flash_take_sells_on_uniswap_and_pays_inside_the_callback(
    liquidator, vault, taker, usdc, weth, auction, uniswap, other, chain
):
    auction_id, t0 = auction
    router, pair = uniswap["router"], uniswap["pair"]
    assert usdc.balanceOf(other) == 0 and weth.balanceOf(other) == 0  # no capital at all
    at(chain, t0 + 600)
    price = wmul_up(liquidator.auctionView(auction_id).top, CUSP)  # the curve met its floor at 540 s
    tab = liquidator.auctions(auction_id).tab
    collateral = debt_to_collateral_down(tab, price, ETH, USDC)  # 5 WETH would raise more than the tab
    expected_out = router.getAmountsOut(collateral, [weth, usdc])[1]
    reserves_before = pair.getReserves()
    vault_cash, reserves = usdc.balanceOf(vault), vault.reserves()

    tx = taker.takeAndSell(auction_id, 5 * ETH, price, router, [weth, usdc], 0, sender=other)

    event = tx.events.filter(taker.TakenAndSold)[0]
    assert (event.bought, event.paid, event.profit) == (collateral, tab, expected_out - tab)
    assert usdc.balanceOf(other) == expected_out - tab > 0  # the keeper ends with more than it started
    assert usdc.balanceOf(taker) == 0 and weth.balanceOf(taker) == 0  # the taker keeps nothing
    swap = tx.events.filter(pair.Swap)[0]
    assert swap.to == taker.address
    weth_is_token0 = pair.token0() == weth.address
    reserves_after = pair.getReserves()
    weth_reserve = 0 if weth_is_token0 else 1
    assert reserves_after[weth_reserve] == reserves_before[weth_reserve] + collateral
    assert reserves_after[1 - weth_reserve] == reserves_before[1 - weth_reserve] - expected_out
    # The whole tab reaches the Vault; the fund's share of the penalty waits there as reserves.
    assert usdc.balanceOf(vault) == vault_cash + tab
    accrued = tx.events.filter(vault.InterestAccrued)  # the take accrues interest first
    reserves = accrued[0].reserves if accrued else reserves
    assert vault.reserves() == reserves + tx.events.filter(vault.AuctionProceeds)[0].penaltyToFund
    assert liquidator.getStatus(auction_id) == (False, 0, 0, 0)


def test_flash_take_refuses_an_unprofitable_sale(liquidator, taker, usdc, weth, auction, uniswap, other, chain):
    auction_id, t0 = auction
    at(chain, t0 + 600)
    with ape.reverts(taker.InsufficientProceeds):
        taker.takeAndSell(auction_id, 5 * ETH, 2**256 - 1, uniswap["router"], [weth, usdc], 10**12, sender=other)
    assert liquidator.auctions(auction_id).lot == 5 * ETH


GWEI = 10**9


def test_the_take_that_ends_an_auction_is_paid_its_gas(
    liquidator, vault, taker, usdc, weth, auction, uniswap, other, governor, chain, next_base_fee
):
    """In congestion a lot whose discount no longer pays for its sale's gas must still sell: the
    take that ends a borrower's auction is credited its gas at the base fee (at most
    TAKE_GAS_PAID of it), to the account that paid that gas (the keeper, not its taker contract),
    never more than it burned. A partial take is not paid."""
    liquidator.setGasAsset(weth, sender=governor)
    auction_id, t0 = auction
    router = uniswap["router"]
    at(chain, t0 + 600)
    next_base_fee(300 * GWEI)
    tx = taker.takeAndSell(
        auction_id, ETH, 2**256 - 1, router, [weth, usdc], 0, sender=other, max_fee=600 * GWEI, max_priority_fee=0
    )
    assert liquidator.getStatus(auction_id)[2] > 0 and liquidator.claimable(other) == 0  # part of the lot
    next_base_fee(300 * GWEI)
    tx = taker.takeAndSell(
        auction_id, 5 * ETH, 2**256 - 1, router, [weth, usdc], 0, sender=other, max_fee=600 * GWEI, max_priority_fee=0
    )
    assert liquidator.getStatus(auction_id)[2] == 0  # ended
    paid = liquidator.claimable(other)
    gas_cost = gas_in_usdc(tx, 1_700)  # ETH at the oracle's price
    assert gas_cost * 85 // 100 <= paid <= gas_cost
    assert liquidator.claimable(taker) == 0
    event = tx.events.filter(liquidator.KeeperIncentive)[0]
    assert (event.keeper, event.owed) == (other.address, paid)


def test_taker_checks_its_inputs(liquidator, taker, usdc, weth, auction, uniswap, other, keeper):
    auction_id, _ = auction
    with ape.reverts(taker.InvalidPath):
        taker.takeAndSell(auction_id, ETH, 2**256 - 1, uniswap["router"], [usdc, weth], 0, sender=other)
    with ape.reverts(taker.UnexpectedCallback, caller=keeper.address):
        taker.onTake(taker, auction_id, weth, 1, 1, b"", sender=keeper)


def reentry_calls(vault, liquidator, weth, receiver, auction_id):
    """Calldata for every state-changing entry point, as a hostile receiver would call them."""
    return {
        "deposit": vault.deposit.encode_input(1, receiver),
        "mint": vault.mint.encode_input(1, receiver),
        "withdraw": vault.withdraw.encode_input(1, receiver, receiver),
        "redeem": vault.redeem.encode_input(1, receiver, receiver),
        "supplyCollateral": vault.supplyCollateral.encode_input(weth, 1, receiver),
        "withdrawCollateral": vault.withdrawCollateral.encode_input(weth, 1, receiver, receiver),
        "borrow": vault.borrow.encode_input(1, receiver, receiver),
        "repay": vault.repay.encode_input(1, receiver),
        "liquidate": vault.liquidate.encode_input(receiver),
        "accrueInterest": vault.accrueInterest.encode_input(),
        "collectReserves": vault.collectReserves.encode_input(),
        "take": liquidator.take.encode_input(auction_id, 1, 2**256 - 1, receiver, b""),
        "redo": liquidator.redo.encode_input(auction_id),
    }


@pytest.mark.parametrize(
    "entry",
    [
        "deposit",
        "mint",
        "withdraw",
        "redeem",
        "supplyCollateral",
        "withdrawCollateral",
        "borrow",
        "repay",
        "liquidate",
        "accrueInterest",
        "collectReserves",
        "take",
        "redo",
    ],
)
def test_receiver_reentering_any_entry_point_is_refused(
    project, vault, liquidator, weth, auction, keeper, governor, entry
):
    auction_id, _ = auction
    hostile = project.ReentrantTaker.deploy(sender=governor)
    target = liquidator if entry in ("take", "redo") else vault
    hostile.setTarget(target, sender=governor)
    data = reentry_calls(vault, liquidator, weth, hostile.address, auction_id)[entry]
    with reverts_named("Reentrancy"):
        liquidator.take(auction_id, ETH, 2**256 - 1, hostile, data, sender=keeper)
    assert liquidator.auctions(auction_id).lot == 5 * ETH  # nothing moved
