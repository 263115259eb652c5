// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAuctionCurve} from "../interfaces/IAuctionCurve.sol";
import {WadMath} from "../libraries/WadMath.sol";

/// @title Price falls in a straight line from top to zero over `tau` seconds.
contract LinearDecrease is IAuctionCurve {
    using WadMath for uint256;

    uint256 public constant MIN_TAU = 1 minutes;
    uint256 public constant MAX_TAU = 30 days;

    uint256 public immutable tau; // [seconds] time for the price to reach zero

    constructor(uint256 tau_) {
        if (tau_ < MIN_TAU || tau_ > MAX_TAU) revert InvalidCurveParameter(tau_);
        tau = tau_;
    }

    /// @inheritdoc IAuctionCurve
    /// @dev top * (tau - elapsed) / tau, rounded up; zero from tau on.
    function price(uint256 top, uint256 elapsed) external view returns (uint256) {
        if (elapsed >= tau) return 0;
        return top.mulDivUp(tau - elapsed, tau);
    }
}
