"""`make gas` prints the least any take can cost (contracts/test/GasFloor.sol) beside Gavel's take,
and docs/benchmarks.md argues from that figure. It is only a floor if the contract does the work it claims:
both token transfers, and both price reads when asked (a read that was skipped would make the
floor look lower than any take can be)."""

import pytest

from helpers import reverts_named

ETH = 10**18
USDC = 10**6
STALE = 1  # IOracleAdapter.Status.Stale


@pytest.fixture
def floor(project, governor, keeper, usdc, weth):
    least = project.GasFloor.deploy(sender=governor)
    weth.mint(least, 10 * ETH, sender=governor)
    usdc.mint(keeper, 10_000 * USDC, sender=governor)
    usdc.approve(least, 2**256 - 1, sender=keeper)
    return least


@pytest.mark.parametrize("read_prices", [True, False])
def test_the_floor_moves_both_tokens(floor, oracle, usdc, weth, keeper, read_prices):
    weth_before, usdc_before = weth.balanceOf(keeper), usdc.balanceOf(keeper)
    floor.take(oracle, weth, usdc, ETH, 1_400 * USDC, keeper, read_prices, sender=keeper)
    assert weth.balanceOf(keeper) == weth_before + ETH
    assert usdc.balanceOf(keeper) == usdc_before - 1_400 * USDC
    assert usdc.balanceOf(floor) == 1_400 * USDC


@pytest.mark.parametrize("stale_feed", ["eth_feed", "usdc_feed"])
def test_the_floor_reads_both_prices_when_asked(
    floor, oracle, usdc, weth, keeper, governor, chain, request, stale_feed
):
    # Each of the two reads is made: with either asset's only source stale, the priced take fails
    # on that asset's price, and the unpriced take (the other row of the table) does not read it.
    feed = request.getfixturevalue(stale_feed)
    asset = weth if stale_feed == "eth_feed" else usdc
    too_old = chain.pending_timestamp - 200_000  # [seconds] past any heartbeat
    feed.setAnswerAt(feed.latestRoundData()[1], too_old, sender=governor)
    with reverts_named("PriceUnavailable", asset=asset.address, status=STALE):
        floor.take(oracle, weth, usdc, ETH, 1_400 * USDC, keeper, True, sender=keeper)
    floor.take(oracle, weth, usdc, ETH, 1_400 * USDC, keeper, False, sender=keeper)
