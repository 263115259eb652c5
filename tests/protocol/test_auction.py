"""DutchAuctionLiquidator: the price (curve, urgency, floor), take, the dust rule, redo past the
tail, breaker levels 2 and 3, the keeper status view, and who may call what."""

import ape
import pytest

from helpers import (
    BUF,
    CHIP,
    CUSP,
    MIN_DEBT,
    PROD_CUSP,
    TAIL,
    TAU,
    TIP,
    WAD,
    at,
    kick,
    open_position,
    production_weth,
)
from money import (
    auction_price,
    collateral_to_debt_up,
    crisis_floor,
    debt_to_collateral_down,
    linear_price,
    wmul_down,
    wmul_up,
    wpow_up,
)

USDC = 10**6
ETH = 10**18
TOP = wmul_up(1_600 * WAD, BUF)  # ETH at $1,600 when kicked
TAB = 15_400 * USDC  # 14,000 debt + 10% penalty


@pytest.fixture
def auction(vault, liquidator, weth, borrower, keeper, eth_feed, governor, chain):
    """A whole position in auction: 10 WETH for a 15,400 USDC tab. Returns (id, kicked_at)."""
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # hf 0.914: all of it
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    return auction_id, chain.blocks[tx.block_number].timestamp


def status_at(liquidator, chain, auction_id, timestamp):
    at(chain, timestamp)
    chain.mine()
    return liquidator.getStatus(auction_id)


def test_price_follows_the_linear_curve_then_holds_at_its_floor(liquidator, auction, chain):
    """The price falls along the curve to the floor (top * cusp) and holds there, taker-ready,
    until the tail: a crash never starts the discount again from zero. Past the tail it needs a
    redo. The lot's debt is 80% of its worth at the top: no urgency."""
    auction_id, t0 = auction
    assert liquidator.auctions(auction_id).refPrice == 1_600 * WAD  # the oracle's at the kick
    assert liquidator.auctionView(auction_id).top == TOP
    floor = wmul_up(TOP, CUSP)
    reach = TAU - TAU * CUSP // WAD  # the curve meets the floor here
    for elapsed in (0, 1, 300, reach - 1):
        needs_redo, price, lot, tab = status_at(liquidator, chain, auction_id, t0 + elapsed)
        assert price == linear_price(TOP, elapsed, TAU) > floor
        assert (needs_redo, lot, tab) == (False, 10 * ETH, TAB)
    for elapsed in (reach, reach + 1, 1801, TAU, TAIL):
        needs_redo, price, _, _ = status_at(liquidator, chain, auction_id, t0 + elapsed)
        assert (needs_redo, price) == (False, floor)
    needs_redo, price, _, _ = status_at(liquidator, chain, auction_id, t0 + TAIL + 1)
    assert needs_redo and price == floor


def test_price_follows_the_live_oracle(liquidator, auction, keeper, eth_feed, governor, chain):
    """The curve runs from today's oracle price times buf: in a market that falls during the
    auction its price falls with it (a price fixed at the kick would sit above the market until
    the fall stopped), and the floor follows today's price too. While the oracle cannot price the
    collateral, the curve runs from the top of the kick."""
    auction_id, t0 = auction
    eth_feed.setAnswer(1_590 * 10**8, sender=governor)  # a little lower after the kick
    live_top = wmul_up(1_590 * WAD, BUF)
    _, price, _, _ = status_at(liquidator, chain, auction_id, t0 + 300)
    assert price == linear_price(live_top, 300, TAU) < linear_price(TOP, 300, TAU)
    tx = liquidator.take(auction_id, ETH, price, keeper, b"", sender=keeper)  # one second later
    assert tx.events.filter(liquidator.Take)[0].price == linear_price(live_top, 301, TAU)
    # A rise lifts it the same way: the borrower's collateral is never sold off the kick's price.
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)
    _, price, _, _ = status_at(liquidator, chain, auction_id, t0 + 400)
    assert price == linear_price(wmul_up(2_000 * WAD, BUF), 400, TAU)
    _, price, _, _ = status_at(liquidator, chain, auction_id, t0 + 900)
    assert price == wmul_up(wmul_up(2_000 * WAD, BUF), CUSP)  # its floor follows it too
    # ETH's only feed answers nothing usable: the kick's top again, and a take still goes through.
    eth_feed.setAnswer(0, sender=governor)
    needs_redo, price, _, _ = status_at(liquidator, chain, auction_id, t0 + 1_200)
    assert not needs_redo and price == wmul_up(TOP, CUSP)
    tx = liquidator.take(auction_id, ETH, price, keeper, b"", sender=keeper)
    assert tx.events.filter(liquidator.Take)[0].price == wmul_up(TOP, CUSP)


