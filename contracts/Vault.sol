// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IVault} from "./interfaces/IVault.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {ITakeCallee} from "./interfaces/ITakeCallee.sol";
import {Governed} from "./base/Governed.sol";
import {VaultState} from "./base/VaultState.sol";
import {VaultLiquidation} from "./VaultLiquidation.sol";
import {WadMath} from "./libraries/WadMath.sol";
import {TokenMath} from "./libraries/TokenMath.sol";

/// @title Vault. See IVault.
/// @notice The one contract that holds every balance and the accounting, and the lock: lenders'
/// cash, every account's collateral and debt, and the collateral of live auctions (which stays
/// here until a take releases it). The liquidator owns the auctions and settles each take here in
/// one call. Lenders' assets = cash + borrowed debt + debt in live auctions, less reserves owed to
/// the fund, income still unlocking, and live auctions' certain loss beyond what reserves and the
/// fund cover. Its state is declared in VaultState (first among its bases, so it takes the first
/// slots); the kick and the setters of what it reads live in VaultLiquidation, deployed beside it
/// (for want of room in this bytecode) and run by delegatecall, in this storage.
contract Vault is VaultState, ERC4626, Governed, IVault {
    using SafeERC20 for IERC20;
    using WadMath for uint256;
    using TokenMath for uint256;

    VaultLiquidation internal immutable _kick; // this Vault's kick, run by delegatecall

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    modifier whenNotPaused() {
        if (paused) revert EnforcedPause();
        _;
    }

    modifier onlyLiquidator() {
        if (msg.sender != address(liquidator)) revert OnlyLiquidator(msg.sender);
        _;
    }

    constructor(
        IERC20Metadata debtAsset,
        string memory name_,
        string memory symbol_,
        IOracleAdapter oracle_,
        IInsuranceFund insuranceFund_,
        VaultLiquidation kick_,
        address governor,
        address guardian
    )
        VaultState(debtAsset, oracle_, insuranceFund_)
        ERC20(name_, symbol_)
        ERC4626(debtAsset)
        Governed(governor, guardian)
    {
        if (address(oracle_) == address(0) || address(insuranceFund_) == address(0)) revert ZeroAddress();
        if (address(kick_).code.length == 0 || !kick_.builtFor(address(debtAsset), address(oracle_), address(insuranceFund_))) {
            revert KickModuleMismatch(address(kick_));
        }
        _kick = kick_;
    }

    // ------------------------------------------------------------------ borrowers

    /// @inheritdoc IVault
    function supplyCollateral(address collateral, uint256 amount, address onBehalf) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (onBehalf == address(0)) revert ZeroAddress();
        Collateral storage c = _collaterals[collateral];
        if (!c.listed) revert InvalidCollateral(collateral);
        uint256 total = c.total + amount;
        if (total > c.supplyCap) revert SupplyCapExceeded(collateral, total, c.supplyCap);

        // Credited what arrives: a token that takes a fee on transfer credits less than `amount`.
        uint256 before = IERC20(collateral).balanceOf(address(this));
        IERC20(collateral).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(collateral).balanceOf(address(this)) - before;
        c.total = uint128(c.total + received);
        uint256 balance = _collateralOf(onBehalf, c.index) + received;
        _setHeld(onBehalf, c.index, balance);
        if (_accounts[onBehalf].atRisk > 0) _valueAtRisk(onBehalf);
        emit CollateralSupplied(onBehalf, collateral, msg.sender, received, balance);
    }

    /// @inheritdoc IVault
    /// @dev VaultLiquidation.withdrawCollateral, run here by delegatecall under this lock.
    function withdrawCollateral(address, uint256, address, address) external nonReentrant {
        _delegateToKick();
    }

    /// @inheritdoc IVault
    function borrow(uint256 amount, address onBehalf, address receiver) external nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        _checkAuthorized(onBehalf);
        _checkNoAuctions(onBehalf);
        _accrue();
        uint256 available = availableLiquidity();
        if (amount > available) revert InsufficientLiquidity(amount, available);

        uint256 index = _totals.borrowIndex;
        uint256 scaled = amount.wDivUp(index); // up: the borrower owes at least what they took
        uint256 scaledDebt = _accounts[onBehalf].scaledDebt + scaled;
        _accounts[onBehalf].scaledDebt = uint128(scaledDebt);
        _totals.totalScaledDebt += uint128(scaled);
        uint256 debt = scaledDebt.wMulUp(index);
        uint256 dust = _dust.minDebt;
        if (debt < dust) revert DebtBelowMinimum(debt, dust);
        _checkBorrowLimit(onBehalf);
        _setAtRisk(onBehalf, 0); // within its borrow limit, its collateral covers its debt

        _subCash(amount);
        IERC20(asset()).safeTransfer(receiver, amount);
        _updateRate();
        emit Borrowed(onBehalf, receiver, amount, scaledDebt);
    }

    /// @inheritdoc IVault
    /// @dev VaultLiquidation.repay, run here by delegatecall under this lock.
    function repay(uint256, address) external nonReentrant returns (uint256 repaid) {
        repaid = abi.decode(_delegateToKick(), (uint256));
    }

    /// @inheritdoc IVault
    function setAuthorization(address operator, bool allowed) external {
        if (operator == address(0)) revert ZeroAddress();
        isAuthorized[msg.sender][operator] = allowed;
        emit AuthorizationSet(msg.sender, operator, allowed);
    }

    // ------------------------------------------------------------------ liquidation

    /// @inheritdoc IVault
    /// @dev VaultLiquidation.liquidate, run here by delegatecall under this lock: the kick's hops
    /// are listed there.
    function liquidate(address) external nonReentrant returns (uint256[] memory ids) {
        ids = abi.decode(_delegateToKick(), (uint256[]));
    }

    /// @inheritdoc IVault
    /// @dev The take's settlement, hop by hop (the books first, then the tokens):
    ///  1. what lenders' assets leave out for live auctions, before anything moves;
    ///  2. the collateral leaves the Vault's custody and its live tab; the auction's lot and debt
    ///     leave its collateral's running sums (what is left of them goes back in);
    ///  3. debt repaid leaves auction debt; the penalty's fund share is added to reserves;
    ///  4. an ended auction returns its leftover to the account, and its unpaid debt is the
    ///     account's while it has anything left to sell, or is settled (`_endAuction`);
    ///  5. whatever raised lenders' assets (the lenders' penalty share, a smaller loss left out)
    ///     net of what lowered them (bad debt) is locked as income when it is a rise;
    ///  6. the collateral goes to the receiver, whose `onTake` runs with this lock held (nothing
    ///     can be entered from it); then `owe` is pulled from the taker (to the fund, for a sale
    ///     of the fund's collateral).
    function settleTake(TakeSettlement calldata s) external onlyLiquidator nonReentrant {
        address token = _tokens[s.index];
        Collateral storage c = _collaterals[token];
        if (s.account == address(_fund)) {
            c.total -= uint128(s.amount + s.leftover);
            _pay(s, token, address(_fund));
            if (s.leftover > 0) IERC20(token).safeTransfer(address(_fund), s.leftover);
            return;
        }
        uint256[] memory prices = _newPrices();
        uint256 lossBefore = _lenderLoss(prices);
        (c.total, c.liveTab) = (c.total - uint128(s.amount), c.liveTab - uint128(s.tabReleased));
        _unbookAuction(c, s.index, s.lotBefore, s.debtBefore, s.refPrice);
        if (!s.ended) _bookAuction(c, s.index, s.lotBefore - s.amount, s.debtBefore - s.debtRepaid, s.refPrice);

        _addCash(s.owe);
        uint256 penalty = s.owe - s.debtRepaid;
        uint256 toFund = _fundShare(penalty);
        _totals.auctionDebt -= uint128(s.debtRepaid + s.shortfall);
        if (toFund > 0) _totals.reserves += uint96(toFund);
        if (penalty > 0) emit AuctionProceeds(s.debtRepaid, penalty, toFund);
        if (s.leftover > 0) _returnLeftover(s.account, s.index, token, s.leftover);
        (uint256 badDebt, uint256 extra) = s.ended ? _endAuction(s.account, s.shortfall) : (0, 0);
        if (s.ended) _coverChanged(prices); // the fund may have covered what it left unpaid
        // Lenders' assets rose by their share of the penalty, by any fall in what they leave out
        // and by the rounding of debt returned to the account; they fell by the bad debt.
        _closeBooks(penalty - toFund + extra, badDebt, lossBefore, prices);
        _pay(s, token, address(this));
    }

    /// @dev The take's tokens: the collateral to the receiver, its callback, the payment to `to`.
    function _pay(TakeSettlement calldata s, address token, address to) internal {
        IERC20(token).safeTransfer(s.receiver, s.amount);
        if (s.data.length > 0) ITakeCallee(s.receiver).onTake(s.taker, s.id, token, s.amount, s.owe, s.data);
        IERC20(asset()).safeTransferFrom(s.taker, to, s.owe);
    }

    /// @inheritdoc IVault
    function writeOffLot(address account, uint8 index, uint256 lot, uint256 debt, uint256 tabReleased, uint256 refPrice)
        external
        onlyLiquidator
        nonReentrant
    {
        _delegateToKick();
    }

    /// @inheritdoc IVault
    function setAuctionFloor(address collateral, uint256 share) external onlyLiquidator {
        _collaterals[collateral].floorShare = uint32(share / 1e9); // down: lots valued no higher
    }

    /// @inheritdoc IVault
    function receiveSale(uint8, uint256) external onlyLiquidator nonReentrant returns (uint256 received) {
        received = abi.decode(_delegateToKick(), (uint256));
    }

    /// @dev The InsuranceFund's share of a penalty, rounded down (lenders keep the rounding).
    /// Proceeds pay debt first, so most partial takes pay no penalty and need not read the share.
    function _fundShare(uint256 penalty) internal view returns (uint256) {
        return penalty == 0 ? 0 : penalty.wMulDown(_dust.penaltyFundShare);
    }

    function _returnLeftover(address account, uint256 index, address token, uint256 leftover) internal {
        uint256 balance = _collateralOf(account, index) + leftover;
        _setHeld(account, index, balance);
        emit CollateralReturned(account, token, leftover, balance);
    }

    // ------------------------------------------------------------------ lenders' income and losses

    /// @inheritdoc IVault
    function unvestedIncome() public view returns (uint256) {
        return _unvestedIncome();
    }

    /// @inheritdoc IVault
    function expectedLenderLoss() external view returns (uint256) {
        return _lenderLoss(_newPrices());
    }

    /// @inheritdoc IVault
    function bookedLenderLoss() external view returns (uint256) {
        return _totals.lossFloor;
    }

    /// @inheritdoc IVault
    function expectedLoss() external view returns (uint256) {
        return _liveLoss(_newPrices(), false);
    }

    /// @inheritdoc IVault
    function skim() external nonReentrant returns (uint256 amount) {
        amount = abi.decode(_delegateToKick(), (uint256));
    }

    // ------------------------------------------------------------------ interest and reserves

    /// @inheritdoc IVault
    function accrueInterest() external nonReentrant {
        _delegateToKick();
    }

    /// @inheritdoc IVault
    function collectReserves() external nonReentrant returns (uint256 amount) {
        amount = abi.decode(_delegateToKick(), (uint256));
    }

    // ------------------------------------------------------------------ ERC-4626

    /// @dev Cash (as booked) + borrowed debt (accrued to now) + debt in live auctions, less
    /// reserves, income still unlocking, and what is left out for live auctions' loss (`_lenderLoss`:
    /// the most they can lose): what a lender's shares are worth when they leave.
    function totalAssets() public view override returns (uint256) {
        return _assets(_lenderLoss(_newPrices()));
    }

    function _assets(uint256 lenderLoss) internal view returns (uint256) {
        (, uint256 borrowed, uint256 inAuctions, uint256 reserves_) = _state();
        uint256 assets = _cash() + borrowed + inAuctions;
        uint256 deductions = reserves_ + unvestedIncome() + lenderLoss;
        return assets > deductions ? assets - deductions : 0;
    }

    /// @dev Assets coming in (a deposit's shares, rounded down; a mint's price, rounded up) are
    /// priced against the least the live auctions can lose, assets going out (a withdrawal's
    /// shares, a redemption's assets) against the most, `totalAssets`: so while auctions run, a
    /// lender who enters and leaves pays the difference to those who stay, and no bound's slack
    /// can be bought cheap. With no live auction the two are the same.
    function _convertToShares(uint256 assets, Math.Rounding rounding) internal view override returns (uint256) {
        uint256 total = rounding == Math.Rounding.Floor ? _assets(_lenderLossLeast()) : totalAssets();
        return Math.mulDiv(assets, totalSupply() + 10 ** _decimalsOffset(), total + 1, rounding);
    }

    function _convertToAssets(uint256 shares, Math.Rounding rounding) internal view override returns (uint256) {
        uint256 total = rounding == Math.Rounding.Ceil ? _assets(_lenderLossLeast()) : totalAssets();
        return Math.mulDiv(shares, total + 1, totalSupply() + 10 ** _decimalsOffset(), rounding);
    }

    function maxDeposit(address receiver) public view override returns (uint256) {
        return paused ? 0 : super.maxDeposit(receiver);
    }

    function maxMint(address receiver) public view override returns (uint256) {
        return paused ? 0 : super.maxMint(receiver);
    }

    /// @dev A lender can take out only what is not lent.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(super.maxWithdraw(owner), availableLiquidity());
    }

    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(super.maxRedeem(owner), _convertToShares(availableLiquidity(), Math.Rounding.Floor));
    }

    function deposit(uint256 assets, address receiver) public override nonReentrant whenNotPaused returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        _accrue();
        _sync();
        shares = super.deposit(assets, receiver);
        _updateRate();
    }

    function mint(uint256 shares, address receiver) public override nonReentrant whenNotPaused returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        _accrue();
        _sync();
        assets = super.mint(shares, receiver);
        _updateRate();
    }

    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 shares)
    {
        if (assets == 0) revert ZeroAmount();
        _accrue();
        _sync();
        shares = super.withdraw(assets, receiver, owner);
        _updateRate();
    }

    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 assets)
    {
        if (shares == 0) revert ZeroAmount();
        _accrue();
        _sync();
        assets = super.redeem(shares, receiver, owner);
        _updateRate();
    }

    /// @dev The deposit's assets join the booked cash.
    /// While auctions are live a deposit is priced against the least they can lose, above what its
    /// shares are worth on the way out: that difference is locked as income (VaultLiquidation's
    /// lockEntrySpread), so no lender's assets rise within the block.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        bool priced = _totals.auctioned != 0;
        (uint256 exitBefore, uint256 supply) = priced ? (totalAssets(), totalSupply()) : (0, 0);
        super._deposit(caller, receiver, assets, shares);
        _addCash(assets);
        if (priced) _delegate(abi.encodeCall(VaultLiquidation.lockEntrySpread, (exitBefore, supply, assets, shares)));
    }

    /// @dev The withdrawal's assets leave the booked cash, before they are sent.
    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        _subCash(assets);
        super._withdraw(caller, receiver, owner, assets, shares);
    }

    /// @dev 10 ** 6 virtual shares per virtual asset against the first-depositor inflation attack.
    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IVault
    function debtOf(address account) public view returns (uint256) {
        (uint256 index,,) = _accrued();
        return uint256(_accounts[account].scaledDebt).wMulUp(index);
    }

    /// @inheritdoc IVault
    function scaledDebtOf(address account) external view returns (uint256) {
        return _accounts[account].scaledDebt;
    }

    /// @inheritdoc IVault
    function auctionsOf(address account) external view returns (uint256) {
        return _accounts[account].auctions;
    }

    /// @inheritdoc IVault
    function atRiskOf(address account) external view returns (uint256) {
        return _accounts[account].atRisk;
    }

    /// @inheritdoc IVault
    function refreshAtRisk(address) external nonReentrant {
        _delegateToKick();
    }

    /// @inheritdoc IVault
    function cash() external view returns (uint256) {
        return _cash();
    }

    /// @inheritdoc IVault
    function collateralOf(address account, address collateral) public view returns (uint256) {
        Collateral storage c = _collaterals[collateral];
        return c.listed ? _collateralOf(account, c.index) : 0;
    }

    /// @inheritdoc IVault
    function oracle() external view returns (IOracleAdapter) {
        return _oracle;
    }

    /// @inheritdoc IVault
    function insuranceFund() external view returns (IInsuranceFund) {
        return _fund;
    }

    /// @inheritdoc IVault
    function totalCollateral(address collateral) external view returns (uint256) {
        return _collaterals[collateral].total;
    }

    /// @inheritdoc IVault
    function liveTab(address collateral) external view returns (uint256) {
        return _collaterals[collateral].liveTab;
    }

    /// @inheritdoc IVault
    function healthFactor(address account) public view returns (uint256) {
        if (_accounts[account].scaledDebt == 0) return type(uint256).max;
        (uint256 index,,) = _accrued();
        Position memory p = _position(account, index);
        return p.liquidationValue.wDivDown(p.debtValue);
    }

    /// @inheritdoc IVault
    function healthFactors(address[] calldata accounts) external view returns (uint256[] memory hfs) {
        hfs = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            hfs[i] = healthFactor(accounts[i]);
        }
    }

    /// @inheritdoc IVault
    /// @dev (debt value - sum over other collateral of value * threshold) / (amount * threshold), rounded up.
    function liquidationPrice(address account, address collateral) external view returns (uint256) {
        uint256 amount = collateralOf(account, collateral);
        if (amount == 0 || _accounts[account].scaledDebt == 0) return 0;
        (uint256 index,,) = _accrued();
        Position memory p = _position(account, index);
        Collateral storage c = _collaterals[collateral];
        uint256 own = p.values[c.index].wMulDown(c.liquidationThreshold);
        uint256 others = p.liquidationValue - own;
        if (p.debtValue <= others) return 0;
        return (p.debtValue - others).wDivUp(c.liquidationThreshold).mulDivUp(10 ** c.decimals, amount);
    }

    /// @inheritdoc IVault
    function accountSnapshot(address account) external view returns (AccountSnapshot memory s) {
        (uint256 index,,) = _accrued();
        Position memory p = _position(account, index);
        s = AccountSnapshot({
            debt: p.debt,
            debtValue: p.debtValue,
            collateralValue: p.collateralValue,
            liquidationValue: p.liquidationValue,
            borrowLimit: p.borrowLimit,
            healthFactor: p.debt == 0 ? type(uint256).max : p.liquidationValue.wDivDown(p.debtValue)
        });
    }

    /// @inheritdoc IVault
    function collateralTokens() external view returns (address[] memory tokens) {
        tokens = new address[](_count);
        for (uint256 i; i < tokens.length; ++i) {
            tokens[i] = _tokens[i];
        }
    }

    /// @inheritdoc IVault
    function collateralIndex(address collateral) external view returns (uint8) {
        Collateral storage c = _collaterals[collateral];
        if (!c.listed) revert InvalidCollateral(collateral);
        return c.index;
    }

    /// @inheritdoc IVault
    function collateralParams(address collateral) external view returns (CollateralParams memory) {
        Collateral storage c = _collaterals[collateral];
        return CollateralParams(c.maxLtv, c.liquidationThreshold, c.penalty, c.supplyCap, c.lotCap, c.liveTabCap);
    }

    function liquidationConfig() external view returns (LiquidationConfig memory) {
        Dust memory d = _dust;
        return LiquidationConfig(d.minDebt, d.smallDebt, d.deepHealth, d.closeFactor, d.penaltyFundShare);
    }

    /// @inheritdoc IVault
    function minDebt() external view returns (uint256) {
        return _dust.minDebt;
    }

    /// @inheritdoc IVault
    function totalDebt() external view returns (uint256) {
        (, uint256 borrowed,,) = _state();
        return borrowed;
    }

    /// @inheritdoc IVault
    function availableLiquidity() public view returns (uint256) {
        (,, uint256 newReserves) = _accrued();
        uint256 held = _cash();
        return held > newReserves ? held - newReserves : 0;
    }

    /// @inheritdoc IVault
    function utilization() public view returns (uint256) {
        (, uint256 borrowed,, uint256 reserves_) = _state();
        return _utilization(borrowed, reserves_);
    }

    /// @inheritdoc IVault
    function borrowRate() external view returns (uint256) {
        return _annualRate(utilization());
    }

    // ------------------------------------------------------------------ governance

    /// @notice List a collateral token or change its parameters, within the bounds in
    /// VaultLiquidation. Governor only. The oracle must already price it.
    function setCollateralParams(address, CollateralParams calldata) external onlyRole(GOVERNOR_ROLE) {
        _delegateToKick();
    }

    /// @notice Set the interest rate model, within the bounds in VaultLiquidation. Governor only;
    /// interest so far accrues at the old one.
    function setRateModel(RateModel calldata) external onlyRole(GOVERNOR_ROLE) {
        _delegateToKick();
    }

    /// @notice Set the share of interest owed to the InsuranceFund. Governor only.
    function setReserveFactor(uint256) external onlyRole(GOVERNOR_ROLE) {
        _delegateToKick();
    }

    /// @notice Set the kick tiers and dust, within the bounds in VaultLiquidation. Governor only.
    /// The liquidator keeps a copy of dust for its take rule.
    function setLiquidationConfig(LiquidationConfig calldata) external onlyRole(GOVERNOR_ROLE) {
        _delegateToKick();
    }

    /// @notice Set the liquidator, once. Governor only.
    function setLiquidator(IDutchAuctionLiquidator) external onlyRole(GOVERNOR_ROLE) {
        _delegateToKick();
    }

    /// @notice Stop deposits, mints and borrows. Guardian or governor.
    function pause() external onlyGuardian {
        paused = true;
        emit PausedSet(true, msg.sender);
    }

    /// @notice Resume. Governor only: the guardian can only make things safer.
    function unpause() external onlyRole(GOVERNOR_ROLE) {
        paused = false;
        emit PausedSet(false, msg.sender);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Runs this call's function of VaultLiquidation here, by delegatecall, and returns
    /// what it returned (or reverts with what it reverted with).
    function _delegateToKick() internal returns (bytes memory result) {
        return _delegate(msg.data);
    }

    /// @dev Runs `data` against VaultLiquidation here, by delegatecall.
    function _delegate(bytes memory data) internal returns (bytes memory result) {
        bool ok;
        (ok, result) = address(_kick).delegatecall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
    }
}
