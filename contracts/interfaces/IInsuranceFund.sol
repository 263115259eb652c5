// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICommonErrors} from "./ICommonErrors.sol";

/// @title InsuranceFund: holds the debt asset; pays keeper incentives and covers shortfalls.
/// @notice It is filled by a share of liquidation penalties and the Vault's reserve factor (and by
/// anyone through `fund`). It never blocks a liquidation: it pays as far as its balance goes and
/// says in the event how much of what was owed it paid. Shortfall beyond its balance is realised
/// by the Vault against lenders' share price.
interface IInsuranceFund is ICommonErrors {
    /// @notice `payer` (Vault or liquidator) asked for `owed` for `to`; `paid` <= owed was sent.
    event IncentivePaid(address indexed to, uint256 owed, uint256 paid);
    /// @notice A shortfall of `owed` was reported; `covered` <= owed was sent to the Vault.
    event ShortfallCovered(address indexed vault, uint256 owed, uint256 covered);
    /// @notice Someone added `amount` to the fund.
    event Funded(address indexed from, uint256 amount);
    /// @notice The fund's whole balance of `collateral`, `amount`, went to auction `id`.
    event CollateralSaleStarted(address indexed collateral, uint256 amount, uint256 indexed id);
    /// @notice The liquidator that sells the fund's collateral was set.
    event LiquidatorSet(address indexed liquidator);

    /// @dev The fund's own asset is what it pays with, not something it sells.
    error NotSellable(address token);

    /// @notice The debt asset the fund holds.
    function asset() external view returns (address);

    /// @notice [debt decimals] what the fund can put towards shortfalls now: its balance less the
    /// keeper incentives the liquidator has credited and not yet paid (those are owed first).
    function coverage() external view returns (uint256);

    /// @notice Add `amount` of the debt asset, pulled from the caller.
    function fund(uint256 amount) external;

    /// @notice Put the fund's whole balance of `collateral` (seized from dust) up for auction in
    /// the liquidator; proceeds and anything unsold come back to the fund. Anyone may call it.
    /// @return id the auction.
    function sellCollateral(address collateral) external returns (uint256 id);

    /// @notice Pay a keeper incentive, as far as the balance goes. PAYER_ROLE only (the liquidator).
    /// @return paid [debt decimals] what was sent to `to`.
    function payIncentive(address to, uint256 owed) external returns (uint256 paid);

    /// @notice Cover a shortfall, as far as the balance goes, by sending to the caller. COVER_ROLE
    /// only (the Vault).
    /// @return covered [debt decimals] what was sent.
    function coverShortfall(uint256 owed) external returns (uint256 covered);
}