@pytest.mark.parametrize("eth", [1_584, 1_560, 1_500, 1_440, 1_000])
def test_a_fall_since_the_kick_hastens_the_price_to_its_floor(liquidator, auction, eth_feed, governor, chain, eth):
    """A crash under way: waiting only deepens it. The price falls below the curve by the share
    of the way to the floor the fall since the kick is of FALL_FULL (10%), at once."""
    auction_id, t0 = auction
    eth_feed.setAnswer(eth * 10**8, sender=governor)
    live_top = wmul_up(eth * WAD, BUF)
    _, price, lot, _ = status_at(liquidator, chain, auction_id, t0 + 30)
    view = liquidator.auctionView(auction_id)
    expected = auction_price(linear_price(live_top, 30, TAU), live_top, TOP, CUSP, view.debt, lot, ETH, USDC)
    assert price == expected < linear_price(live_top, 30, TAU)
    fall = (1_600 - eth) / 1_600
    if fall >= 0.1:
        assert price == wmul_up(live_top, CUSP)


def test_a_lot_near_its_debt_sells_at_its_floor_at_once(
    vault, liquidator, weth, borrower, keeper, eth_feed, governor, chain
):
    """A lot about to stop covering its debt sells faster: its price falls below the curve by how
    far its debt is past RISK_KNEE (80%) of its worth at the top, on the way to RISK_FULL (85%),
    where it sells at its floor."""
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_540 * 10**8, sender=governor)  # debt 14,000 on a lot worth 16,940 at the top
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    t0 = chain.blocks[tx.block_number].timestamp
    top = wmul_up(1_540 * WAD, BUF)
    view = liquidator.auctionView(auction_id)
    assert 80 * WAD // 100 < view.debt * WAD // (10 * 1_540 * 11 // 10 * USDC) < 85 * WAD // 100  # 0.826
    _, price, lot, _ = status_at(liquidator, chain, auction_id, t0 + 1)
    assert price == auction_price(linear_price(top, 1, TAU), top, top, CUSP, view.debt, lot, ETH, USDC)
    assert wmul_up(top, CUSP) < price < linear_price(top, 1, TAU)
    eth_feed.setAnswer(1_470 * 10**8, sender=governor)  # 4.5% down: its debt is now 86.6% of its worth
    _, price, _, _ = status_at(liquidator, chain, auction_id, t0 + 2)
    assert price == wmul_up(wmul_up(1_470 * WAD, BUF), CUSP)


