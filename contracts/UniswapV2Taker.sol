// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {ITakeCallee} from "./interfaces/ITakeCallee.sol";
import {IUniswapV2Router02} from "./interfaces/IUniswapV2Router02.sol";

/// @title Flash taker: buys from a Gavel auction with no capital by selling the collateral on a
/// Uniswap V2 router inside `onTake`, and hands the profit to the caller.
/// @dev Holds nothing between transactions, so anyone may use it: every token it receives in a
/// take is swapped, the auction is paid, and the rest goes to whoever called `takeAndSell`.
contract UniswapV2Taker is ITakeCallee {
    using SafeERC20 for IERC20;

    IDutchAuctionLiquidator public immutable liquidator;
    address public immutable vault; // settles the takes: calls onTake, pulls payment
    IERC20 public immutable debtAsset;

    /// @dev `onTake` was not called by the Vault for a take this contract started.
    error UnexpectedCallback(address caller, address taker);
    /// @dev The swap path must start at the collateral and end at the debt asset.
    error InvalidPath(address first, address last);
    /// @dev The sale would not pay the auction plus the minimum profit.
    error InsufficientProceeds(uint256 proceeds, uint256 needed);

    event TakenAndSold(uint256 indexed id, address indexed keeper, uint256 bought, uint256 paid, uint256 profit);

    constructor(IDutchAuctionLiquidator liquidator_, IERC20 debtAsset_) {
        liquidator = liquidator_;
        vault = address(liquidator_.vault());
        debtAsset = debtAsset_;
    }

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
        bytes memory data = abi.encode(router, path, minProfit);
        (uint256 bought, uint256 paid) = liquidator.take(id, maxCollateral, maxPrice, address(this), data);
        profit = debtAsset.balanceOf(address(this));
        if (profit > 0) debtAsset.safeTransfer(msg.sender, profit);
        emit TakenAndSold(id, msg.sender, bought, paid, profit);
    }

    /// @inheritdoc ITakeCallee
    function onTake(address taker, uint256, address collateral, uint256 amount, uint256 owe, bytes calldata data)
        external
    {
        if (msg.sender != vault || taker != address(this)) revert UnexpectedCallback(msg.sender, taker);
        (IUniswapV2Router02 router, address[] memory path, uint256 minProfit) =
            abi.decode(data, (IUniswapV2Router02, address[], uint256));
        if (path.length < 2 || path[0] != collateral || path[path.length - 1] != address(debtAsset)) {
            revert InvalidPath(path.length > 0 ? path[0] : address(0), path.length > 0 ? path[path.length - 1] : address(0));
        }
        IERC20(collateral).forceApprove(address(router), amount);
        uint256[] memory amounts = router.swapExactTokensForTokens(amount, 0, path, address(this), block.timestamp);
        uint256 proceeds = amounts[amounts.length - 1];
        if (proceeds < owe + minProfit) revert InsufficientProceeds(proceeds, owe + minProfit);
        debtAsset.forceApprove(vault, owe);
    }
}
