// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {FlashTaker} from "./base/FlashTaker.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {IUniswapV3SwapRouter} from "./interfaces/IUniswapV3SwapRouter.sol";

/// @title Flash taker: buys from a Gavel auction with no capital by selling the collateral along a
/// Uniswap V3 path (token, fee, token, ...) on a V3 SwapRouter inside `onTake`, and hands the
/// profit to the caller.
contract UniswapV3Taker is FlashTaker {
    using SafeERC20 for IERC20;

    uint256 private constant HOP = 23; // an address and a 3-byte fee

    constructor(IDutchAuctionLiquidator liquidator_, IERC20 debtAsset_) FlashTaker(liquidator_, debtAsset_) {}

    /// @notice Take from auction `id` and sell the collateral along the V3 `path` on `router`.
    /// @param minProfit [debt decimals] the least the caller must end up with, else it reverts.
    /// @return profit [debt decimals] sent to the caller.
    function takeAndSell(
        uint256 id,
        uint256 maxCollateral,
        uint256 maxPrice,
        IUniswapV3SwapRouter router,
        bytes calldata path,
        uint256 minProfit
    ) external returns (uint256 profit) {
        return _takeAndSell(id, maxCollateral, maxPrice, abi.encode(router, path, minProfit));
    }

    function _sell(address collateral, uint256 amount, bytes calldata data)
        internal
        override
        returns (uint256 proceeds, uint256 minProfit)
    {
        IUniswapV3SwapRouter router;
        bytes memory path;
        (router, path, minProfit) = abi.decode(data, (IUniswapV3SwapRouter, bytes, uint256));
        if (path.length < 20 + HOP || (path.length - 20) % HOP != 0) revert InvalidPath(address(0), address(0));
        address first = _tokenAt(path, 0);
        address last = _tokenAt(path, path.length - 20);
        if (first != collateral || last != address(debtAsset)) revert InvalidPath(first, last);
        IERC20(collateral).forceApprove(address(router), amount);
        proceeds = router.exactInput(
            IUniswapV3SwapRouter.ExactInputParams({
                path: path,
                recipient: address(this),
                deadline: block.timestamp,
                amountIn: amount,
                amountOutMinimum: 0
            })
        );
    }

    function _tokenAt(bytes memory path, uint256 offset) private pure returns (address token) {
        assembly ("memory-safe") {
            token := shr(96, mload(add(add(path, 0x20), offset)))
        }
    }
}
