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
        uint256 cash; // the Vault's cash as its books hold it (`cash()`; its balance where it has no such view)
        uint256 debtBalance; // the Vault's debt-asset balance (anyone may send it tokens)
        uint256 reserves;
        uint256 unvestedIncome;
        uint256 expectedLenderLoss;
        // Before `read` accrues (which books lenders' loss anew, in a Vault that books it): what the
        // Vault had booked at its last step (expectedLenderLoss where it books none), and income
        // unlocking then.
        uint256 bookedLenderLoss;
        uint256 bookedUnvested;
        uint256 totalAssets;
        uint256 borrowIndex; // as stored, before `read` accrues (a projection may fall after a donation)
        uint256 minDebt;
        uint256 owedIncentives;
        uint256 coverage; // the InsuranceFund's coverage()
        uint256 totalSupply; // the Vault's shares
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
        r.bookedLenderLoss = _uintOr(vault, "bookedLenderLoss()", vault.expectedLenderLoss());
        r.bookedUnvested = vault.unvestedIncome();
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
        r.debtBalance = IERC20(vault.asset()).balanceOf(address(vault));
        r.cash = _uintOr(vault, "cash()", r.debtBalance);
        r.reserves = vault.reserves();
        r.unvestedIncome = vault.unvestedIncome();
        r.expectedLenderLoss = vault.expectedLenderLoss();
        r.totalAssets = vault.totalAssets();
        r.minDebt = vault.minDebt();
        r.breaker = liquidator.breaker();
        r.owedIncentives = liquidator.owedIncentives();
        r.coverage = vault.insuranceFund().coverage();
        r.totalSupply = vault.totalSupply();
    }

    /// @dev The Vault's answer to the view `signature`, or `otherwise` for a Vault without it (the
    /// fuzzer also runs against the contracts as they were before the books were sound).
    function _uintOr(Vault vault, string memory signature, uint256 otherwise) internal view returns (uint256) {
        (bool ok, bytes memory data) = address(vault).staticcall(abi.encodeWithSignature(signature));
        return ok && data.length == 32 ? abi.decode(data, (uint256)) : otherwise;
    }
}
