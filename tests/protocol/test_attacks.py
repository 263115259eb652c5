"""Attacks on the protocol, each tried the way an attacker would, against public behaviour only
(entry points, views, events, balances; never storage layout), so a redesign of the liquidation
path must keep every one of them passing unchanged. docs/security.md lists each
attack and how the design refuses it; the numbers in the names follow its list.

Every test here failed against the contracts before the fix it names."""

import ape
import pytest
from eth_abi import decode as abi_decode

from helpers import WAD, YEAR, at, charge_interest, collateral_params, kick, open_position, reverts_named

USDC = 10**6
ETH = 10**18
SAT = 1  # one unit of WBTC (8 decimals)
MAX = 2**256 - 1


@pytest.fixture
def attacker(accounts, governor, weth, wbtc, usdc, vault, liquidator):
    """An account with a little of every token, approved everywhere."""
    who = accounts[9]
    for token in (weth, wbtc):
        token.mint(who, 10**18, sender=governor)
        token.approve(vault, MAX, sender=who)
    usdc.mint(who, 10_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=who)
    usdc.approve(liquidator, MAX, sender=who)
    return who


def kicks_of(tx, liquidator):
    return list(tx.events.filter(liquidator.Kick))


# ---------------------------------------------------------------------- 1. the breaker


def test_1_breaker_stops_the_dust_write_off(
    vault, liquidator, fund, weth, borrower, keeper, guardian, eth_feed, governor
):
    """With the breaker at 1 and a feed misreporting ETH at $1, the account's collateral looks
    like dust; the dust branch used to seize it all to the fund and write the debt off anyway."""
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    liquidator.setBreaker(1, sender=guardian)
    eth_feed.setAnswer(1 * 10**8, sender=governor)
    assets = vault.totalAssets()
    with reverts_named("BreakerActive", level=1):
        vault.liquidate(borrower, sender=keeper)
    assert vault.collateralOf(borrower, weth) == 10 * ETH and vault.debtOf(borrower) == 14_000 * USDC
    assert weth.balanceOf(fund) == 0 and vault.totalAssets() == assets


# ---------------------------------------------------------------------- 2. dust cannot shield


def fill_wbtc_cap(vault, liquidator, wbtc, other, keeper, btc_feed, governor, room: int) -> None:
    """Kick `other` (1 WBTC, 20,000 USDC; BTC at $22,000: health 0.825, closed whole: tab 21,600)
    with WBTC's live-auction cap set to leave exactly `room` [USDC units] free afterwards."""
    tab = 21_600 * USDC
    vault.setCollateralParams(
        wbtc, collateral_params(70, 75, 8, lot_cap=tab + room, live_cap=tab + room), sender=governor
    )
    wbtc.mint(other, 10**8, sender=governor)
    wbtc.approve(vault, MAX, sender=other)
    vault.supplyCollateral(wbtc, 10**8, other, sender=other)
    vault.borrow(20_000 * USDC, other, other, sender=other)
    btc_feed.setAnswer(22_000 * 10**8, sender=governor)
    tx, _ = kick(vault, liquidator, other, keeper)
    assert sum(k.tab for k in kicks_of(tx, liquidator)) == tab


@pytest.mark.parametrize("room", [0, 5], ids=["cap-full", "few-wei-of-room"])
def test_2_capped_dust_cannot_shield_an_account(
    vault, liquidator, weth, wbtc, borrower, other, keeper, attacker, eth_feed, btc_feed, governor, room
):
    """One satoshi of an asset whose live-auction cap is full (or has a few wei of room) used to
    make `liquidate` revert for the whole account (AuctionCapReached, or KickBelowDust)."""
    fill_wbtc_cap(vault, liquidator, wbtc, other, keeper, btc_feed, governor, room)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    vault.supplyCollateral(wbtc, SAT, borrower, sender=attacker)  # anyone may add collateral to any account
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # health 0.914: closed whole

    tx, _ = kick(vault, liquidator, borrower, keeper)

    (weth_kick,) = [k for k in kicks_of(tx, liquidator) if k.collateral == weth.address]
    assert weth_kick.lot == 10 * ETH and weth_kick.debt > 13_999 * USDC
    assert vault.debtOf(borrower) == 0 and vault.collateralOf(borrower, weth) == 0
    assert not [k for k in kicks_of(tx, liquidator) if k.collateral == wbtc.address]  # no auction over the cap


