// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The part of Uniswap V2's Router02 the taker uses (the deployed router's ABI).
interface IUniswapV2Router02 {
    function getAmountsOut(uint256 amountIn, address[] calldata path) external view returns (uint256[] memory amounts);

    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);
}
