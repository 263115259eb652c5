// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title What a flash taker implements: called by the Vault, as it settles a take, after it sends
/// the collateral and before it pulls payment, so a taker with no capital can sell the collateral
/// first. The Vault pulls payment from the taker, so the taker approves the Vault.
interface ITakeCallee {
    /// @param taker who called `take` and will pay `owe`.
    /// @param id the auction.
    /// @param collateral the collateral token.
    /// @param amount [collateral decimals] of it, already sent to this contract.
    /// @param owe [debt decimals] the liquidator pulls from `taker` when this returns.
    /// @param data the taker's own instructions, passed through from `take`.
    function onTake(address taker, uint256 id, address collateral, uint256 amount, uint256 owe, bytes calldata data)
        external;
}
