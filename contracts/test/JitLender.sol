// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IDutchAuctionLiquidator} from "../interfaces/IDutchAuctionLiquidator.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";

/// @title TEST ONLY: the just-in-time lender. In one transaction it deposits, takes an auction
/// (whose penalty would raise the share price) and redeems, hoping to leave with more than it put
/// in. The attack tests and the fuzzer assert that it never does.
contract JitLender {
    /// @return deposited [debt decimals] put into the Vault.
    /// @return redeemed [debt decimals] taken out of the Vault in the same transaction.
    function attack(IERC4626 vault, IDutchAuctionLiquidator liquidator, uint256 id, uint256 amount, uint256 maxCollateral)
        external
        returns (uint256 deposited, uint256 redeemed)
    {
        IERC20 debt = IERC20(vault.asset());
        debt.approve(address(vault), type(uint256).max); // deposits, and the take's payment
        uint256 shares = vault.deposit(amount, address(this));
        liquidator.take(id, maxCollateral, type(uint256).max, address(this), "");
        redeemed = vault.redeem(shares, address(this), address(this));
        deposited = amount;
    }

    /// @notice The same around a sale of the fund's collateral: deposit, start the sale, buy it at
    /// its start price (its proceeds raise the fund's balance, and with it the cover of live
    /// auctions' losses), redeem.
    function attackSale(IERC4626 vault, IInsuranceFund fund, IDutchAuctionLiquidator liquidator, address collateral, uint256 amount)
        external
        returns (uint256 deposited, uint256 redeemed)
    {
        IERC20 debt = IERC20(vault.asset());
        debt.approve(address(vault), type(uint256).max);
        uint256 shares = vault.deposit(amount, address(this));
        uint256 id = fund.sellCollateral(collateral);
        liquidator.take(id, type(uint256).max, type(uint256).max, address(this), "");
        redeemed = vault.redeem(shares, address(this), address(this));
        deposited = amount;
    }
}
