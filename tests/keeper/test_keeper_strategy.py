"""Keeper strategy: when a kick pays, and how much of an auction to take. Pure (marked `unit`),
except the last tests, which hold the predictions against the real contracts and Uniswap V2."""

import pytest

from bots.keeper.strategy import (
    Auction,
    KickMode,
    LiveAuction,
    Pool,
    best_sale_size,
    decide_kick,
    gas_floor,
    kick_incentive,
    plan_take,
    selling_order,
)
from bots.keeper.units import gas_cost_in_debt_down
from helpers import CUSP, MIN_DEBT, TAU, at, kick, open_position
from money import linear_price, wmul_up

USDC = 10**6
ETH = 10**18
WAD = 10**18
ETH_IN_USDC = 2_000 * WAD  # [wad USDC per ETH]


@pytest.mark.unit
class TestKick:
    def test_pays_when_incentive_beats_gas_with_margin(self):
        # 300,000 gas at 20 gwei = 0.006 ETH = 12 USDC; margin 20% -> needs more than 14.4 USDC.
        decision = decide_kick(15 * USDC, 10**12, 300_000, 20 * 10**9, ETH_IN_USDC, USDC, 2_000, KickMode.PROFIT)
        assert decision.kick and decision.gas_cost == 12 * USDC
        decision = decide_kick(14 * USDC, 10**12, 300_000, 20 * 10**9, ETH_IN_USDC, USDC, 2_000, KickMode.PROFIT)
        assert not decision.kick and decision.incentive == 14 * USDC

    def test_margin_is_asked_only_on_gas_not_paid_back(self):
        # 12 USDC of gas, 11 of it paid back: 1 unpaid, margin 20% on it -> needs more than 12.2.
        args = (300_000, 20 * 10**9, ETH_IN_USDC, USDC, 2_000, KickMode.PROFIT, 0)
        assert decide_kick(12_300_000, 10**12, *args, gas_paid=11 * USDC).kick
        assert not decide_kick(12_200_000, 10**12, *args, gas_paid=11 * USDC).kick
        assert not decide_kick(12_300_000, 10**12, *args).kick  # none paid back: needs 14.4

    def test_counts_only_what_the_fund_can_pay(self):
        decision = decide_kick(100 * USDC, 5 * USDC, 300_000, 20 * 10**9, ETH_IN_USDC, USDC, 0, KickMode.PROFIT)
        assert not decision.kick and decision.incentive == 5 * USDC

    def test_always_mode_kicks_at_a_loss(self):
        decision = decide_kick(0, 0, 300_000, 20 * 10**9, ETH_IN_USDC, USDC, 0, KickMode.ALWAYS)
        assert decision.kick and decision.reason == "always mode"

    def test_incentive_is_at_most_half_the_penalty(self):
        assert kick_incentive(82 * USDC, 7_700 * USDC, 7_000 * USDC) == 82 * USDC  # tip + chip, well under
        assert kick_incentive(82 * USDC, 101 * USDC, 100 * USDC) == USDC // 2  # a 1 USDC penalty pays 0.5

    def test_gas_pay_is_added_within_a_tenth_of_the_tab(self):
        assert kick_incentive(82 * USDC, 7_700 * USDC, 7_000 * USDC, 97 * USDC) == 179 * USDC
        assert kick_incentive(82 * USDC, 7_700 * USDC, 7_000 * USDC, 10_000 * USDC) == 852 * USDC  # a tenth of the tab
        assert (
            kick_incentive(82 * USDC, 101 * USDC, 100 * USDC, 3 * USDC) == 35 * USDC // 10
        )  # half the penalty, then gas

    def test_gas_cost_rounds_up(self):
        decision = decide_kick(0, 0, 1, 1, ETH_IN_USDC, USDC, 0, KickMode.PROFIT)
        assert decision.gas_cost == 1  # 2e-12 USDC is still a whole unit of cost

    def test_gas_paid_back_rounds_down(self):
        assert gas_cost_in_debt_down(1, 1, ETH_IN_USDC, USDC) == 0  # 2e-12 USDC received is nothing
        assert gas_cost_in_debt_down(300_000, 20 * 10**9, ETH_IN_USDC, USDC) == 12 * USDC


POOL = Pool(reserve_collateral=1_000 * ETH, reserve_debt=1_700_000 * USDC)  # ETH at $1,700


def auction(price_usd, lot=5 * ETH, tab=7_700 * USDC):
    return Auction(id=1, price=price_usd * WAD, lot=lot, tab=tab, collateral_scale=ETH, debt_scale=USDC)


