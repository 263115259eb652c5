// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {FlashTaker} from "./base/FlashTaker.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {IUniswapV2Router02} from "./interfaces/IUniswapV2Router02.sol";

/// @title Flash taker: buys from a Gavel auction with no capital by selling the collateral along a
/// Uniswap V2 path (one pair per hop) inside `onTake`, and hands the profit to the caller.
contract UniswapV2Taker is FlashTaker {
    using SafeERC20 for IERC20;

    constructor(IDutchAuctionLiquidator liquidator_, IERC20 debtAsset_) FlashTaker(liquidator_, debtAsset_) {}

    /// @notice Take from auction `id` and sell the collateral along `path` on `router`.
    /// @param minProfit [debt decimals] the least the caller must end up with, else it reverts.
    /// @return profit [debt decimals] sent to the caller.
    function takeAndSell(
        uint256 id,
        uint256 maxCollateral,
        uint256 maxPrice,
        IUniswapV2Router02 router,
        address[] calldata path,
        uint256 minProfit
    ) external returns (uint256 profit) {
        return _takeAndSell(id, maxCollateral, maxPrice, abi.encode(router, path, minProfit));
    }

    function _sell(address collateral, uint256 amount, bytes calldata data)
        internal
        override
        returns (uint256 proceeds, uint256 minProfit)
    {
        IUniswapV2Router02 router;
        address[] memory path;
        (router, path, minProfit) = abi.decode(data, (IUniswapV2Router02, address[], uint256));
        if (path.length < 2 || path[0] != collateral || path[path.length - 1] != address(debtAsset)) {
            revert InvalidPath(path.length > 0 ? path[0] : address(0), path.length > 0 ? path[path.length - 1] : address(0));
        }
        IERC20(collateral).forceApprove(address(router), amount);
        uint256[] memory amounts = router.swapExactTokensForTokens(amount, 0, path, address(this), block.timestamp);
        proceeds = amounts[amounts.length - 1];
    }
}
