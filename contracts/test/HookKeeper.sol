// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVault} from "../interfaces/IVault.sol";
import {IDutchAuctionLiquidator} from "../interfaces/IDutchAuctionLiquidator.sol";
import {HookedERC20} from "./HookedERC20.sol";

/// @title TEST ONLY: a keeper contract that kicks from inside its own incentive claim. It kicks and
/// claims like any keeper; once armed with an account, the debt token's receive hook (the fund
/// paying the claim) kicks that account, so the kick's new credit lands in the middle of the claim.
/// A claim that pays before it books loses that credit while `owedIncentives()` keeps it.
contract HookKeeper {
    IVault public immutable vault;
    IDutchAuctionLiquidator public immutable liquidator;
    address public immutable debtToken;
    address public armed; // the account the next payment kicks, or zero

    constructor(IVault vault_, IDutchAuctionLiquidator liquidator_, HookedERC20 debtToken_) {
        (vault, liquidator, debtToken) = (vault_, liquidator_, address(debtToken_));
        debtToken_.setHook(true);
    }

    function kick(address account) external {
        vault.liquidate(account);
    }

    /// @notice Claim, kicking `account` while the fund pays.
    function claimKicking(address account) external returns (uint256 paid) {
        armed = account;
        paid = liquidator.claimIncentive();
        armed = address(0);
    }

    function tokensReceived(address, uint256) external {
        address account = armed;
        if (msg.sender != debtToken || account == address(0)) return;
        armed = address(0);
        try vault.liquidate(account) {} catch {} // not liquidatable: the claim goes on
    }
}
