// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The hard bounds every governed parameter is checked against.
library Bounds {
    /// @dev A parameter outside the hard bounds written in the contract that owns it.
    error OutOfBounds(bytes32 parameter, uint256 value, uint256 min, uint256 max);

    /// @dev Reverts `OutOfBounds` unless min <= value <= max.
    function check(bytes32 parameter, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert OutOfBounds(parameter, value, min, max);
    }
}
