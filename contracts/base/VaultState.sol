// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IVault} from "../interfaces/IVault.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IDutchAuctionLiquidator} from "../interfaces/IDutchAuctionLiquidator.sol";
import {InterestAccrual} from "./InterestAccrual.sol";
import {WadMath} from "../libraries/WadMath.sol";
import {TokenMath} from "../libraries/TokenMath.sol";
import {KickMath} from "../libraries/KickMath.sol";

/// @title Everything the Vault stores, and what both the Vault and its kick module do with it.
/// @dev The Vault lists this contract first among its bases, so these variables take the first
/// storage slots in the Vault exactly as in VaultLiquidation (which runs by delegatecall in the
/// Vault's storage and inherits only this). Anything added here is added to both, in order;
/// nothing that both do not share may come before it.
abstract contract VaultState is InterestAccrual {
    using SafeERC20 for IERC20;
    using WadMath for uint256;
    using TokenMath for uint256;

    uint256 public constant MAX_COLLATERALS = 10;
    uint256 public constant MIN_LIQUIDATION_THRESHOLD = 0.05e18; // [wad]
    uint256 public constant MAX_LIQUIDATION_THRESHOLD = 0.95e18; // [wad]
    uint256 public constant MAX_PENALTY = 0.25e18; // [wad]
    /// @notice [wad] The smallest penalty: every kick charges the account more than the kicker earns
    /// (the incentive is at most half the penalty), and a kick always pays something.
    uint256 public constant MIN_PENALTY = 0.01e18;
    uint256 public constant MAX_RATE = 10e18; // [wad per year] per term of the rate model
    uint256 public constant MIN_KINK = 0.5e18; // [wad]
    uint256 public constant MAX_KINK = 0.99e18; // [wad]
    uint256 public constant MAX_RESERVE_FACTOR = 0.5e18; // [wad]
    uint256 public constant MIN_CLOSE_FACTOR = 0.1e18; // [wad]
    uint256 public constant MIN_DEEP_HEALTH = 0.5e18; // [wad]
    /// @notice [seconds] Any rise in lenders' assets a liquidation step causes reaches the share
    /// price over this long, never within the step's own transaction.
    uint256 public constant INCOME_UNLOCK = 1 days;

    IOracleAdapter internal immutable _oracle;
    IInsuranceFund internal immutable _fund;
    IERC20 internal immutable _debtToken; // ERC-4626 asset()
    uint256 internal immutable _debtScale; // 10 ** debt decimals

    /// @dev One struct per collateral token, packed by what is read or written together.
    struct Collateral {
        // Read by every health check.
        uint64 maxLtv; // [wad] borrow limit per unit of value
        uint64 liquidationThreshold; // [wad]
        uint64 penalty; // [wad]
        uint8 index; // its place in collateralTokens()
        uint8 decimals;
        bool listed;
        // Read by kicks.
        uint128 lotCap; // [debt decimals] largest tab of one auction
        uint128 liveTabCap; // [debt decimals] largest total tab of live auctions
        // Written by supply, withdraw, write-offs and takes.
        uint128 total; // [collateral decimals] held here for accounts and live auctions
        uint128 liveTab; // [debt decimals] total tab of live borrowers' auctions
        uint128 supplyCap; // [collateral decimals]
    }

    /// @dev The LiquidationConfig, packed into two slots.
    struct Dust {
        uint128 minDebt; // [debt decimals]
        uint128 smallDebt; // [debt decimals]
        uint64 deepHealth; // [wad]
        uint64 closeFactor; // [wad]
        uint64 penaltyFundShare; // [wad]
    }

    IDutchAuctionLiquidator public liquidator; // set once
    bool public paused;
    uint8 internal _count; // listed collateral tokens
    Dust internal _dust;
    address[MAX_COLLATERALS] internal _tokens;
    mapping(address collateral => Collateral) internal _collaterals;
    // [collateral decimals] + 1 once the slot was ever used: a slot that returns to "empty" stays
    // non-zero, so supplying again, or a take returning what an auction did not sell, rewrites a
    // warm slot (2,900 gas) instead of creating one (20,000). Keyed by the collateral's index, so
    // valuing an account reads one slot per listed collateral it does not hold, not two.
    mapping(address account => mapping(uint256 index => uint256)) internal _held;
    mapping(address account => uint256) public scaledDebtOf; // [debt decimals at index 1]
    mapping(address owner => mapping(address operator => bool)) public isAuthorized;
    bool internal transient _locked; // one lock for every entry point, held across onTake

    /// @dev An account valued at current prices; per-collateral arrays by index.
    struct Position {
        uint256 debt; // [debt decimals]
        uint256 debtPrice; // [wad]
        uint256 debtValue; // [wad] rounded up
        uint256 collateralValue; // [wad] rounded down; priced collateral only
        uint256 liquidationValue; // [wad] rounded down
        uint256 borrowLimit; // [wad] rounded down
        uint256[] held; // [collateral decimals]
        uint256[] values; // [wad] zero for collateral without an Ok price
        uint256[] prices; // [wad]
        address unpriced; // a held collateral without an Ok price (the last found); zero if none
        IOracleAdapter.Status unpricedStatus;
    }

    constructor(IERC20Metadata debtAsset, IOracleAdapter oracle_, IInsuranceFund fund_) {
        (_oracle, _fund, _debtToken) = (oracle_, fund_, IERC20(address(debtAsset)));
        _debtScale = 10 ** debtAsset.decimals();
    }

    // ------------------------------------------------------------------ accounts

    function _collateralOf(address account, uint256 index) internal view returns (uint256) {
        uint256 stored = _held[account][index];
        return stored == 0 ? 0 : stored - 1;
    }

    function _setHeld(address account, uint256 index, uint256 amount) internal {
        _held[account][index] = amount + 1;
    }

    /// @dev Values an account at oracle prices, collateral rounded down and debt up, reading each
    /// price once. A held collateral without an `Ok` price counts as worth nothing (so it can never
    /// protect a borrower: it neither raises the borrow limit nor blocks a kick); the debt asset
    /// needs an `Ok` price while there is debt (`PriceUnavailable` otherwise).
    function _position(address account, uint256 index) internal view returns (Position memory p) {
        uint256 n = _count;
        (p.held, p.values, p.prices) = (new uint256[](n), new uint256[](n), new uint256[](n));
        for (uint256 i; i < n; ++i) {
            uint256 amount = _collateralOf(account, i);
            if (amount == 0) continue;
            address token = _tokens[i];
            p.held[i] = amount;
            (uint256 price, IOracleAdapter.Status status) = _oracle.peek(token);
            if (status != IOracleAdapter.Status.Ok) {
                (p.unpriced, p.unpricedStatus) = (token, status);
                continue;
            }
            Collateral storage c = _collaterals[token];
            uint256 value = amount.toValueDown(price, 10 ** c.decimals);
            (p.values[i], p.prices[i]) = (value, price);
            p.collateralValue += value;
            p.liquidationValue += value.wMulDown(c.liquidationThreshold);
            p.borrowLimit += value.wMulDown(c.maxLtv);
        }
        p.debt = scaledDebtOf[account].wMulUp(index);
        if (p.debt > 0) {
            p.debtPrice = _oracle.price(address(_debtToken));
            p.debtValue = p.debt.toValueUp(p.debtPrice, _debtScale);
        }
    }

    // ------------------------------------------------------------------ shortfalls, income, losses

    /// @dev Debt an auction ended without raising (`unpaid`: its lot sold out, or was written off
    /// as dust). While the account still has something to sell, the debt goes back onto it, to be
    /// kicked again from what it has: written off, it would leave the borrower collateral while
    /// reserves, the fund or lenders paid its debt. Something to sell is collateral it holds, or
    /// (`otherAuctions`) another auction of the same kick still running, whose leftover would come
    /// back to it. Otherwise, or when the account's debt would stay below dust (no keeper would kick
    /// it), the debt is a shortfall. Returns the bad debt, and by how much borrowed debt rose beyond
    /// `unpaid` (the scaled debt is rounded up, in the protocol's favour: a unit at most).
    function _settleUnpaid(address account, uint256 unpaid, bool otherAuctions)
        internal
        returns (uint256 badDebt, uint256 extra)
    {
        if (otherAuctions || _holdsCollateral(account)) {
            _accrue(); // the debt joins the account at today's index
            uint256 index = _totals.borrowIndex;
            uint256 scaled = unpaid.wDivUp(index);
            uint256 scaledDebt = scaledDebtOf[account] + scaled;
            if (scaledDebt.wMulUp(index) >= _dust.minDebt) {
                uint256 total = _totals.totalScaledDebt;
                extra = (total + scaled).wMulDown(index) - total.wMulDown(index) - unpaid;
                (_totals.totalScaledDebt, scaledDebtOf[account]) = (uint128(total + scaled), scaledDebt);
                emit IVault.DebtReturned(account, unpaid, scaledDebt);
                return (0, extra);
            }
        }
        return (_settleShortfall(account, unpaid), 0);
    }

    function _holdsCollateral(address account) internal view returns (bool) {
        uint256 n = _count;
        for (uint256 i; i < n; ++i) {
            if (_held[account][i] > 1) return true; // a used slot stores the balance plus one
        }
        return false;
    }

    /// @dev Reserves not yet collected cover a shortfall first (they are the fund's), then the
    /// InsuranceFund's balance; the rest leaves lenders' assets (the share price falls) in the open.
    /// Returns that rest: the bad debt.
    function _settleShortfall(address account, uint256 shortfall) internal returns (uint256 badDebt) {
        uint256 fromReserves = Math.min(shortfall, _totals.reserves);
        if (fromReserves > 0) _totals.reserves -= uint96(fromReserves);
        uint256 rest = shortfall - fromReserves;
        uint256 fromFund = rest > 0 ? _fund.coverShortfall(rest) : 0;
        badDebt = rest - fromFund;
        emit IVault.ShortfallSettled(account, shortfall, fromReserves + fromFund, badDebt, fromReserves);
        if (badDebt > 0) emit IVault.BadDebtRealized(account, badDebt);
    }

    /// @dev No liquidation step may raise the share price within its own transaction (a deposit
    /// just before it and a redemption just after would take the rise from the lenders who carried
    /// the risk): when what raised lenders' assets (`up`) exceeds what lowered them (`down`), the
    /// difference is locked, to unlock over INCOME_UNLOCK. A fall is not delayed.
    function _lockRise(uint256 up, uint256 down) internal {
        if (up <= down) return;
        uint256 amount = up - down;
        uint256 locked = _unvestedIncome() + amount;
        uint256 end = block.timestamp + INCOME_UNLOCK;
        (_totals.lockedIncome, _totals.lockStart, _totals.lockEnd) = (uint96(locked), uint32(block.timestamp), uint32(end));
        emit IVault.IncomeLocked(amount, locked, end);
    }

    function _setExpectedLoss(uint256 loss) internal {
        _totals.expectedLoss = uint128(loss);
        emit IVault.ExpectedLossUpdated(loss);
    }

    /// @dev The live auctions' certain loss beyond reserves and the fund's coverage (its balance
    /// less the incentives it owes): what lenders will bear. Reads the fund only when there is a loss.
    function _lenderLoss() internal view returns (uint256) {
        uint256 loss = _totals.expectedLoss;
        if (loss == 0) return 0;
        (,, uint256 reserves_) = _accrued();
        return KickMath.lenderLoss(loss, reserves_ + _fund.coverage());
    }

    /// @dev lockedIncome * (lockEnd - now) / (lockEnd - lockStart), rounded up (lenders' assets are
    /// never overstated).
    function _unvestedIncome() internal view returns (uint256) {
        (uint256 amount, uint256 start, uint256 end) = (_totals.lockedIncome, _totals.lockStart, _totals.lockEnd);
        if (amount == 0 || block.timestamp >= end) return 0;
        if (block.timestamp <= start) return amount;
        return amount.mulDivUp(end - block.timestamp, end - start);
    }

    function _cash() internal view override returns (uint256) {
        return _debtToken.balanceOf(address(this));
    }
}
