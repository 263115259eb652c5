// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDutchAuctionLiquidator} from "../interfaces/IDutchAuctionLiquidator.sol";
import {ITakeCallee} from "../interfaces/ITakeCallee.sol";

/// @title What every flash taker shares: take from a Gavel auction with no capital, sell the
/// collateral inside `onTake` (on whatever venue the concrete taker speaks), pay the auction, and
/// hand the rest to whoever called.
/// @dev Holds nothing between transactions, so anyone may use it: every token it receives in a
/// take is sold, the auction is paid, and the rest goes to the caller of `_takeAndSell`.
abstract contract FlashTaker is ITakeCallee {
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

    /// @dev Take from auction `id`; `data` reaches `onTake` and the venue's `_sell`.
    function _takeAndSell(uint256 id, uint256 maxCollateral, uint256 maxPrice, bytes memory data)
        internal
        returns (uint256 profit)
    {
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
        (uint256 proceeds, uint256 minProfit) = _sell(collateral, amount, data);
        if (proceeds < owe + minProfit) revert InsufficientProceeds(proceeds, owe + minProfit);
        debtAsset.forceApprove(vault, owe);
    }

    /// @dev Sell `amount` of `collateral` for the debt asset as `data` says (to this contract).
    /// @return proceeds [debt decimals] received; minProfit [debt decimals] the caller asked for.
    function _sell(address collateral, uint256 amount, bytes calldata data)
        internal
        virtual
        returns (uint256 proceeds, uint256 minProfit);
}
