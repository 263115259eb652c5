// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";

/// @title TEST ONLY: the least any take can cost on these tokens and this oracle. It does only what
/// every design of a take must do (sell collateral it holds, be paid for it, and, while the price
/// follows the oracle, read the collateral's and the debt asset's prices) and nothing a protocol
/// adds: no auction, no accounting, no event. `make gas` measures it beside Gavel's take, so the
/// room a gas target leaves for the protocol's own work is a measured figure, not an estimate.
contract GasFloor {
    /// @param readPrices whether to read both prices first (a take whose price follows the oracle).
    function take(
        IOracleAdapter oracle,
        IERC20 collateral,
        IERC20 debt,
        uint256 amount,
        uint256 owe,
        address receiver,
        bool readPrices
    ) external returns (uint256 collateralPrice, uint256 debtPrice) {
        if (readPrices) (collateralPrice, debtPrice) = (oracle.price(address(collateral)), oracle.price(address(debt)));
        require(collateral.transfer(receiver, amount));
        require(debt.transferFrom(msg.sender, address(this), owe));
    }
}
