// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The part of Uniswap V3's SwapRouter (v3-periphery, `ISwapRouter`) a flash taker uses.
interface IUniswapV3SwapRouter {
    /// @param path token (20 bytes), fee (3 bytes), token, ... from the input to the output token.
    struct ExactInputParams {
        bytes path;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
    }

    function exactInput(ExactInputParams calldata params) external payable returns (uint256 amountOut);
}
