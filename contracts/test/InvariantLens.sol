// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Vault} from "../Vault.sol";
import {IDutchAuctionLiquidator} from "../interfaces/IDutchAuctionLiquidator.sol";

/// @title TEST ONLY: every figure the fuzzer's invariants need, in one eth_call, read through the
/// contracts' public views (by name, never by storage layout). The fuzzer compares them with each
/// other and with its own model. `read` accrues interest first (so stored reserves are current), which is why it is not a view:
/// the fuzzer only ever runs it with eth_call, so nothing it does is kept.
contract InvariantLens {
    struct Reading {
        uint256[] collateral; // [account * collaterals + c] collateralOf
        uint256[] scaledDebt; // per account
        uint256[] debt; // per account, debtOf
        uint256[] totalCollateral; // per collateral
        uint256[] vaultBalance; // per collateral: the Vault's token balance (accounts' and live lots')
        uint256[] liveTab; // per collateral
        uint256[] lots; // per auction id asked for, from getStatus
        uint256[] tabs; // per auction id asked for, from getStatus
        uint256 totalScaledDebt;
        uint256 totalDebt;
        uint256 auctionDebt;
        uint256 cash; // the Vault's debt-asset balance
        uint256 reserves;
        uint256 unvestedIncome;
        uint256 expectedLenderLoss;
        uint256 totalAssets;
        uint256 borrowIndex; // as stored, before `read` accrues (a projection may fall after a donation)
        uint256 minDebt;
        uint256 owedIncentives;
        uint8 breaker;
    }

    function read(
        Vault vault,
        IDutchAuctionLiquidator liquidator,
        address[] calldata accounts,
        address[] calldata collaterals,
        uint256[] calldata ids
    ) external returns (Reading memory r) {
        r.borrowIndex = vault.borrowIndex();
        vault.accrueInterest();
        uint256 m = collaterals.length;
        r.collateral = new uint256[](accounts.length * m);
        (r.scaledDebt, r.debt) = (new uint256[](accounts.length), new uint256[](accounts.length));
        for (uint256 a; a < accounts.length; ++a) {
            for (uint256 c; c < m; ++c) {
                r.collateral[a * m + c] = vault.collateralOf(accounts[a], collaterals[c]);
            }
            r.scaledDebt[a] = vault.scaledDebtOf(accounts[a]);
            r.debt[a] = vault.debtOf(accounts[a]);
        }
        (r.totalCollateral, r.vaultBalance, r.liveTab) = (new uint256[](m), new uint256[](m), new uint256[](m));
        for (uint256 c; c < m; ++c) {
            r.totalCollateral[c] = vault.totalCollateral(collaterals[c]);
            r.vaultBalance[c] = IERC20(collaterals[c]).balanceOf(address(vault));
            r.liveTab[c] = vault.liveTab(collaterals[c]);
        }
        (r.lots, r.tabs) = (new uint256[](ids.length), new uint256[](ids.length));
        for (uint256 i; i < ids.length; ++i) {
            (,, r.lots[i], r.tabs[i]) = liquidator.getStatus(ids[i]);
        }
        r.totalScaledDebt = vault.totalScaledDebt();
        r.totalDebt = vault.totalDebt();
        r.auctionDebt = vault.auctionDebt();
        r.cash = IERC20(vault.asset()).balanceOf(address(vault));
        r.reserves = vault.reserves();
        r.unvestedIncome = vault.unvestedIncome();
        r.expectedLenderLoss = vault.expectedLenderLoss();
        r.totalAssets = vault.totalAssets();
        r.minDebt = vault.minDebt();
        r.breaker = liquidator.breaker();
        r.owedIncentives = liquidator.owedIncentives();
    }
}