@pytest.mark.unit
class TestTake:
    def test_amount_out_is_uniswaps_formula(self):
        assert POOL.amount_out(ETH) == ETH * 997 * 1_700_000 * USDC // (1_000 * ETH * 1000 + ETH * 997)
        assert POOL.amount_out(0) == 0

    def test_best_size_is_where_profit_peaks(self):
        a = auction(1_500, lot=10**6 * ETH, tab=10**12 * USDC)
        best = best_sale_size(POOL, a)

        def profit(x):
            return POOL.amount_out(x) - x * a.price * USDC // (ETH * WAD)

        assert best > 0
        for other in (best - ETH // 10, best + ETH // 10, best // 2, best * 2):
            assert profit(best) >= profit(other)

    def test_nothing_to_take_above_the_pool_price(self):
        assert best_sale_size(POOL, auction(1_800)) == 0
        assert plan_take(auction(1_800), POOL, MIN_DEBT, 0) is None

    def test_plan_clears_the_tab_asking_for_the_whole_lot(self):
        plan = plan_take(auction(1_600), POOL, MIN_DEBT, 0)  # 5 ETH at 1,600 = 8,000 > 7,700
        assert plan.max_collateral == 5 * ETH and plan.owe == 7_700 * USDC
        assert plan.collateral == 7_700 * USDC * ETH * WAD // (1_600 * WAD * USDC)
        assert plan.profit == POOL.amount_out(plan.collateral) - plan.owe > 0

    def test_plan_sized_to_what_the_pool_absorbs(self):
        big = auction(1_690, lot=1_000 * ETH, tab=10**9 * USDC)  # 0.6% under the pool's price
        plan = plan_take(big, POOL, MIN_DEBT, 0)
        assert 0 < plan.collateral == plan.max_collateral < ETH * 4  # a few ETH before slippage eats it

    def test_whole_lot_when_the_pool_absorbs_more(self):
        plan = plan_take(auction(1_500), POOL, MIN_DEBT, 0)  # 5 ETH at 1,500 = 7,500 < 7,700
        assert plan.collateral == plan.max_collateral == 5 * ETH and plan.owe == 7_500 * USDC

    def test_plan_respects_the_dust_rule(self):
        # The best size would leave 50 USDC of tab: the contract sells less to leave dust.
        a = auction(1_000, lot=1_000 * ETH, tab=0)
        size = best_sale_size(POOL, a)
        assert size < a.lot
        owe = -(-size * a.price * USDC // (ETH * WAD))
        dusty = auction(1_000, lot=1_000 * ETH, tab=owe + 50 * USDC)
        plan = plan_take(dusty, POOL, MIN_DEBT, 0)
        assert plan.owe == dusty.tab - MIN_DEBT and plan.max_collateral == size

    def test_no_partial_plan_when_the_tab_is_dust(self):
        a = auction(1_000, lot=100 * ETH, tab=MIN_DEBT)
        assert best_sale_size(POOL, a) * 1_000 * USDC // ETH > MIN_DEBT  # would clear it
        assert plan_take(a, POOL, MIN_DEBT, 0).owe == MIN_DEBT
        tiny_pool = Pool(reserve_collateral=ETH // 100, reserve_debt=17 * USDC)  # absorbs a few dollars' worth
        assert plan_take(a, tiny_pool, MIN_DEBT, 0) is None

    def test_a_budget_caps_what_the_take_charges(self):
        whole = plan_take(auction(1_500), POOL, MIN_DEBT, 0)
        assert whole.owe == 7_500 * USDC  # the whole 5 ETH lot at $1,500
        budget = 3_000 * USDC + 1
        capped = plan_take(auction(1_500), POOL, MIN_DEBT, 0, budget=budget)
        assert capped.collateral == budget * ETH * WAD // (1_500 * WAD * USDC)  # what the budget buys, down
        assert budget - 1 <= capped.owe <= budget and capped.profit > 0
        assert plan_take(auction(1_500), POOL, MIN_DEBT, 0, budget=0) is None

    def test_minimum_profit(self):
        plan = plan_take(auction(1_500), POOL, MIN_DEBT, 0)
        margin_bps = plan.profit * 10_000 // plan.owe
        assert plan_take(auction(1_500), POOL, MIN_DEBT, margin_bps) is not None
        assert plan_take(auction(1_500), POOL, MIN_DEBT, margin_bps + 1) is None


WETH, WBTC = "0x" + "11" * 20, "0x" + "22" * 20


def live(id_, price_usd, tab_usdc, collateral=WETH, needs_redo=False):
    return LiveAuction(id_, collateral, needs_redo, price_usd * WAD, ETH, tab_usdc * USDC)


@pytest.mark.unit
class TestSellingOrder:
    PRICES = {WETH: 2_000 * WAD, WBTC: 30_000 * WAD}  # [wad USD per whole token]

    def order(self, auctions, prices=None):
        return [a.id for a in selling_order(auctions, self.PRICES if prices is None else prices)]

    def test_deepest_discount_first_not_largest_tab(self):
        # A large lot early on its curve would use up the pool the smaller, cheaper lots need.
        auctions = [live(1, 2_040, 900_000), live(2, 1_940, 5_000), live(3, 1_990, 50_000)]
        assert self.order(auctions) == [2, 3, 1]

    def test_discount_is_against_each_collaterals_own_oracle_price(self):
        # 29,000 / 30,000 = 0.967 is deeper than 1,960 / 2,000 = 0.98, though a far higher price.
        auctions = [live(1, 1_960, 5_000), live(2, 29_000, 5_000, collateral=WBTC)]
        assert self.order(auctions) == [2, 1]

    def test_equal_discounts_by_tab_and_redos_after_every_sale(self):
        # The tick's cap counts takes and redos: after a fast crash, redos first would fill it.
        auctions = [
            live(1, 1_900, 5_000),
            live(2, 2_000, 7_000),
            live(3, 2_000, 9_000),
            live(4, 1_800, 1_000, needs_redo=True),
            live(5, 1_800, 3_000, needs_redo=True),
            live(6, 100, 1, collateral=WBTC),
        ]
        assert self.order(auctions, prices={WETH: 2_000 * WAD}) == [1, 3, 2, 6, 5, 4]

    def test_unpriced_collateral_comes_last(self):
        auctions = [live(1, 100, 9_000, collateral=WBTC), live(2, 2_040, 5_000), live(3, 2_000, 1_000)]
        assert self.order(auctions, prices={WETH: 2_000 * WAD, WBTC: 0}) == [3, 2, 1]
        assert self.order(auctions, prices={}) == [1, 2, 3]  # none priced: by tab


def test_pool_model_matches_the_real_router(uniswap, weth, usdc):
    pair, router = uniswap["pair"], uniswap["router"]
    r0, r1, _ = pair.getReserves()
    pool = Pool(*((r0, r1) if pair.token0() == weth.address else (r1, r0)))
    for amount in (1, ETH // 3, 5 * ETH, 400 * ETH):
        assert pool.amount_out(amount) == router.getAmountsOut(amount, [weth, usdc])[1]


def test_plan_predicts_the_flash_take_to_the_wei(
    project, vault, liquidator, usdc, weth, borrower, keeper, eth_feed, governor, chain, uniswap, other
):
    taker = project.UniswapV2Taker.deploy(liquidator, usdc, sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    tx, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    t0 = chain.blocks[tx.block_number].timestamp
    state = liquidator.auctionView(auction_id)
    price = max(linear_price(state.top, 600, TAU), wmul_up(state.top, CUSP))  # at its floor by then
    pair = uniswap["pair"]
    r0, r1, _ = pair.getReserves()
    pool = Pool(*((r0, r1) if pair.token0() == weth.address else (r1, r0)))
    plan = plan_take(Auction(auction_id, price, state.lot, state.tab, ETH, USDC), pool, MIN_DEBT, 0)
    at(chain, t0 + 600)
    tx = taker.takeAndSell(
        auction_id, plan.max_collateral, plan.max_price, uniswap["router"], [weth, usdc], 0, sender=other
    )
    event = tx.events.filter(taker.TakenAndSold)[0]
    assert (event.bought, event.paid, event.profit) == (plan.collateral, plan.owe, plan.profit)


def test_plan_predicts_a_take_below_the_floor_to_the_wei(
    project, vault, liquidator, usdc, weth, borrower, keeper, eth_feed, governor, chain, uniswap, other
):
    """In a crash a lot at full urgency sells below its floor while each token clears the floor's
    worth of its tab (`clears`): the plan sizes the take by what it clears and prices it by what
    it pays, as the liquidator does."""
    from helpers import production_weth

    production_weth(vault, liquidator, weth, governor)
    taker = project.UniswapV2Taker.deploy(liquidator, usdc, sender=governor)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # the debt is 87.5% of the lot's worth
    _, (auction_id,) = kick(vault, liquidator, borrower, keeper)
    eth_feed.setAnswer(1_640 * 10**8, sender=governor)  # still 85.4% of its worth; the pool pays $1,700
    chain.mine()
    v = liquidator.auctionView(auction_id)
    assert v.price < v.clears
    pair = uniswap["pair"]
    r0, r1, _ = pair.getReserves()
    pool = Pool(*((r0, r1) if pair.token0() == weth.address else (r1, r0)))
    plan = plan_take(Auction(auction_id, v.price, v.lot, v.tab, ETH, USDC, v.clears), pool, MIN_DEBT, 0)
    tx = taker.takeAndSell(
        auction_id, plan.max_collateral, plan.max_price, uniswap["router"], [weth, usdc], 0, sender=other
    )
    event = tx.events.filter(taker.TakenAndSold)[0]
    assert (event.bought, event.paid, event.profit) == (plan.collateral, plan.owe, plan.profit)
    assert liquidator.auctionView(auction_id).tab == v.tab - plan.cleared


@pytest.mark.unit
@pytest.mark.parametrize(
    ("gas", "lot", "expected"),
    [
        (0, ETH, 1_500 * WAD),  # no gas (no base fee): the floor itself
        (150 * USDC, 2 * ETH, 1_425 * WAD),  # $150 of gas over 2 WETH: $75 a WETH under
        (150 * USDC, 50 * ETH, 1_497 * WAD),  # over 50 WETH: $3
        (10_000 * USDC, ETH // 100, 750 * WAD),  # a dust lot: never below half the floor
        (1, 3 * ETH, 1_500 * WAD - 333_333_333_333),  # the part rounds down: the price stays high
    ],
)
def test_a_lot_on_its_floor_goes_below_it_by_its_gas_per_token(gas, lot, expected):
    assert gas_floor(1_500 * WAD, gas, lot, ETH, USDC) == expected
