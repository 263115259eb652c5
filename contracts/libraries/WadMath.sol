// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title Fixed-point math in WAD (1e18 = 1.0). Every function names its rounding direction.
library WadMath {
    uint256 internal constant WAD = 1e18;

    /// @dev x * y / WAD, rounded down.
    function wMulDown(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD);
    }

    /// @dev x * y / WAD, rounded up.
    function wMulUp(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD, Math.Rounding.Ceil);
    }

    /// @dev x * WAD / y, rounded down.
    function wDivDown(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y);
    }

    /// @dev x * WAD / y, rounded up.
    function wDivUp(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y, Math.Rounding.Ceil);
    }

    /// @dev x * y / d, rounded down.
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d);
    }

    /// @dev x * y / d, rounded up.
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d, Math.Rounding.Ceil);
    }

    /// @dev x ** n for a WAD x, by squaring; every product rounded up, so the result is at or
    /// above the exact power.
    function wPowUp(uint256 x, uint256 n) internal pure returns (uint256 z) {
        z = WAD;
        while (n > 0) {
            if (n & 1 == 1) z = wMulUp(z, x);
            n >>= 1;
            if (n > 0) x = wMulUp(x, x);
        }
    }
}