def test_in_a_crash_an_urgent_lot_sells_below_its_floor_by_half_its_penalty(
    vault, liquidator, weth, usdc, borrower, keeper, eth_feed, governor, chain
):
    """A lot at full urgency that covers its debt on its floor sells below the floor by up to half
    its penalty, spread over the lot: the keeper's discount grows in a crash, paid by what lenders
    would have earned. Every token bought still clears the floor's worth of the tab, so the
    borrower gives up exactly what a sale on the floor would take, and the lot still covers its
    debt."""
    production_weth(vault, liquidator, weth, governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # health 0.97: half the debt goes
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    eth_feed.setAnswer(1_620 * 10**8, sender=governor)  # the lot's debt is now 86% of its worth
    chain.mine()
    v = liquidator.auctionView(auction_id)
    penalty = v.tab - v.debt
    floor = wmul_up(v.top, PROD_CUSP)
    price = crisis_floor(floor, penalty // 2, v.debt, v.lot, ETH, USDC)
    assert v.price == price < floor and v.clears == floor
    assert price > v.debt * WAD * ETH // (v.lot * USDC)  # its penalty binds, not its break-even
    assert floor - price == penalty // 2 * WAD * ETH // (v.lot * USDC)

    tx = liquidator.take(auction_id, 2 * ETH, price, keeper, b"", sender=keeper)
    take = tx.events.filter(liquidator.Take)[0]
    cleared = collateral_to_debt_up(2 * ETH, floor, ETH, USDC)
    assert (take.price, take.bought, take.paid) == (price, 2 * ETH, collateral_to_debt_up(2 * ETH, price, ETH, USDC))
    assert take.tabLeft == v.tab - cleared
    assert liquidator.penaltyWaived(auction_id) == cleared - take.paid > 0
    assert liquidator.auctions(auction_id).penalty == penalty - (cleared - take.paid)

    # Sold above its break-even, the rest's debt is a smaller share of its worth: no longer urgent.
    rest = liquidator.auctionView(auction_id)
    assert rest.price == rest.clears > floor
    tx = liquidator.take(auction_id, v.lot, rest.price, keeper, b"", sender=keeper)
    last = tx.events.filter(liquidator.Take)[0]
    assert (last.tabLeft, tx.events.filter(liquidator.AuctionEnded)[0].shortfall) == (0, 0)
    assert 0 < v.tab - take.paid - last.paid <= penalty // 2  # waived, all told
    assert liquidator.penaltyWaived(auction_id) == 0  # cleared with the auction


def test_an_urgent_lot_never_sells_below_its_break_even(
    vault, liquidator, weth, borrower, keeper, eth_feed, governor, chain
):
    """With a thin margin over its debt the lot goes no lower than its debt over its lot: sold out
    there it pays its debt whole, and only the penalty goes unraised."""
    open_position(vault, borrower, weth, 10 * ETH, 10_000 * USDC)
    eth_feed.setAnswer(1_220 * 10**8, sender=governor)  # health 0.98: half the debt goes
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    eth_feed.setAnswer(1_090 * 10**8, sender=governor)  # 10.7% down since the kick: full urgency
    chain.mine()
    v = liquidator.auctionView(auction_id)
    floor = wmul_up(v.top, CUSP)
    even = -(-v.debt * WAD * ETH // (v.lot * USDC))
    assert v.lot * floor // (WAD * ETH) * USDC >= v.debt  # it covers its debt on the floor
    assert v.price == even == crisis_floor(floor, (v.tab - v.debt) // 2, v.debt, v.lot, ETH, USDC) < floor
    tx = liquidator.take(auction_id, v.lot, v.price, keeper, b"", sender=keeper)
    take, ended = tx.events.filter(liquidator.Take)[0], tx.events.filter(liquidator.AuctionEnded)[0]
    assert take.bought == v.lot and take.paid >= v.debt
    assert ended.shortfall == 0 and ended.leftover == 0


def test_a_borrower_buying_its_own_lot_in_a_crash_still_pays_for_its_kick(
    vault, liquidator, weth, usdc, borrower, eth_feed, governor, chain
):
    """A borrower that kicks itself at full urgency and buys its own lot below the floor earns the
    kick's incentive and the waived penalty, at most half the penalty each: it never comes out
    ahead of simply repaying (here it ends 10.5 USDC worse off at the oracle's price)."""
    production_weth(vault, liquidator, weth, governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # its debt is 87.5% of its WETH's worth
    usdc.approve(vault, 2**256 - 1, sender=borrower)
    usdc.mint(borrower, 1_000 * USDC, sender=governor)

    def worth() -> int:  # [USDC units] at the oracle's $1,600
        held = weth.balanceOf(borrower) + vault.collateralOf(borrower, weth)
        owed = vault.debtOf(borrower)
        return usdc.balanceOf(borrower) + liquidator.claimable(borrower) + held * 1_600 * USDC // ETH - owed

    before = worth()
    tx, (auction_id,) = kick(vault, liquidator, borrower, borrower)
    v = liquidator.auctionView(auction_id)
    incentive = tx.events.filter(liquidator.KeeperIncentive)[0].owed
    penalty = v.tab - v.debt
    assert v.price < v.clears and incentive == penalty // 2
    tx = liquidator.take(auction_id, v.lot, v.price, borrower, b"", sender=borrower)
    ended = tx.events.filter(liquidator.AuctionEnded)[0]
    # The tab cleared at the floor's rate: the lot gives up what a sale on the floor would take.
    assert ended.leftover == v.lot - debt_to_collateral_down(v.tab, v.clears, ETH, USDC) > 0
    assert ended.shortfall == 0
    waived = v.tab - tx.events.filter(liquidator.Take)[0].paid
    assert waived <= penalty // 2
    assert worth() - before == incentive + waived - penalty < 0


def test_redos_and_the_waiver_share_one_half_of_the_penalty(
    vault, liquidator, weth, usdc, borrower, eth_feed, usdc_feed, governor, chain
):
    """The kick earns at most half the penalty; redos and the waiver share the other half. A
    borrower that kicks itself, redoes its auction four times for their incentives and then buys
    its own lot in a crash would have netted +129 USDC if the waiver had a half of its own; here
    nothing is left to waive and it gains nothing."""
    production_weth(vault, liquidator, weth, governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=borrower)
    usdc.mint(borrower, 1_000 * USDC, sender=governor)

    def worth() -> int:  # [USDC units] at the oracle's $1,600
        held = weth.balanceOf(borrower) + vault.collateralOf(borrower, weth)
        cash = usdc.balanceOf(borrower) + liquidator.claimable(borrower)
        return cash + held * 1_600 * USDC // ETH - vault.debtOf(borrower)

    before = worth()
    tx, (auction_id,) = kick(vault, liquidator, borrower, borrower)
    t = chain.blocks[tx.block_number].timestamp
    for _ in range(4):
        t += TAIL + 1
        at(chain, t)
        eth_feed.setAnswer(1_600 * 10**8, sender=governor)
        usdc_feed.setAnswer(10**8, sender=governor)
        liquidator.redo(auction_id, sender=borrower)
    v = liquidator.auctionView(auction_id)
    assert v.price == v.clears == wmul_up(v.top, PROD_CUSP)  # urgent, and nothing left to waive
    liquidator.take(auction_id, v.lot, v.price, borrower, b"", sender=borrower)
    assert worth() <= before


def test_a_sale_of_the_funds_collateral_pays_its_whole_tab(
    vault, liquidator, fund, wbtc, borrower, keeper, btc_feed, usdc_feed, governor, chain
):
    """A take that clears a tab pays all of it, whatever the collateral's decimals: bought in
    whole units of 8-decimal WBTC after a rise, the lot's last unit is worth more than what
    rounding leaves, and the fund's sale (which has no penalty to waive) still ends."""
    open_position(vault, borrower, wbtc, 10**6, 150 * USDC)  # 0.01 WBTC, $300
    btc_feed.setAnswer(9_000 * 10**8, sender=governor)  # $90: below dust, it goes to the fund
    vault.liquidate(borrower, sender=keeper)
    sale = fund.sellCollateral(wbtc, sender=keeper).events.filter(liquidator.Kick)[0]
    btc_feed.setAnswer(9_900 * 10**8, sender=governor)  # 10% up: the lot is worth more than its tab
    tx = liquidator.take(sale.id, sale.lot, 2**256 - 1, keeper, b"", sender=keeper)
    take = tx.events.filter(liquidator.Take)[0]
    assert take.paid == sale.tab and take.tabLeft == 0 and take.bought < sale.lot


GWEI = 10**9


@pytest.mark.parametrize("base_fee_gwei", [300, 5_000, 100_000])
def test_in_congestion_a_lot_at_its_floor_goes_below_it_by_its_take_gas(
    liquidator, auction, weth, keeper, eth_feed, governor, chain, next_base_fee, base_fee_gwei
):
    """A lot at its floor goes below it by what a take that ends it bears of its own gas (the
    fifth of TAKE_GAS_PAID not paid back: TAKE_GAS_BORNE, 100,000) at this block's base fee, per
    whole token of the lot, never below half the floor: in congestion a small lot still sells
    while the market falls on. At 300 gwei the 10-WETH lot goes $4.80 under its floor of $1,700;
    at 100,000 gwei it stops at half of it."""
    liquidator.setGasAsset(weth, sender=governor)
    auction_id, t0 = auction
    floor = wmul_up(TOP, CUSP)
    at(chain, t0 + TAIL - 60)  # long on its floor
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # fresh: gas is priced only from an Ok price
    base_fee = base_fee_gwei * GWEI
    next_base_fee(base_fee)
    tx = liquidator.take(auction_id, ETH, floor, keeper, b"", sender=keeper, max_fee=2 * base_fee, max_priority_fee=0)
    gas = liquidator.TAKE_GAS_BORNE() * base_fee * 1_600 * USDC // ETH  # [USDC units] ETH at $1,600
    below = min(gas * WAD * ETH // (10 * ETH * USDC), floor // 2)  # [wad per WETH] over the 10-WETH lot
    assert tx.events.filter(liquidator.Take)[0].price == floor - below < floor
    if base_fee_gwei == 100_000:
        assert below == floor // 2


def test_take_refuses_bad_input(liquidator, auction, keeper, chain):
    auction_id, t0 = auction
    at(chain, t0 + 60)
    price = linear_price(TOP, 60, TAU)
    with ape.reverts(liquidator.PriceAboveMax, price=price, maxPrice=price - 1):
        liquidator.take(auction_id, ETH, price - 1, keeper, b"", sender=keeper)
    with ape.reverts(liquidator.ZeroAmount):
        liquidator.take(auction_id, 0, price, keeper, b"", sender=keeper)
    with ape.reverts(liquidator.ZeroAddress):
        liquidator.take(auction_id, ETH, price, ape.utils.ZERO_ADDRESS, b"", sender=keeper)
    with ape.reverts(liquidator.AuctionNotActive, id=999):
        liquidator.take(999, ETH, price, keeper, b"", sender=keeper)
    assert liquidator.auctions(auction_id).lot == 10 * ETH


def test_take_needs_redo_past_the_tail(liquidator, auction, keeper, chain):
    auction_id, t0 = auction
    at(chain, t0 + TAIL + 1)
    with ape.reverts(liquidator.AuctionNeedsRedo, id=auction_id):
        liquidator.take(auction_id, ETH, TOP, keeper, b"", sender=keeper)


def test_partial_take_never_leaves_dust(liquidator, auction, keeper, chain):
    auction_id, t0 = auction
    at(chain, t0)
    # Ask for collateral worth the tab less 50 USDC: the take shrinks to leave exactly dust (100).
    wanted = debt_to_collateral_down(TAB - 50 * USDC, TOP, ETH, USDC)
    tx = liquidator.take(auction_id, wanted, TOP, keeper, b"", sender=keeper)
    take = tx.events.filter(liquidator.Take)[0]
    assert take.tabLeft == MIN_DEBT and take.paid == TAB - MIN_DEBT
    assert take.bought == debt_to_collateral_down(TAB - MIN_DEBT, TOP, ETH, USDC)
    # Now the tab is dust: only a take that clears it is allowed.
    with ape.reverts(liquidator.TakeWouldLeaveDust, dust=MIN_DEBT):
        liquidator.take(auction_id, ETH // 1000, TOP, keeper, b"", sender=keeper)
    tx = liquidator.take(auction_id, 10 * ETH, TOP, keeper, b"", sender=keeper)
    assert tx.events.filter(liquidator.Take)[0].tabLeft == 0


def test_take_that_buys_nothing_is_refused(vault, liquidator, wbtc, borrower, keeper, btc_feed, governor, chain):
    vault.supplyCollateral(wbtc, 10**7, borrower, sender=borrower)  # 0.1 BTC = $3,000
    vault.borrow(2_000 * USDC, borrower, borrower, sender=borrower)
    btc_feed.setAnswer(20_000 * 10**8, sender=governor)  # hf 0.75: all of it, tab 2,160
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    tab = liquidator.auctions(auction_id).tab
    # With dust one wei below the tab, a partial take may only pay 1 wei: less than a satoshi.
    vault.setLiquidationConfig((tab - 1, tab - 1, 95 * WAD // 100, WAD // 2, WAD // 2), sender=governor)
    with ape.reverts(liquidator.TakeTooSmall, id=auction_id):
        liquidator.take(auction_id, 10**6, 2**256 - 1, keeper, b"", sender=keeper)


def test_redo_past_the_tail(liquidator, auction, keeper, other, usdc, fund, eth_feed, usdc_feed, governor, chain):
    auction_id, t0 = auction
    with ape.reverts(liquidator.AuctionNotDone, id=auction_id):
        liquidator.redo(auction_id, sender=other)
    with ape.reverts(liquidator.AuctionNotActive, id=999):
        liquidator.redo(999, sender=other)
    at(chain, t0 + 1801)  # held at its floor: not done
    with ape.reverts(liquidator.AuctionNotDone, id=auction_id):
        liquidator.redo(auction_id, sender=other)
    at(chain, t0 + TAIL - 1)
    eth_feed.setAnswer(1_500 * 10**8, sender=governor)  # the feeds beat within their heartbeat
    usdc_feed.setAnswer(10**8, sender=governor)
    at(chain, t0 + TAIL + 1)
    tx = liquidator.redo(auction_id, sender=other)
    new_top = wmul_up(1_500 * WAD, BUF)
    redo = tx.events.filter(liquidator.Redo)[0]
    assert (redo.top, redo.tab, redo.lot, redo.keeper) == (new_top, TAB, 10 * ETH, other.address)
    # Credited, within the redo budget (an eighth of the penalty), and paid when claimed.
    owed = min(TIP + wmul_down(TAB, CHIP), (TAB - 14_000 * USDC) // 8)
    assert liquidator.claimable(other) == owed
    auction_state = liquidator.auctions(auction_id)
    # Lenders still value the lot against the kick's price.
    assert auction_state.refPrice == 1_600 * WAD and auction_state.startedAt == t0 + TAIL + 1
    # The curve starts again at the top; the fall since the kick (6.25%) still hastens the price.
    debt = liquidator.auctionView(auction_id).debt
    expected = auction_price(new_top, new_top, TOP, CUSP, debt, 10 * ETH, ETH, USDC)
    assert liquidator.getStatus(auction_id)[:2] == (False, expected) and expected < new_top
    before = usdc.balanceOf(other)
    liquidator.claimIncentive(sender=other)
    assert usdc.balanceOf(other) == before + owed and liquidator.claimable(other) == 0


def test_redo_by_age_on_the_exponential_curve(
    liquidator, exp_curve, weth, governor, keeper, chain, vault, borrower, eth_feed
):
    liquidator.setAuctionConfig(weth, (exp_curve, BUF, TAIL, WAD // 20), sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    t0 = chain.blocks[tx.block_number].timestamp
    for elapsed in (0, 59, 60, 3600, TAIL):
        needs_redo, price, _, _ = status_at(liquidator, chain, auction_id, t0 + elapsed)
        assert price == wmul_up(TOP, wpow_up(99 * WAD // 100, elapsed // 60))
        assert not needs_redo
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # keep the feed fresh for the redo
    needs_redo, price, _, _ = status_at(liquidator, chain, auction_id, t0 + TAIL + 1)
    assert needs_redo and price > wmul_up(TOP, WAD // 20)  # too old, though not too cheap
    liquidator.redo(auction_id, sender=keeper)


def test_breaker_levels_two_and_three(liquidator, auction, keeper, guardian, governor, eth_feed, usdc_feed, chain):
    auction_id, t0 = auction
    tx = liquidator.setBreaker(2, sender=guardian)
    event = tx.events.filter(liquidator.BreakerSet)[0]
    assert event.level == 2 and event.by == guardian.address
    at(chain, t0 + TAIL - 1)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # the feeds beat within their heartbeat
    usdc_feed.setAnswer(10**8, sender=governor)
    at(chain, t0 + TAIL + 1)
    with ape.reverts(liquidator.BreakerActive, level=2):
        liquidator.redo(auction_id, sender=keeper)
    liquidator.setBreaker(0, sender=governor)
    liquidator.redo(auction_id, sender=keeper)  # restarts now
    liquidator.setBreaker(3, sender=guardian)
    with ape.reverts(liquidator.BreakerActive, level=3):
        liquidator.take(auction_id, ETH, 2**256 - 1, keeper, b"", sender=keeper)
    with ape.reverts(liquidator.BreakerNotRaised, current=3, requested=1):
        liquidator.setBreaker(1, sender=guardian)
    liquidator.setBreaker(0, sender=governor)
    liquidator.take(auction_id, ETH, 2**256 - 1, keeper, b"", sender=keeper)


def test_auction_ids_views_and_live_tab(
    vault, liquidator, weth, wbtc, borrower, keeper, eth_feed, btc_feed, governor, chain
):
    vault.supplyCollateral(weth, 2 * ETH, borrower, sender=borrower)
    vault.supplyCollateral(wbtc, 10**7, borrower, sender=borrower)
    vault.borrow(5_000 * USDC, borrower, borrower, sender=borrower)
    eth_feed.setAnswer(1_500 * 10**8, sender=governor)
    tx, (first, second) = kick(vault, liquidator, borrower, keeper)
    # One kick, one nonce; the id carries the account, the nonce and the collateral's index.
    assert first == liquidator.idOf(borrower, 1, vault.collateralIndex(weth))
    assert second == liquidator.idOf(borrower, 1, vault.collateralIndex(wbtc))
    kicks = tx.events.filter(liquidator.Kick)
    assert [(k.id, k.account, k.collateral) for k in kicks] == [
        (first, borrower.address, weth.address),
        (second, borrower.address, wbtc.address),
    ]
    view = liquidator.auctionView(first)
    assert (view.account, view.collateral, view.lot, view.tab) == (
        borrower.address,
        weth.address,
        2 * ETH,
        kicks[0].tab,
    )
    assert view.debt == kicks[0].debt and view.startedAt == chain.blocks[tx.block_number].timestamp
    assert vault.liveTab(weth) == kicks[0].tab and vault.liveTab(wbtc) == kicks[1].tab
    # An ended auction reads as zeros, but still names its account and collateral.
    tx = liquidator.take(first, 2 * ETH, 2**256 - 1, keeper, b"", sender=keeper)
    assert tx.events.filter(liquidator.AuctionEnded)[0].id == first
    view = liquidator.auctionView(first)
    assert (view.account, view.collateral, view.lot, view.tab, view.price) == (borrower.address, weth.address, 0, 0, 0)
    assert vault.liveTab(weth) == 0 and vault.liveTab(wbtc) == kicks[1].tab and liquidator.kicks() == 1


def test_take_all_collateral_when_price_covers_only_part(liquidator, auction, keeper, eth_feed, governor, chain):
    """At its floor the lot covers its debt but not the whole tab: the penalty is paid in part."""
    auction_id, t0 = auction
    at(chain, t0 + 1200)
    price = wmul_up(TOP, CUSP)
    tx = liquidator.take(auction_id, 10 * ETH, price, keeper, b"", sender=keeper)
    raised = collateral_to_debt_up(10 * ETH, price, ETH, USDC)
    assert tx.events.filter(liquidator.Take)[0].paid == raised < TAB
    ended = tx.events.filter(liquidator.AuctionEnded)[0]
    assert (ended.leftover, ended.shortfall) == (0, 0)


def test_take_all_collateral_when_price_covers_only_part_of_the_debt(
    vault, liquidator, weth, borrower, keeper, eth_feed, governor, chain
):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    eth_feed.setAnswer(1_300 * 10**8, sender=governor)  # lot worth 13,000: the floor at once
    price = wmul_up(wmul_up(1_300 * WAD, BUF), CUSP)
    tx = liquidator.take(auction_id, 10 * ETH, price, keeper, b"", sender=keeper)
    raised = collateral_to_debt_up(10 * ETH, price, ETH, USDC)
    assert tx.events.filter(liquidator.Take)[0].paid == raised
    ended = tx.events.filter(liquidator.AuctionEnded)[0]
    assert (ended.leftover, ended.shortfall) == (0, 14_000 * USDC - raised)


def test_only_the_vault_kicks_and_only_the_liquidator_settles(vault, liquidator, keeper, weth):
    with ape.reverts(liquidator.OnlyVault, caller=keeper.address):
        liquidator.kick(keeper, [(weth, 0, 1, 1, 1, 1, 0)], keeper, sender=keeper)
    with ape.reverts(liquidator.OnlyVault, caller=keeper.address):
        liquidator.payKickGas(10**6, sender=keeper)
    with ape.reverts(liquidator.OnlyVault, caller=keeper.address):
        liquidator.setDust(0, sender=keeper)
    settlement = (1, keeper, 0, keeper, keeper, 1, 1, 1, 1, 1, 1, WAD, False, 0, 0, b"")
    for call in (
        lambda: vault.settleTake(settlement, sender=keeper),
        lambda: vault.writeOffLot(keeper, 0, 1, 1, 1, WAD, sender=keeper),
        lambda: vault.receiveSale(0, 1, sender=keeper),
        lambda: vault.setAuctionFloor(weth, WAD, sender=keeper),
    ):
        with ape.reverts(vault.OnlyLiquidator, caller=keeper.address):
            call()


def test_unconfigured_collateral_cannot_be_kicked(
    project, vault, liquidator, oracle, governor, borrower, keeper, usdc_feed
):
    token = project.MockERC20.deploy("Other", "OTH", 18, sender=governor)
    oracle.setSources(token, [usdc_feed], [86400], 1, WAD // 50, sender=governor)
    vault.setCollateralParams(token, (WAD // 2, 8 * WAD // 10, WAD // 10, 10**30, 10**15, 10**16), sender=governor)
    token.mint(borrower, 1_000 * ETH, sender=governor)
    token.approve(vault, 2**256 - 1, sender=borrower)
    vault.supplyCollateral(token, 1_000 * ETH, borrower, sender=borrower)  # $1,000
    vault.borrow(500 * USDC, borrower, borrower, sender=borrower)
    vault.setCollateralParams(token, (WAD // 10, WAD // 10, WAD // 10, 10**30, 10**15, 10**16), sender=governor)
    with ape.reverts(liquidator.AuctionNotConfigured, collateral=token.address):
        vault.liquidate(borrower, sender=keeper)


def test_redo_writes_off_a_dust_lot(vault, liquidator, fund, weth, borrower, keeper, eth_feed, governor, chain):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(300 * 10**8, sender=governor)  # deep under water: all of it
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    t0 = chain.blocks[tx.block_number].timestamp
    dust_lot = ETH // 10_000  # 0.0001 WETH, three cents
    liquidator.take(auction_id, 10 * ETH - dust_lot, 2**256 - 1, keeper, b"", sender=keeper)
    view = liquidator.auctionView(auction_id)
    tab, debt = view.tab, view.debt
    assert view.lot == dust_lot and debt > 0
    eth_feed.setAnswer(300 * 10**8, sender=governor)
    at(chain, t0 + 1801)  # held at its floor and worth less than dust: no keeper takes it
    fund_weth = weth.balanceOf(fund)
    tx = liquidator.redo(auction_id, sender=keeper)
    written_off = tx.events.filter(liquidator.DustLotWrittenOff)[0]
    assert (written_off.id, written_off.lot, written_off.tab) == (auction_id, dust_lot, tab)
    ended = tx.events.filter(liquidator.AuctionEnded)[0]
    assert (ended.leftover, ended.shortfall) == (0, debt)
    assert tx.events.filter(vault.ShortfallSettled)[0].shortfall == debt
    assert not list(tx.events.filter(liquidator.KeeperIncentive))
    assert weth.balanceOf(fund) == fund_weth + dust_lot
    assert vault.auctionDebt() == 0 and vault.liveTab(weth) == 0
    assert liquidator.auctionView(auction_id).lot == 0
