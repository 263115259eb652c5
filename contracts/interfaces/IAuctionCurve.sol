// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title A falling price curve for Dutch auctions, pluggable per collateral asset.
interface IAuctionCurve {
    /// @dev A curve parameter outside its hard bounds.
    error InvalidCurveParameter(uint256 value);

    /// @notice The price `elapsed` seconds after an auction started at `top`.
    /// @param top [wad debt tokens per whole collateral token] the starting price.
    /// @param elapsed [seconds] since the auction (re)started.
    /// @return [wad] the current price, never above `top`.
    function price(uint256 top, uint256 elapsed) external view returns (uint256);
}
