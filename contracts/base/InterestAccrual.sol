// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IVault} from "../interfaces/IVault.sol";
import {WadMath} from "../libraries/WadMath.sol";

/// @title The Vault's accounting totals and interest.
/// @dev Debt is kept as scaled debt: debt = scaledDebt * borrowIndex / WAD. The index grows by
/// ratePerSecond * elapsed at each accrual, simple between accruals and compounding across them.
/// The rate for a period is fixed when the period starts (`_updateRate`, after every action that
/// moves utilisation), so nothing done later (a take, a donation) reprices interest already
/// running: between accruals, lenders' assets move with time and with flows, nothing else.
abstract contract InterestAccrual {
    using WadMath for uint256;

    uint256 internal constant SECONDS_PER_YEAR = 365 days;

    /// @dev The Vault's accounting totals, packed by what is written together.
    struct Totals {
        // Written by every accrual.
        uint176 borrowIndex; // [wad] debt per unit of scaled debt
        uint40 lastAccrual; // [seconds]
        uint40 ratePerSecond; // [wad per second] the rate since lastAccrual, rounded up
        // Written by borrow, repay, kick and take.
        uint128 totalScaledDebt; // [debt decimals at index 1]
        uint128 auctionDebt; // [debt decimals] principal owed by live auctions
        // Written by accrual, takes that pay a penalty, shortfalls and locks.
        uint96 reserves; // [debt decimals] owed to the InsuranceFund, still held here
        uint96 unvested; // [debt decimals] lenders' income still unlocking, as of unlockedAt
        uint32 unlockedAt; // [seconds]
        // Written by every flow of the debt token, and by each step that books lenders' loss.
        uint128 lossFloor; // [debt decimals] lenders' part of live auctions' loss, booked at the last step
        uint112 cash; // [debt decimals] the debt token held for lenders and reserves, as the books count it
        uint16 auctioned; // bit i: the collateral at index i has live borrowers' auctions
        // Written when an auction gives debt back, and when such an account is kicked, repays,
        // adds collateral or is valued again.
        uint128 atRisk; // [debt decimals] sum of the accounts' debt at risk (VaultState.Account)
    }

    /// @dev A RateModel packed into one slot (every rate is bounded well below 2^64 wad).
    struct PackedRates {
        uint64 baseRate;
        uint64 slope1;
        uint64 slope2;
        uint64 kink;
    }

    Totals internal _totals;
    PackedRates internal _rates;
    uint64 public reserveFactor; // [wad] share of interest owed to the InsuranceFund

    constructor() {
        (_totals.borrowIndex, _totals.lastAccrual) = (uint176(WadMath.WAD), uint40(block.timestamp));
    }

    /// @notice [wad] debt per unit of scaled debt, as of the last accrual.
    function borrowIndex() public view returns (uint256) {
        return _totals.borrowIndex;
    }

    /// @notice [seconds] when interest was last accrued.
    function lastAccrual() external view returns (uint256) {
        return _totals.lastAccrual;
    }

    /// @notice [debt decimals at index 1] all accounts' scaled debt.
    function totalScaledDebt() external view returns (uint256) {
        return _totals.totalScaledDebt;
    }

    /// @notice [debt decimals] principal owed by live auctions.
    function auctionDebt() external view returns (uint256) {
        return _totals.auctionDebt;
    }

    /// @notice [debt decimals] reserves owed to the InsuranceFund, as of the last accrual.
    function reserves() external view returns (uint256) {
        return _totals.reserves;
    }

    function rateModel() external view returns (IVault.RateModel memory) {
        PackedRates memory r = _rates;
        return IVault.RateModel(r.baseRate, r.slope1, r.slope2, r.kink);
    }

    /// @dev Brings the index and reserves up to now at the period's rate.
    function _accrue() internal {
        uint256 last = _totals.lastAccrual;
        if (block.timestamp <= last) return;
        (uint256 index, uint256 interest, uint256 newReserves) = _accrued();
        (_totals.borrowIndex, _totals.lastAccrual) = (uint176(index), uint40(block.timestamp));
        if (interest == 0) return;
        _totals.reserves = uint96(newReserves);
        emit IVault.InterestAccrued(index, interest, newReserves);
    }

    /// @dev Fixes the rate for the period that starts now from the utilisation after an action.
    function _updateRate() internal {
        (, uint256 borrowed,, uint256 reserves_) = _state();
        _totals.ratePerSecond = uint40(_annualRate(_utilization(borrowed, reserves_)).mulDivUp(1, SECONDS_PER_YEAR));
    }

    /// @dev Index, interest and reserves as they would be after accruing to now: the period's
    /// rate times the time elapsed (none if a view runs in a block dated before the last accrual).
    function _accrued() internal view returns (uint256 index, uint256 interest, uint256 newReserves) {
        Totals storage t = _totals;
        (index, newReserves) = (t.borrowIndex, t.reserves);
        uint256 last = t.lastAccrual;
        uint256 scaled = t.totalScaledDebt;
        if (block.timestamp <= last || scaled == 0) return (index, 0, newReserves);
        uint256 before = scaled.wMulDown(index);
        index += index.wMulUp(uint256(t.ratePerSecond) * (block.timestamp - last)); // up: interest is owed in full
        interest = scaled.wMulDown(index) - before;
        newReserves += interest.wMulDown(reserveFactor); // down: lenders keep the rounding
    }

    /// @dev Accrued to now: (index, borrowed debt, debt in auctions, reserves).
    function _state() internal view returns (uint256 index, uint256 borrowed, uint256 inAuctions, uint256 reserves_) {
        (index,, reserves_) = _accrued();
        borrowed = uint256(_totals.totalScaledDebt).wMulDown(index);
        inAuctions = _totals.auctionDebt;
    }

    function _utilization(uint256 borrowed, uint256 reserves_) internal view returns (uint256) {
        uint256 assets = _cash() + borrowed + _totals.auctionDebt;
        assets = assets > reserves_ ? assets - reserves_ : 0;
        return assets == 0 ? 0 : Math.min(borrowed.wDivUp(assets), WadMath.WAD);
    }

    /// @dev base + slope1 * min(u, kink) / kink + slope2 * max(u - kink, 0) / (1 - kink), rounded up.
    function _annualRate(uint256 u) internal view returns (uint256 rate) {
        PackedRates memory m = _rates;
        if (m.kink == 0) return 0; // no rate model set yet: no interest
        rate = m.baseRate + uint256(m.slope1).mulDivUp(Math.min(u, m.kink), m.kink);
        if (u > m.kink) rate += uint256(m.slope2).mulDivUp(u - m.kink, WadMath.WAD - m.kink);
    }

    function _cash() internal view virtual returns (uint256);
}