@pytest.fixture
def stale_token(project, vault, oracle, liquidator, linear_curve, governor, chain):
    """A third listed collateral whose only feed has gone stale."""
    token = project.MockERC20.deploy("Stale", "STL", 18, sender=governor)
    feed = project.MockAggregator.deploy(8, "STL / USD", 10**8, sender=governor)
    oracle.setSources(token, [feed], [3600], 1, WAD // 50, sender=governor)
    vault.setCollateralParams(token, collateral_params(), sender=governor)
    liquidator.setAuctionConfig(token, (linear_curve, 11 * WAD // 10, 7200, WAD // 2), sender=governor)
    feed.setAnswerAt(10**8, chain.pending_timestamp - 7200, sender=governor)
    assert oracle.status(token) != 0
    return token


def test_2_stale_dust_blocks_neither_the_owner_nor_a_kick(
    vault, liquidator, weth, stale_token, borrower, keeper, attacker, eth_feed, governor
):
    """One wei of an asset without a price used to make `liquidate` revert PriceUnavailable, and
    the owner's borrows and withdrawals too. It now counts for nothing: it never protects."""
    stale_token.mint(attacker, 1, sender=governor)
    stale_token.approve(vault, MAX, sender=attacker)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    vault.supplyCollateral(stale_token, 1, borrower, sender=attacker)

    vault.borrow(100 * USDC, borrower, borrower, sender=borrower)  # the owner is not blocked
    vault.withdrawCollateral(weth, ETH // 100, borrower, borrower, sender=borrower)

    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    debt = vault.debtOf(borrower)
    tx, _ = kick(vault, liquidator, borrower, keeper)
    (weth_kick,) = kicks_of(tx, liquidator)
    assert weth_kick.collateral == weth.address and vault.collateralOf(borrower, weth) == 0  # all of it, in auction
    # The unpriced wei stays in the account, and so does the debt the auctioned WETH does not
    # support at its liquidation threshold: the account owes what it owed less what was kicked.
    assert vault.collateralOf(borrower, stale_token) == 1
    assert vault.debtOf(borrower) == debt - weth_kick.debt > 0


# ---------------------------------------------------------------------- 3. just-in-time deposit


@pytest.fixture
def penalty_auction(vault, liquidator, weth, borrower, keeper, eth_feed, governor, chain):
    """100 WETH backing 140,000 USDC; ETH at $1,600 closes it whole: a 154,000 tab whose 14,000
    penalty is half the lenders'. Returns (auction id, kick timestamp)."""
    weth.mint(borrower, 100 * ETH, sender=governor)
    open_position(vault, borrower, weth, 100 * ETH, 140_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    return auction_id, chain.blocks[tx.block_number].timestamp


def test_3_a_just_in_time_deposit_does_not_steal_the_penalty(
    project, vault, liquidator, usdc, lender, governor, penalty_auction, chain
):
    """A contract that deposited 9M, took the auction and redeemed in one transaction used to net
    +6,300 USDC of the lenders' 7,000; the lender who carried the risk got 700."""
    auction_id, kicked_at = penalty_auction
    jit = project.JitLender.deploy(sender=governor)
    usdc.mint(jit, 9_000_000 * USDC + 200_000 * USDC, sender=governor)  # the deposit, and the take's price
    lender_before = vault.convertToAssets(vault.balanceOf(lender))

    at(chain, kicked_at + 60)
    receipt = jit.attack(vault, liquidator, auction_id, 9_000_000 * USDC, 100 * ETH, sender=governor)
    deposited, redeemed = receipt.return_value
    assert redeemed <= deposited  # the attack does not pay

    # The penalty still reaches the lenders who held shares while the auction ran, over a day (to the hour).
    at(chain, kicked_at + 60 + vault.INCOME_UNLOCK() + vault.UNLOCK_STEP())
    chain.mine()
    assert vault.convertToAssets(vault.balanceOf(lender)) - lender_before >= 6_999 * USDC


def test_3_a_take_that_shrinks_a_certain_loss_raises_no_share_price_within_it(
    project, vault, liquidator, usdc, weth, borrower, keeper, eth_feed, governor, chain
):
    """Found by the fuzzer: taking an auction whose lot is worth less than its debt, above the
    oracle price, shrinks the loss lenders' assets already left out; the share price rose inside
    the take, and a deposit-take-redeem around it made a profit. Every rise a liquidation step
    causes is now locked as income instead."""
    weth.mint(borrower, 100 * ETH, sender=governor)
    open_position(vault, borrower, weth, 100 * ETH, 140_000 * USDC)
    eth_feed.setAnswer(700 * 10**8, sender=governor)  # the lot is worth 70,000 against 140,000
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    assert vault.expectedLenderLoss() > 50_000 * USDC  # beyond what the fund's 10,000 covers
    jit = project.JitLender.deploy(sender=governor)
    usdc.mint(jit, 9_000_000 * USDC + 80_000 * USDC, sender=governor)
    # A few seconds after the kick, the price is still about 1.1 times the oracle's.
    deposited, redeemed = jit.attack(vault, liquidator, auction_id, 9_000_000 * USDC, MAX, sender=governor).return_value
    assert redeemed <= deposited


# ---------------------------------------------------------------------- 4. leaving ahead of a known loss


def test_4_lenders_cannot_leave_at_par_ahead_of_a_certain_loss(
    vault, liquidator, usdc, weth, borrower, keeper, lender, other, eth_feed, governor, chain
):
    """A lot worth 30,000 against 140,000 of debt: a lender who redeemed after the kick used to
    leave at par while the other bore the whole loss. Both now lose the same share."""
    usdc.mint(other, 1_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=other)
    vault.deposit(1_000_000 * USDC, other, sender=other)
    weth.mint(borrower, 100 * ETH, sender=governor)
    open_position(vault, borrower, weth, 100 * ETH, 140_000 * USDC)
    start = {who: vault.convertToAssets(vault.balanceOf(who)) for who in (lender, other)}

    eth_feed.setAnswer(300 * 10**8, sender=governor)  # the lot is worth 30,000
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    kicked_at = chain.blocks[tx.block_number].timestamp
    left_with = vault.redeem(vault.balanceOf(other), other, other, sender=other).return_value  # runs for the door

    # The auction sells the lot at the oracle price; the rest of the debt is lost.
    at(chain, kicked_at + 328)  # the linear curve from 1.1x reaches the oracle price at 1/11 of an hour
    liquidator.take(auction_id, 100 * ETH, MAX, keeper, b"", sender=keeper)
    stayed_with = vault.convertToAssets(vault.balanceOf(lender))

    loss_left = (start[other] - left_with) / start[other]
    loss_stayed = (start[lender] - stayed_with) / start[lender]
    assert loss_stayed > 0.04  # about 100,000 of 2M after the fund's 10,000
    assert abs(loss_left - loss_stayed) < 0.001, (loss_left, loss_stayed)


# ---------------------------------------------------------------------- 5. misbehaving sources


@pytest.mark.parametrize("mode", ["Overflow", "ShortData", "BadRound", "BurnGas", "ReturnBomb"])
def test_5_a_misbehaving_source_simply_does_not_count(
    project, oracle, vault, liquidator, weth, eth_feed, borrower, keeper, governor, mode
):
    """A source whose value overflows when scaled, that returns data that does not decode, or that
    burns all its gas used to make peek/price/status revert (a 30M-gas liquidate ran out of gas)."""
    modes = ["Overflow", "ShortData", "BadRound", "BurnGas", "ReturnBomb"]
    hostile = project.HostileFeed.deploy(modes.index(mode), sender=governor)
    second = project.MockAggregator.deploy(8, "ETH / USD 2", 2_000 * 10**8, sender=governor)
    oracle.setSources(weth, [eth_feed, hostile, second], [3600] * 3, 2, WAD // 50, sender=governor)
    assert oracle.peek(weth) == (2_000 * WAD, 0)
    assert oracle.price(weth) == 2_000 * WAD and oracle.status(weth) == 0

    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    for feed in (eth_feed, second):
        feed.setAnswer(1_600 * 10**8, sender=governor)
    tx = vault.liquidate(borrower, sender=keeper, gas_limit=30_000_000)
    assert kicks_of(tx, liquidator) and vault.debtOf(borrower) == 0


def test_5_a_sequencer_round_dated_in_the_future_means_down(project, oracle, weth, governor, chain):
    sequencer = project.MockAggregator.deploy(0, "L2 sequencer", 0, sender=governor)
    sequencer.setAnswerAt(0, chain.pending_timestamp + 3600, sender=governor)
    oracle.setSequencerFeed(sequencer, 600, sender=governor)
    assert oracle.status(weth) == 4  # SequencerDown, not a panic


# ---------------------------------------------------------------------- 6. nothing to sell


def test_6_no_auction_without_something_to_sell(vault, liquidator, weth, wbtc, borrower, keeper, eth_feed, governor):
    """Splitting a cross-margin kick used to open an auction with tab 0 and debt 0 over a 1-unit
    lot, which no take could close and nobody was paid to redo."""
    vault.supplyCollateral(wbtc, SAT, borrower, sender=borrower)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    tx, ids = kick(vault, liquidator, borrower, keeper)
    assert ids and all(k.lot > 0 and k.debt > 0 and k.tab >= k.debt for k in kicks_of(tx, liquidator))
    for auction_id in ids:  # and every one of them can be taken to its end
        liquidator.take(auction_id, MAX, MAX, keeper, b"", sender=keeper)
        assert liquidator.getStatus(auction_id)[2:] == (0, 0)


# ---------------------------------------------------------------------- 7. reserves first


def test_7_reserves_cover_a_shortfall_before_lenders(
    vault, liquidator, fund, usdc, weth, borrower, keeper, other, eth_feed, usdc_feed, btc_feed, governor, chain
):
    """A shortfall used to be covered by the fund's balance only, while reserves owed to the fund
    sat in the Vault and lenders took the loss."""
    charge_interest(vault, governor)
    weth.mint(other, 1_000 * ETH, sender=governor)
    weth.approve(vault, MAX, sender=other)
    open_position(vault, other, weth, 1_000 * ETH, 500_000 * USDC)
    at(chain, chain.pending_timestamp + YEAR)
    vault.accrueInterest(sender=keeper)
    for feed, dollars in ((usdc_feed, 1), (eth_feed, 2_000), (btc_feed, 30_000)):
        feed.setAnswer(dollars * 10**8, sender=governor)  # a year on, the feeds have beaten since
    assert vault.reserves() > 1_000 * USDC
    fund.grantRole(fund.PAYER_ROLE(), governor, sender=governor)  # the fund is empty
    fund.payIncentive(governor, fund.coverage(), sender=governor)

    open_position(vault, borrower, weth, ETH, 1_400 * USDC)
    eth_feed.setAnswer(1_000 * 10**8, sender=governor)  # lot worth 1,000 for 1,400 of debt
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    # A lot that cannot cover its debt sells at its floor at once: 1,000 * 1.1 * 0.85 = 935.
    at(chain, chain.blocks[tx.block_number].timestamp)  # in the kick's second: no interest between
    assets, reserves = vault.totalAssets(), vault.reserves()
    tx = liquidator.take(auction_id, ETH, MAX, keeper, b"", sender=keeper)

    settled = tx.events.filter(vault.ShortfallSettled)[0]
    assert 465 * USDC <= settled.shortfall < 466 * USDC  # 1,400 and a few seconds' interest, less 935
    assert settled.fromReserves == settled.covered == settled.shortfall and settled.badDebt == 0
    assert vault.reserves() == reserves - settled.shortfall
    assert vault.totalAssets() >= assets  # the lenders lost nothing


# ---------------------------------------------------------------------- 8. seized collateral is sold


def test_8_the_fund_sells_the_collateral_it_seized(
    vault, liquidator, fund, usdc, weth, borrower, keeper, eth_feed, governor
):
    """Collateral that went to the fund (a dust account's) could never leave it."""
    open_position(vault, borrower, weth, ETH // 10, 150 * USDC)
    eth_feed.setAnswer(900 * 10**8, sender=governor)  # $90 of collateral: below dust, realised
    vault.liquidate(borrower, sender=keeper)
    assert weth.balanceOf(fund) == ETH // 10
    coverage = fund.coverage()

    tx = fund.sellCollateral(weth, sender=keeper)  # anyone may start the sale
    (sale,) = kicks_of(tx, liquidator)
    assert (sale.account, sale.collateral, sale.lot, sale.debt) == (fund.address, weth.address, ETH // 10, 0)
    tx = liquidator.take(sale.id, ETH, MAX, keeper, b"", sender=keeper)
    paid = tx.events.filter(liquidator.Take)[0].paid
    assert paid >= 90 * USDC  # bought at the start price, above the oracle's $90
    assert fund.coverage() == coverage + paid and weth.balanceOf(fund) == 0
    assert liquidator.getStatus(sale.id)[2:] == (0, 0)


# ---------------------------------------------------------------------- 9. self-kick


def test_9_the_bounds_refuse_a_penalty_that_pays_a_self_kick(vault, governor, weth):
    with ape.reverts(vault.OutOfBounds):
        vault.setCollateralParams(weth, collateral_params(penalty=0), sender=governor)


def test_9_a_self_kick_never_pays(vault, liquidator, usdc, weth, borrower, keeper, eth_feed, governor, chain):
    """Penalty 0 with chip 5% was inside the bounds, and a self-kick then netted +377.50 USDC from
    the fund. With the highest incentive and the lowest penalty the bounds allow, the account
    pays more than its owner earns for kicking it."""
    liquidator.setIncentive(1_000 * USDC, WAD // 20, sender=governor)
    penalty = vault.MIN_PENALTY()
    vault.setCollateralParams(weth, collateral_params(penalty=penalty * 100 // WAD), sender=governor)
    assert vault.collateralParams(weth).penalty == penalty
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)

    def worth():  # [USDC units] what the borrower owns at the oracle price, less what it owes
        eth = weth.balanceOf(borrower) + vault.collateralOf(borrower, weth)
        return usdc.balanceOf(borrower) + eth * 1_600 * USDC // ETH - vault.debtOf(borrower)

    before = worth()
    tx, (auction_id,) = kick(vault, liquidator, borrower, borrower)  # the owner kicks itself
    incentive = tx.events.filter(liquidator.KeeperIncentive)[0]
    (lot,) = kicks_of(tx, liquidator)
    assert 0 < incentive.owed < lot.tab - lot.debt  # it pays less than the penalty it charges
    # Sold at exactly the oracle price, so nothing but the penalty and the incentive moves.
    at(chain, chain.blocks[tx.block_number].timestamp + 327)
    liquidator.take(auction_id, 10 * ETH, MAX, keeper, b"", sender=keeper)
    assert worth() < before


# ---------------------------------------------------------------------- 10. views on an earlier timestamp


def test_10_no_view_panics_on_an_earlier_timestamp(
    vault, liquidator, weth, borrower, keeper, eth_feed, governor, chain
):
    """A keeper's `debtOf` evaluated in a block dated before the last accrual used to underflow
    (panic 0x11). Every view is now evaluated at a timestamp one hour before the latest block's."""
    charge_interest(vault, governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    _, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    vault.accrueInterest(sender=keeper)
    earlier = chain.blocks.head.timestamp - 3600
    calls = {
        "debtOf": (vault, vault.debtOf.encode_input(borrower)),
        "healthFactor": (vault, vault.healthFactor.encode_input(borrower)),
        "totalAssets": (vault, vault.totalAssets.encode_input()),
        "totalDebt": (vault, vault.totalDebt.encode_input()),
        "availableLiquidity": (vault, vault.availableLiquidity.encode_input()),
        "utilization": (vault, vault.utilization.encode_input()),
        "borrowRate": (vault, vault.borrowRate.encode_input()),
        "maxWithdraw": (vault, vault.maxWithdraw.encode_input(keeper)),
        "accountSnapshot": (vault, vault.accountSnapshot.encode_input(borrower)),
        "getStatus": (liquidator, liquidator.getStatus.encode_input(auction_id)),
    }
    rpc = chain.provider.web3.provider.make_request
    results = {}
    for name, (contract, data) in calls.items():
        call = {"to": contract.address, "data": "0x" + bytes(data).hex()}
        answer = rpc("eth_call", [call, "latest", {}, {"time": hex(earlier)}])
        assert "error" not in answer, f"{name} at an earlier timestamp: {answer['error']}"
        results[name] = bytes.fromhex(answer["result"][2:])
    needs_redo, price, lot, _ = abi_decode(["bool", "uint256", "uint256", "uint256"], results["getStatus"])
    assert lot == 10 * ETH and price > 0 and not needs_redo  # an auction not yet started shows its top price


# ---------------------------------------------------------------------- 12. write-off while collateral is kept
# Found by `make bench-crash`; refused the same way.


def test_12_a_sold_out_auction_is_not_written_off_while_the_borrower_keeps_collateral(
    vault, liquidator, fund, weth, borrower, keeper, eth_feed, governor, chain
):
    """A partial kick auctions half of the account's WETH; the auction sells its whole lot below
    the debt it carries. The unpaid debt used to be settled as a shortfall (reserves, the fund,
    then lenders) while the borrower kept the other half: when ETH came back the account was
    healthy again, richer by exactly the debt others had paid. Now the debt goes back onto the
    account, and the account is kicked again from what it still holds."""
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # health 0.97: half the debt is kicked
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    assert vault.collateralOf(borrower, weth) == 5 * ETH
    debt_kept = vault.debtOf(borrower)
    eth_feed.setAnswer(1_300 * 10**8, sender=governor)  # then falls: its floor, 1,215.5, at once
    reserves, coverage, assets = vault.reserves(), fund.coverage(), vault.totalAssets()
    tx = liquidator.take(auction_id, 5 * ETH, MAX, keeper, b"", sender=keeper)

    ended = tx.events.filter(liquidator.AuctionEnded)[0]
    assert ended.leftover == 0 and 922 * USDC < ended.shortfall < 923 * USDC  # 7,000 less 6,077.5
    assert not list(tx.events.filter(vault.ShortfallSettled)) and not list(tx.events.filter(vault.BadDebtRealized))
    returned = tx.events.filter(vault.DebtReturned)[0]
    assert (returned.account, returned.amount) == (borrower.address, ended.shortfall)
    assert returned.scaledDebt == vault.scaledDebtOf(borrower)
    assert vault.debtOf(borrower) >= debt_kept + ended.shortfall  # never less than owed (rounded up)
    assert vault.reserves() >= reserves and fund.coverage() == coverage and vault.totalAssets() >= assets

    # ETH back where it was: before the fix, 5 WETH ($6,800 at the threshold) against 7,000 left a
    # healthy account. Now it owes the rest, and is kicked again from the WETH it kept.
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    assert vault.healthFactor(borrower) < WAD
    tx, ids = kick(vault, liquidator, borrower, keeper)
    assert len(ids) == 1 and tx.events.filter(liquidator.Kick)[0].collateral == weth.address
