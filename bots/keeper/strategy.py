"""Whether to kick, and whether and how much to take. Pure functions over integers in the
protocol's units; no I/O, so every branch is tested without a chain."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bots.keeper.units import (
    WAD,
    collateral_to_debt_up,
    debt_to_collateral_down,
    gas_cost_in_debt_up,
)

BPS = 10_000


class KickMode(StrEnum):
    """`profit`: kick when the incentive beats the gas cost by the margin. `always`: kick every
    liquidatable account (a protocol's own keeper, paid or not)."""

    PROFIT = "profit"
    ALWAYS = "always"


@dataclass(frozen=True)
class KickDecision:
    kick: bool
    incentive: int  # [debt decimals] what the InsuranceFund would pay the kicker
    gas_cost: int  # [debt decimals] what the kick would cost in gas
    reason: str


def kick_gas_part(gas_pay: int, tab: int) -> int:
    """[debt decimals] The gas a kick of `tab` is paid back: `gas_pay` (its gas at the base fee,
    when the liquidator has a gas asset), at most a tenth of the tab (KICK_GAS_SHARE)."""
    return min(gas_pay, tab // 10)


def kick_incentive(tip_and_chip: int, tab: int, debt: int, gas_pay: int = 0) -> int:
    """[debt decimals] what a kick of `debt` with `tab` (debt plus penalty) owes its kicker, as the
    liquidator computes it: tip + chip * tab (`tip_and_chip`, from its `incentive(tab)` view), but
    never more than half the penalty, so a kick always costs the account more than it pays; plus
    its gas part (`kick_gas_part`)."""
    return min(tip_and_chip, (tab - debt) // 2) + kick_gas_part(gas_pay, tab)


def decide_kick(
    incentive: int,
    fund_coverage: int,
    gas_units: int,
    gas_price_wei: int,
    eth_price: int,
    debt_scale: int,
    margin_bps: int,
    mode: KickMode,
    take_share: int = 0,
    gas_paid: int = 0,
) -> KickDecision:
    """Kick when what the fund can actually pay, plus `take_share` (what the keeper expects to
    earn taking the auction it opens, by the policy), beats gas by `margin_bps`, or always in
    `always` mode. The fund pays as far as its balance goes, so the incentive counted is capped by
    it. `gas_paid` [debt decimals] is the part of `incentive` that pays the kick's gas back: the
    margin is asked only on the gas not paid back (a reimbursed cost needs no margin)."""
    paid = min(incentive, fund_coverage)
    cost = gas_cost_in_debt_up(gas_units, gas_price_wei, eth_price, debt_scale)
    if mode is KickMode.ALWAYS:
        return KickDecision(True, paid, cost, "always mode")
    unpaid = max(cost - min(gas_paid, paid), 0)
    needed = cost + unpaid * margin_bps // BPS
    earned = paid + take_share
    if earned > needed:
        return KickDecision(True, paid, cost, f"incentive {paid} and take {take_share} beat gas {cost} with margin")
    return KickDecision(False, paid, cost, f"incentive {paid} and take {take_share} do not beat gas {cost} with margin")


@dataclass(frozen=True)
class Pool:
    """A Uniswap V2 pair seen from the seller of collateral: collateral in, debt asset out."""

    reserve_collateral: int
    reserve_debt: int

    def amount_out(self, collateral_in: int) -> int:
        """UniswapV2Library.getAmountOut, to the wei (0.3% fee)."""
        if collateral_in <= 0:
            return 0
        with_fee = collateral_in * 997
        return with_fee * self.reserve_debt // (self.reserve_collateral * 1000 + with_fee)

    def after_sale(self, collateral_in: int) -> Pool:
        """The pair once `collateral_in` has been sold into it."""
        out = self.amount_out(collateral_in)
        return Pool(self.reserve_collateral + collateral_in, self.reserve_debt - out)


class Route(Protocol):
    """Anywhere collateral can be sold for the debt asset: a Pool, or a path (see routes.py)."""

    def amount_out(self, amount_in: int) -> int:
        """[debt decimals] what selling `amount_in` [collateral decimals] returns."""
        ...


@dataclass(frozen=True)
class Auction:
    """An auction as `getStatus` reports it, plus what the keeper needs to price it."""

    id: int
    price: int  # [wad debt tokens per whole collateral token]
    lot: int  # [collateral decimals]
    tab: int  # [debt decimals]
    collateral_scale: int
    debt_scale: int
    clears: int = 0  # [wad] of the tab a token bought clears (0: the price); see plan_take

    @property
    def clearing(self) -> int:
        return max(self.clears, self.price)


@dataclass(frozen=True)
class TakePlan:
    auction_id: int
    max_collateral: int  # [collateral decimals] what to pass to take()
    collateral: int  # [collateral decimals] what the take will then sell
    owe: int  # [debt decimals] what the take will charge
    proceeds: int  # [debt decimals] what selling `collateral` on the pool returns
    profit: int  # [debt decimals] proceeds - owe
    max_price: int  # [wad] the take's price limit: the price this plan was made at
    cleared: int  # [debt decimals] of the tab: `owe` and what the penalty waives


def best_sale_size(pool: Route, auction: Auction) -> int:
    """The collateral amount that maximises proceeds - cost when bought at the auction price and
    sold along `pool`. For one pair, in closed form: where the pool's marginal price falls to the
    auction price, x = (sqrt(997,000 * Rc * Rd / p) - 1,000 * Rc) / 997 with p in raw units per
    raw unit. For any other route, by searching its (concave) profit over the lot. Zero when even
    the first unit sells below the auction price."""
    if auction.price == 0:
        return auction.lot
    if not isinstance(pool, Pool):
        return _best_by_search(pool, auction)
    rc, rd = pool.reserve_collateral, pool.reserve_debt
    # 997,000 * Rc * Rd / p, with p = price * debt_scale / (collateral_scale * WAD)
    root = math.isqrt(997_000 * rc * rd * auction.collateral_scale * 10**18 // (auction.price * auction.debt_scale))
    return max(0, (root - 1_000 * rc) // 997)


def _best_by_search(route: Route, auction: Auction) -> int:
    """Ternary search of proceeds - cost over [0, lot] (both concave in the size, so their
    difference has one peak), to within a few raw units."""

    def profit(x: int) -> int:
        cost = collateral_to_debt_up(x, auction.price, auction.collateral_scale, auction.debt_scale)
        return route.amount_out(x) - cost

    lo, hi = 0, auction.lot
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if profit(m1) < profit(m2):
            lo = m1
        else:
            hi = m2
    best = max(range(lo, hi + 1), key=profit)
    return best if profit(best) > 0 else 0


def gas_floor(floor: int, gas_value: int, lot: int, collateral_scale: int, debt_scale: int) -> int:
    """[wad debt tokens per whole collateral token] Where a borrower's lot on its `floor` (top *
    cusp) may sell in congestion, as the liquidator's `_gasFloor` computes it: below the floor by
    `gas_value` [debt decimals] (its take's unpaid gas at the base fee) per whole token of `lot`,
    rounded down, never below half the floor."""
    per_token = gas_value * collateral_scale * WAD // (lot * debt_scale)
    return floor - min(per_token, floor // 2)


def plan_take(
    auction: Auction,
    pool: Route,
    dust: int,
    min_profit_bps: int,
    budget: int | None = None,
) -> TakePlan | None:
    """How much to take so that selling it on `pool` pays the auction and leaves a profit of at
    least `min_profit_bps` of what is paid; None when no size does. The plan mirrors the
    liquidator's own rules (never more than the tab needs; never a tab left below dust), so the
    amounts it predicts are the amounts the take will move. A lot sold below its floor in a crash
    clears more of its tab per token (`clears`) than it charges (the price): sizes against the tab
    go by the first, what is paid by the second. `budget` [debt decimals], when the keeper pays
    from its own inventory, caps what the take may charge."""
    request = min(best_sale_size(pool, auction), auction.lot)
    if budget is not None:
        request = min(
            request, debt_to_collateral_down(budget, auction.price, auction.collateral_scale, auction.debt_scale)
        )
    if request == 0:
        return None
    size = request
    scales = (auction.collateral_scale, auction.debt_scale)
    cleared = collateral_to_debt_up(size, auction.clearing, *scales)  # of the tab
    if cleared >= auction.tab:
        # Clearing the tab: ask for the whole lot so the contract clears exactly the tab (a
        # request sized to the tab could round just under it and trip the dust rule).
        request, cleared = auction.lot, auction.tab
        size = min(auction.lot, debt_to_collateral_down(cleared, auction.clearing, *scales))
    elif size < auction.lot and auction.tab - cleared < dust:
        if auction.tab <= dust:
            return None  # only a take that clears the tab passes, and this size does not
        cleared = auction.tab - dust  # the contract sells less, leaving exactly dust
        size = debt_to_collateral_down(cleared, auction.clearing, *scales)
    # As the liquidator's `_slice`: the taker pays what it clears, except below the floor.
    owe = (
        cleared
        if auction.clearing == auction.price
        else min(collateral_to_debt_up(size, auction.price, *scales), cleared)
    )
    if size == 0 or owe == 0:
        return None
    proceeds = pool.amount_out(size)
    profit = proceeds - owe
    if profit <= 0 or profit * BPS < owe * min_profit_bps:
        return None
    return TakePlan(auction.id, request, size, owe, proceeds, profit, auction.price, cleared)


@dataclass(frozen=True)
class LiveAuction:
    """One live auction as `auctionViews` reported it this tick."""

    id: int
    collateral: str  # checksummed
    needs_redo: bool
    price: int  # [wad debt tokens per whole collateral token]
    lot: int  # [collateral decimals]
    tab: int  # [debt decimals]
    clears: int = 0  # [wad] of the tab a token bought clears (the view's `clears`)


def selling_order(auctions: list[LiveAuction], prices: dict[str, int]) -> list[LiveAuction]:
    """The order a tick goes through its live auctions: first those on sale, the price furthest
    under the oracle's first (largest tab first among equals), then those waiting for a redo,
    largest tab first. `prices` [wad USD per whole token] are the oracle's by collateral, 0 where
    it has no Ok price (the debt asset's price scales every discount alike, so it does not change
    the order); an auction whose discount is unknown comes after those priced.

    Why not largest first: every take sells into the same pools, and a take is sized to where the
    pool's price meets the auction's. Taken first, a large auction early on its curve uses up the
    pool's depth each tick while smaller ones wait; the deepest discount is also where the
    keeper's profit is, and where the lot is closest to not covering its debt (the liquidator's
    urgency takes the price of those to the floor).
    Why redos last: the tick's cap counts takes and redos sent, and a take is sent only while it
    pays, so the pools' depth, not the cap, bounds the takes; a redo (an auction past its tail)
    left for the next tick loses nothing the pool could have absorbed this one."""

    def key(a: LiveAuction) -> tuple[int, float, int]:
        price = prices.get(a.collateral, 0)
        discount = a.price / price if price > 0 else math.inf  # [debt tokens per USD] auction / oracle
        return (1, 0.0, -a.tab) if a.needs_redo else (0, discount, -a.tab)

    return sorted(auctions, key=key)
