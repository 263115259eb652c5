// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title What the live auctions of one collateral can lose at today's price, bounded from above
/// in O(1) from a few running sums, however many auctions there are.
/// @dev Auction i carries debt d_i [debt units] against a lot l_i [collateral units]; at price p
/// it loses (d_i - v_i)^+, where v_i is the lot's value [debt units], so the collateral's auctions
/// lose f = sum (d_i - v_i)^+. Netting the sums, (D - V)^+, would let one auction's surplus hide
/// another's loss. Instead, with each auction's break-even price b_i = d_i / l_i, f is the
/// expected (b - p)^+ of a distribution with known mean and variance (weights l_i), and Scarf's
/// bound on that (the tightest given those two moments) gives
///     f <= ((D - V) + sqrt((D - V)^2 + W)) / 2,   W = L' * sum(d_i * b_i) - D^2 >= 0,
/// with L' the lots' value per unit of price. It is exact for a single auction (W = 0) or
/// auctions with one break-even price, and never below the true loss. Every rounding here makes
/// the bound larger; an input too large to carry saturates to "as much as the debt".
///
/// Scarf's bound is loose when break-evens spread widely, and one far-off auction (a lot sold down
/// below its debt leaves a sliver carrying most of it) would spread them at will. So each auction
/// enters the sums in two parts (`parts`), valued against a price p0 fixed when it was kicked (the
/// oracle's then): its certain loss at p0, c = (d - v0)^+, which is added outright, and a part
/// whose break-even lies between p0 / 2 and p0, which enters Scarf's sums. For every price
///     (d - l p)^+  <=  c + (d' - l' p)^+
/// (when d > l p0 the part is (l, l p0), exactly the rest; when d <= l p0 it is the auction itself,
/// with its lot cut to d / (p0 / 2) if its break-even is below that, which only raises the bound),
/// so the sum of c and the bound over the parts is still never below the true loss, and the
/// parts' break-evens spread only as far as the kick prices of the auctions live together.
library LossBound {
    /// @dev `spread` of a collateral whose sums no longer fit: its bound is its whole debt until
    /// its last auction ends (the running sum then starts again from zero).
    uint256 internal constant SATURATED = type(uint256).max;

    /// @dev An auction's two parts (see the title): its certain loss at `p0` [wad debt tokens per
    /// whole collateral token] and the lot and debt of the rest, all in token units. A lot's value
    /// is rounded down and a lot cut rounded down (both raise the bound).
    function parts(uint256 debt, uint256 lot, uint256 p0, uint256 collateralScale, uint256 debtScale)
        internal
        pure
        returns (uint256 certain, uint256 partLot, uint256 partDebt)
    {
        if (debt == 0 || lot == 0) return (debt, 0, 0); // a lot with no debt cannot lose; no lot loses it all
        uint256 worth = Math.mulDiv(lot, p0 * debtScale, collateralScale * 1e18); // at p0, rounded down
        if (worth == 0) return (debt, 0, 0);
        if (debt > worth) return (debt - worth, lot, worth);
        uint256 floorWorth = worth / 2; // the lot at p0 / 2
        if (debt >= floorWorth) return (0, lot, debt);
        // Break-even below p0 / 2: the lot cut to what d is worth at p0 / 2 (a sliver: all certain).
        partLot = Math.mulDiv(lot, debt, floorWorth);
        if (partLot == 0) return (debt, 0, 0);
        return (0, partLot, debt);
    }

    /// @dev One auction's term of the running sum S = sum d_i * b_i, in [debt units^2 per
    /// debt unit of price]: d^2 * collateralScale / (lot * debtScale), rounded up. SATURATED when
    /// it does not fit. Zero for an auction without debt (a penalty alone cannot be a loss).
    function spreadOf(uint256 debt, uint256 lot, uint256 collateralScale, uint256 debtScale)
        internal
        pure
        returns (uint256)
    {
        if (debt == 0) return 0;
        if (lot == 0) return SATURATED;
        uint256 squared = debt * debt; // debt < 2^128: a tab is stored in 128 bits
        uint256 per = lot * debtScale; // both below 2^128
        if (squared / per >= SATURATED / collateralScale / 2) return SATURATED;
        return Math.mulDiv(squared, collateralScale, per, Math.Rounding.Ceil);
    }

    /// @dev S + term, saturating.
    function add(uint256 spread, uint256 term) internal pure returns (uint256) {
        if (spread == SATURATED || term == SATURATED || term > SATURATED - 1 - spread) return SATURATED;
        return spread + term;
    }

    /// @dev S - term; a saturated sum stays so (it starts again when the collateral's lots are gone).
    function sub(uint256 spread, uint256 term) internal pure returns (uint256) {
        if (spread == SATURATED) return SATURATED;
        return spread > term ? spread - term : 0;
    }

    /// @notice [debt units] The most the collateral's auctions can lose: `debt` D, their lots
    /// `lots` L [collateral units] worth `value` V [debt units, rounded down by the caller], and
    /// `spread` S (the sum of `spreadOf`).
    function bound(uint256 debt, uint256 value, uint256 lots, uint256 spread, uint256 collateralScale, uint256 debtScale)
        internal
        pure
        returns (uint256 loss)
    {
        if (debt == 0) return 0;
        if (value == 0 || lots == 0 || spread == SATURATED) return debt;
        // W = L * debtScale * S / collateralScale - D^2, rounded up (L * debtScale < 2^248).
        uint256 lotsScaled = lots * debtScale;
        if (spread / collateralScale >= type(uint256).max / lotsScaled / 2) return debt;
        uint256 w = Math.mulDiv(lotsScaled, spread, collateralScale, Math.Rounding.Ceil);
        uint256 d2 = debt * debt;
        w = w > d2 ? w - d2 : 0;
        // a = |D - V|; s = sqrt(a^2 + W), rounded down (a lower s only raises the bound below);
        // the bound is (D >= V ? a : 0) + W / (2 (s + a)), the last term rounded up.
        uint256 a = debt > value ? debt - value : value - debt;
        uint256 s = a;
        if (a < 2 ** 127 && w <= type(uint256).max - a * a) s = Math.sqrt(a * a + w);
        uint256 half = s + a == 0 ? 0 : Math.ceilDiv(w, 2 * (s + a));
        loss = (debt > value ? a : 0) + half;
        return loss < debt ? loss : debt;
    }
}
