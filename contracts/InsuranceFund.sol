// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {IVault} from "./interfaces/IVault.sol";
import {Governed} from "./base/Governed.sol";

/// @title InsuranceFund. See IInsuranceFund.
/// @dev The governor grants PAYER_ROLE to the liquidator (incentives) and COVER_ROLE to the Vault
/// (shortfalls) at deployment: each may draw only what it needs. There is
/// deliberately no way to take funds out other than incentives and shortfall cover; collateral the
/// fund receives (seized from dust) leaves only through the liquidator's auctions, whose proceeds
/// come back here.
contract InsuranceFund is IInsuranceFund, Governed {
    using SafeERC20 for IERC20;

    bytes32 public constant PAYER_ROLE = keccak256("PAYER_ROLE"); // may pay keeper incentives
    bytes32 public constant COVER_ROLE = keccak256("COVER_ROLE"); // may draw shortfall cover

    IERC20 internal immutable _asset;
    IDutchAuctionLiquidator public liquidator; // sells the collateral the fund seized; set once

    constructor(address asset_, address governor, address guardian) Governed(governor, guardian) {
        if (asset_ == address(0)) revert ZeroAddress();
        _asset = IERC20(asset_);
    }

    /// @inheritdoc IInsuranceFund
    function asset() external view returns (address) {
        return address(_asset);
    }

    /// @inheritdoc IInsuranceFund
    function coverage() public view returns (uint256) {
        uint256 balance = _asset.balanceOf(address(this));
        uint256 owed = address(liquidator) == address(0) ? 0 : liquidator.owedIncentives();
        return balance > owed ? balance - owed : 0;
    }

    /// @inheritdoc IInsuranceFund
    function fund(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _asset.safeTransferFrom(msg.sender, address(this), amount);
        emit Funded(msg.sender, amount);
    }

    /// @inheritdoc IInsuranceFund
    function sellCollateral(address collateral) external returns (uint256 id) {
        IDutchAuctionLiquidator liq = liquidator;
        if (address(liq) == address(0)) revert IVault.LiquidatorNotSet();
        if (collateral == address(_asset)) revert NotSellable(collateral);
        uint256 amount = IERC20(collateral).balanceOf(address(this));
        if (amount == 0) revert ZeroAmount();
        // The Vault holds every auction's collateral: it pulls this, and counts what arrives.
        IERC20(collateral).forceApprove(address(liq.vault()), amount);
        id = liq.startSale(collateral, amount);
        emit CollateralSaleStarted(collateral, amount, id);
    }

    /// @notice Set the liquidator that sells the fund's collateral, once. Governor only.
    function setLiquidator(IDutchAuctionLiquidator liquidator_) external onlyRole(GOVERNOR_ROLE) {
        if (address(liquidator) != address(0)) revert IVault.LiquidatorAlreadySet(address(liquidator));
        if (address(liquidator_) == address(0)) revert ZeroAddress();
        liquidator = liquidator_;
        emit LiquidatorSet(address(liquidator_));
    }

    /// @inheritdoc IInsuranceFund
    function payIncentive(address to, uint256 owed) external onlyRole(PAYER_ROLE) returns (uint256 paid) {
        if (to == address(0)) revert ZeroAddress();
        paid = Math.min(owed, _asset.balanceOf(address(this)));
        if (paid > 0) _asset.safeTransfer(to, paid);
        emit IncentivePaid(to, owed, paid);
    }

    /// @inheritdoc IInsuranceFund
    function coverShortfall(uint256 owed) external onlyRole(COVER_ROLE) returns (uint256 covered) {
        covered = Math.min(owed, coverage());
        if (covered > 0) _asset.safeTransfer(msg.sender, covered);
        emit ShortfallCovered(msg.sender, owed, covered);
    }
}
