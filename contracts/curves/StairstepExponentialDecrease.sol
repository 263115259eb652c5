// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAuctionCurve} from "../interfaces/IAuctionCurve.sol";
import {WadMath} from "../libraries/WadMath.sol";

/// @title Price multiplied by `cut` once every `step` seconds: top * cut ** (elapsed / step).
contract StairstepExponentialDecrease is IAuctionCurve {
    using WadMath for uint256;

    uint256 public constant MIN_STEP = 1 seconds;
    uint256 public constant MAX_STEP = 1 days;
    uint256 public constant MIN_CUT = 0.5e18; // [wad] at most halve the price per step
    uint256 public constant MAX_CUT = 0.9999e18; // [wad] the price must fall

    uint256 public immutable step; // [seconds] length of one stair
    uint256 public immutable cut; // [wad] price ratio kept per stair

    constructor(uint256 step_, uint256 cut_) {
        if (step_ < MIN_STEP || step_ > MAX_STEP) revert InvalidCurveParameter(step_);
        if (cut_ < MIN_CUT || cut_ > MAX_CUT) revert InvalidCurveParameter(cut_);
        step = step_;
        cut = cut_;
    }

    /// @inheritdoc IAuctionCurve
    /// @dev top * cut ** floor(elapsed / step), every product rounded up.
    function price(uint256 top, uint256 elapsed) external view returns (uint256) {
        return top.wMulUp(cut.wPowUp(elapsed / step));
    }
}
