// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {WadMath} from "./WadMath.sol";

/// @title The arithmetic that sizes a kick, pure: no storage, no prices fetched.
/// @dev Amounts in the debt token's decimals unless said; values [wad USD]; ratios [wad].
library KickMath {
    using WadMath for uint256;

    /// @dev The debt a kick covers before caps: all of it when small (<= smallDebt) or the health
    /// factor is below deepHealth, else closeFactor of it (rounded up); never leaving a remainder
    /// below dust (then it leaves exactly dust; the debt is never below dust itself).
    function target(uint256 debt, uint256 hf, uint256 smallDebt, uint256 deepHealth, uint256 closeFactor, uint256 dust)
        internal
        pure
        returns (uint256 covered)
    {
        covered = (debt <= smallDebt || hf < deepHealth) ? debt : debt.wMulUp(closeFactor);
        if (covered < debt && debt - covered < dust) covered = debt - dust;
    }

    /// @dev The debt a collateral carries if all of it goes: its share of `debtLeft` by value,
    /// rounded down, with the last priced collateral (value == valueLeft) taking the rounding so
    /// the shares sum to the debt exactly.
    function shareByValue(uint256 debtLeft, uint256 value, uint256 valueLeft) internal pure returns (uint256) {
        return value == valueLeft ? debtLeft : debtLeft.mulDivDown(value, valueLeft);
    }

    /// @dev The largest debt an auction can carry within `room` of tab: room / (1 + penalty),
    /// rounded down, so debt * (1 + penalty) rounded up stays within the room.
    function debtWithin(uint256 room, uint256 penalty) internal pure returns (uint256) {
        return room.wDivDown(WadMath.WAD + penalty);
    }

    /// @dev tab = debt * (1 + penalty), rounded up: the penalty is owed in full.
    function tabOf(uint256 debt, uint256 penalty) internal pure returns (uint256) {
        return debt.wMulUp(WadMath.WAD + penalty);
    }

    /// @dev The part of a holding that carries `debtPart` of the collateral's full `share`:
    /// held * debtPart / share, rounded up (an auction holds at least its share; what it does not
    /// sell comes back), and all of it when the whole share goes.
    function partOf(uint256 held, uint256 debtPart, uint256 share) internal pure returns (uint256 amount) {
        if (debtPart == share) return held;
        amount = held.mulDivUp(debtPart, share);
        return amount > held ? held : amount;
    }

    /// @dev Lenders' part of the live auctions' certain loss: what reserves and the fund's
    /// balance (less incentives it owes) would not cover.
    function lenderLoss(uint256 expectedLoss, uint256 cover) internal pure returns (uint256) {
        return expectedLoss > cover ? expectedLoss - cover : 0;
    }
}
