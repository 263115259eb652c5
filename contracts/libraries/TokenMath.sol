// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {WadMath} from "./WadMath.sol";

/// @title Conversions between token amounts (in each token's own decimals) and WAD values.
/// @dev Amounts stay in their own decimals everywhere else; this is the one place they meet a
/// price. `scale` is 10 ** decimals of the token the amount is in.
library TokenMath {
    /// @dev value [wad] = amount [token] * price [wad per whole token] / scale, rounded down.
    function toValueDown(uint256 amount, uint256 price, uint256 scale) internal pure returns (uint256) {
        return Math.mulDiv(amount, price, scale);
    }

    /// @dev value [wad] = amount [token] * price [wad per whole token] / scale, rounded up.
    function toValueUp(uint256 amount, uint256 price, uint256 scale) internal pure returns (uint256) {
        return Math.mulDiv(amount, price, scale, Math.Rounding.Ceil);
    }

    /// @dev amount [token] = value [wad] * scale / price, rounded down.
    function toAmountDown(uint256 value, uint256 price, uint256 scale) internal pure returns (uint256) {
        return Math.mulDiv(value, scale, price);
    }

    /// @dev Collateral [collateral token] to what it costs in the debt token at `price`
    /// [wad debt tokens per whole collateral token], rounded up (the buyer pays at least).
    function collateralToDebtUp(uint256 collateral, uint256 price, uint256 collateralScale, uint256 debtScale)
        internal
        pure
        returns (uint256)
    {
        return Math.mulDiv(collateral, price * debtScale, collateralScale * WadMath.WAD, Math.Rounding.Ceil);
    }

    /// @dev Collateral [collateral token] to what it is worth in the debt token at `price`,
    /// rounded down (a lot is never overvalued).
    function collateralToDebtDown(uint256 collateral, uint256 price, uint256 collateralScale, uint256 debtScale)
        internal
        pure
        returns (uint256)
    {
        return Math.mulDiv(collateral, price * debtScale, collateralScale * WadMath.WAD);
    }

    /// @dev Debt tokens to the collateral they buy at `price`, rounded down (the buyer gets at most).
    function debtToCollateralDown(uint256 debt, uint256 price, uint256 collateralScale, uint256 debtScale)
        internal
        pure
        returns (uint256)
    {
        return Math.mulDiv(debt, collateralScale * WadMath.WAD, price * debtScale);
    }
}
