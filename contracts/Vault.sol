// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IVault} from "./interfaces/IVault.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {Governed} from "./base/Governed.sol";
import {WadMath} from "./libraries/WadMath.sol";
import {TokenMath} from "./libraries/TokenMath.sol";

/// @title Vault. See IVault.
/// @dev Debt is kept as scaled debt: debt = scaledDebt * borrowIndex / WAD. The index grows by
/// rate * elapsed at each accrual (simple interest between accruals, compounding across them).
/// Lenders' assets = cash + borrowed debt + debt in live auctions - reserves owed to the fund.
contract Vault is IVault, ERC4626, Governed {
    using SafeERC20 for IERC20;
    using WadMath for uint256;
    using TokenMath for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant SECONDS_PER_YEAR = 365 days;

    uint256 public constant MAX_COLLATERAL_ASSETS = 10;
    uint256 public constant MIN_LIQUIDATION_THRESHOLD = 0.05e18; // [wad]
    uint256 public constant MAX_LIQUIDATION_THRESHOLD = 0.95e18; // [wad]
    uint256 public constant MAX_PENALTY = 0.25e18; // [wad]
    uint256 public constant MAX_RATE = 10e18; // [wad per year] per term of the rate model
    uint256 public constant MIN_KINK = 0.5e18; // [wad]
    uint256 public constant MAX_KINK = 0.99e18; // [wad]
    uint256 public constant MAX_RESERVE_FACTOR = 0.5e18; // [wad]
    uint256 public constant MIN_CLOSE_FACTOR = 0.1e18; // [wad]
    uint256 public constant MIN_DEEP_HEALTH = 0.5e18; // [wad]

    uint256 private constant UNLOCKED = 1;
    uint256 private constant LOCKED = 2;

    IOracleAdapter public immutable oracle;
    IInsuranceFund public immutable insuranceFund;
    uint256 internal immutable _debtScale; // 10 ** debt decimals

    IDutchAuctionLiquidator public liquidator;
    RateModel internal _rateModel;
    uint256 public reserveFactor; // [wad] share of interest owed to the InsuranceFund
    LiquidationConfig internal _liquidationConfig;

    uint256 public borrowIndex = WAD; // [wad] debt per unit of scaled debt
    uint256 public lastAccrual; // [seconds]
    uint256 public totalScaledDebt; // [debt decimals at index 1]
    uint256 public reserves; // [debt decimals] owed to the InsuranceFund, still held here
    uint256 public auctionDebt; // [debt decimals] principal owed by live auctions
    bool public paused;
    uint256 private _lock = UNLOCKED;

    address[] internal _collateralAssets;
    mapping(address asset => CollateralParams) internal _params;
    mapping(address asset => uint256) internal _collateralScale; // 10 ** decimals; zero if not listed
    mapping(address asset => uint256) public totalCollateral; // [collateral decimals]
    mapping(address account => mapping(address asset => uint256)) public collateralOf; // [collateral decimals]
    mapping(address account => uint256) public scaledDebtOf; // [debt decimals at index 1]
    mapping(address owner => mapping(address operator => bool)) public isAuthorized;

    /// @dev An account valued at current prices; `values[i]` is the value of `_collateralAssets[i]`.
    struct Position {
        uint256 debt; // [debt decimals]
        uint256 debtPrice; // [wad]
        uint256 debtValue; // [wad] rounded up
        uint256 collateralValue; // [wad] rounded down
        uint256 liquidationValue; // [wad] rounded down
        uint256 borrowLimit; // [wad] rounded down
        uint256[] values; // [wad] rounded down
    }

    modifier nonReentrant() {
        _enter();
        _;
        _lock = UNLOCKED;
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
        address governor,
        address guardian
    ) ERC20(name_, symbol_) ERC4626(debtAsset) Governed(governor, guardian) {
        if (address(oracle_) == address(0) || address(insuranceFund_) == address(0)) revert ZeroAddress();
        oracle = oracle_;
        insuranceFund = insuranceFund_;
        _debtScale = 10 ** debtAsset.decimals();
        lastAccrual = block.timestamp;
    }

    // ------------------------------------------------------------------ borrowers

    /// @inheritdoc IVault
    function supplyCollateral(address asset, uint256 amount, address onBehalf) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (onBehalf == address(0)) revert ZeroAddress();
        if (_collateralScale[asset] == 0) revert InvalidCollateral(asset);
        uint256 total = totalCollateral[asset] + amount;
        if (total > _params[asset].supplyCap) revert SupplyCapExceeded(asset, total, _params[asset].supplyCap);

        totalCollateral[asset] = total;
        uint256 balance = collateralOf[onBehalf][asset] += amount;
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        emit CollateralSupplied(onBehalf, asset, msg.sender, amount, balance);
    }

    /// @inheritdoc IVault
    function withdrawCollateral(address asset, uint256 amount, address onBehalf, address receiver) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        _checkAuthorized(onBehalf);
        uint256 held = collateralOf[onBehalf][asset];
        if (amount > held) revert InsufficientCollateralBalance(asset, amount, held);
        _accrue();

        collateralOf[onBehalf][asset] = held - amount;
        totalCollateral[asset] -= amount;
        _checkBorrowLimit(onBehalf);
        IERC20(asset).safeTransfer(receiver, amount);
        emit CollateralWithdrawn(onBehalf, asset, receiver, amount, held - amount);
    }

    /// @inheritdoc IVault
    function borrow(uint256 amount, address onBehalf, address receiver) external nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        _checkAuthorized(onBehalf);
        _accrue();
        uint256 available = availableLiquidity();
        if (amount > available) revert InsufficientLiquidity(amount, available);

        // Rounded up: the borrower owes at least what they took.
        uint256 scaled = amount.wDivUp(borrowIndex);
        uint256 scaledDebt = scaledDebtOf[onBehalf] += scaled;
        totalScaledDebt += scaled;
        uint256 debt = scaledDebt.wMulUp(borrowIndex);
        uint256 dust = _liquidationConfig.minDebt;
        if (debt < dust) revert DebtBelowMinimum(debt, dust);
        _checkBorrowLimit(onBehalf);

        IERC20(asset()).safeTransfer(receiver, amount);
        emit Borrowed(onBehalf, receiver, amount, scaledDebt);
    }

    /// @inheritdoc IVault
    function repay(uint256 amount, address onBehalf) external nonReentrant returns (uint256 repaid) {
        if (amount == 0) revert ZeroAmount();
        _accrue();
        uint256 scaledDebt = scaledDebtOf[onBehalf];
        if (scaledDebt == 0) revert NoDebt(onBehalf);
        uint256 index = borrowIndex;
        uint256 debt = scaledDebt.wMulUp(index);

        uint256 scaledRepaid;
        if (amount >= debt) {
            (repaid, scaledRepaid) = (debt, scaledDebt);
        } else {
            // Rounded down: a partial repayment never clears more debt than it pays.
            (repaid, scaledRepaid) = (amount, amount.wDivDown(index));
            uint256 left = (scaledDebt - scaledRepaid).wMulUp(index);
            uint256 dust = _liquidationConfig.minDebt;
            if (left < dust) revert DebtBelowMinimum(left, dust);
        }
        scaledDebtOf[onBehalf] = scaledDebt - scaledRepaid;
        totalScaledDebt -= scaledRepaid;
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), repaid);
        emit Repaid(onBehalf, msg.sender, repaid, scaledDebt - scaledRepaid);
    }

    /// @inheritdoc IVault
    function setAuthorization(address operator, bool allowed) external {
        if (operator == address(0)) revert ZeroAddress();
        isAuthorized[msg.sender][operator] = allowed;
        emit AuthorizationSet(msg.sender, operator, allowed);
    }

    // ------------------------------------------------------------------ liquidation

    /// @inheritdoc IVault
    function liquidate(address account) external nonReentrant returns (uint256[] memory ids) {
        if (address(liquidator) == address(0)) revert LiquidatorNotSet();
        _accrue();
        uint256 index = borrowIndex;
        uint256 scaledDebt = scaledDebtOf[account];
        if (scaledDebt == 0) revert NotLiquidatable(account, type(uint256).max);

        Position memory p = _position(account, index); // reverts PriceUnavailable on a bad status
        uint256 hf = p.liquidationValue.wDivDown(p.debtValue);
        if (hf >= WAD) revert NotLiquidatable(account, hf);

        LiquidationConfig memory c = _liquidationConfig;
        // Collateral worth less than dust cannot pay a keeper to sell it: realise the debt now
        // rather than leave bad debt hidden behind it (and give the dust to the fund that pays).
        if (p.collateralValue < c.minDebt.toValueUp(p.debtPrice, _debtScale)) {
            _removeDebt(account, scaledDebt);
            emit Liquidated(account, msg.sender, p.debt, hf, 0);
            _seizeAll(account);
            _settleShortfall(account, p.debt);
            return ids;
        }

        uint256 covered = _debtToCover(p, hf, c);
        uint256 scaledCovered = covered == p.debt ? scaledDebt : covered.wDivDown(index); // down: account keeps the rounding
        _removeDebt(account, scaledCovered);
        auctionDebt += covered;
        emit Liquidated(account, msg.sender, covered, hf, scaledDebt - scaledCovered);

        ids = liquidator.kick(account, _moveLots(account, covered, p), msg.sender);
    }

    /// @inheritdoc IVault
    function recordAuctionProceeds(uint256 debtRepaid, uint256 penalty) external onlyLiquidator {
        auctionDebt -= debtRepaid;
        uint256 toFund = penalty.wMulDown(_liquidationConfig.penaltyFundShare); // down: lenders keep the rounding
        if (toFund > 0) IERC20(asset()).safeTransfer(address(insuranceFund), toFund);
        emit AuctionProceeds(debtRepaid, penalty, toFund);
    }

    /// @inheritdoc IVault
    function returnCollateral(address account, address asset, uint256 amount) external onlyLiquidator {
        totalCollateral[asset] += amount;
        uint256 balance = collateralOf[account][asset] += amount;
        emit CollateralReturned(account, asset, amount, balance);
    }

    /// @inheritdoc IVault
    function settleShortfall(address account, uint256 shortfall) external onlyLiquidator {
        auctionDebt -= shortfall;
        _settleShortfall(account, shortfall);
    }

    /// @dev The debt a kick covers: the tier, then each asset's lot and live-auction caps, then
    /// the dust rule (never leave a remainder below dust; never kick below dust unless closing it all).
    function _debtToCover(Position memory p, uint256 hf, LiquidationConfig memory c) internal view returns (uint256 covered) {
        covered = (p.debt <= c.smallDebt || hf < c.deepHealth) ? p.debt : p.debt.wMulUp(c.closeFactor);

        for (uint256 i; i < p.values.length; ++i) {
            if (p.values[i] == 0) continue;
            address asset = _collateralAssets[i];
            CollateralParams storage params = _params[asset];
            uint256 live = liquidator.liveTab(asset);
            if (live >= params.liveTabCap) revert AuctionCapReached(asset, live, params.liveTabCap);
            uint256 room = Math.min(params.lotCap, params.liveTabCap - live);
            // This asset's tab is covered * value_i / total * (1 + penalty); keep it within room.
            uint256 maxCovered = room.mulDivDown(p.collateralValue, p.values[i].wMulUp(WAD + params.penalty));
            if (maxCovered < covered) covered = maxCovered;
        }

        if (covered < p.debt && p.debt - covered < c.minDebt) covered = p.debt > c.minDebt ? p.debt - c.minDebt : 0;
        if (covered == 0 || (covered < c.minDebt && covered != p.debt)) revert KickBelowDust(covered, c.minDebt);
    }

    /// @dev Moves the matching share of each collateral to the liquidator and splits the covered
    /// debt between them by value; the last lot takes the rounding so the parts sum to `covered`.
    function _moveLots(address account, uint256 covered, Position memory p)
        internal
        returns (IDutchAuctionLiquidator.Lot[] memory lots)
    {
        uint256 count;
        uint256 last;
        for (uint256 i; i < p.values.length; ++i) {
            if (p.values[i] > 0) (count, last) = (count + 1, i);
        }
        lots = new IDutchAuctionLiquidator.Lot[](count);
        uint256 debtLeft = covered;
        uint256 k;
        for (uint256 i; i <= last; ++i) {
            if (p.values[i] == 0) continue;
            uint256 debtPart = i == last ? debtLeft : covered.mulDivDown(p.values[i], p.collateralValue);
            debtLeft -= debtPart;
            lots[k++] = _moveLot(account, _collateralAssets[i], covered, p.debt, debtPart);
        }
    }

    /// @dev Moves `covered / debt` of the account's `asset` to the liquidator as one lot.
    function _moveLot(address account, address asset, uint256 covered, uint256 debt, uint256 debtPart)
        internal
        returns (IDutchAuctionLiquidator.Lot memory)
    {
        uint256 held = collateralOf[account][asset];
        // Up: the auction holds at least the matching share; what it does not sell comes back.
        uint256 amount = covered == debt ? held : Math.min(held, held.mulDivUp(covered, debt));
        collateralOf[account][asset] = held - amount;
        totalCollateral[asset] -= amount;
        IERC20(asset).safeTransfer(address(liquidator), amount);
        emit CollateralSeized(account, asset, address(liquidator), amount, held - amount);
        return IDutchAuctionLiquidator.Lot({
            asset: asset,
            amount: amount,
            tab: debtPart.wMulUp(WAD + _params[asset].penalty), // up: the penalty is owed in full
            debt: debtPart
        });
    }

    function _removeDebt(address account, uint256 scaled) internal {
        scaledDebtOf[account] -= scaled;
        totalScaledDebt -= scaled;
    }

    /// @dev Gives every collateral balance of `account` to the InsuranceFund.
    function _seizeAll(address account) internal {
        for (uint256 i; i < _collateralAssets.length; ++i) {
            address asset = _collateralAssets[i];
            uint256 held = collateralOf[account][asset];
            if (held == 0) continue;
            collateralOf[account][asset] = 0;
            totalCollateral[asset] -= held;
            IERC20(asset).safeTransfer(address(insuranceFund), held);
            emit CollateralSeized(account, asset, address(insuranceFund), held, 0);
        }
    }

    /// @dev The InsuranceFund covers what it can; the rest leaves lenders' assets (the share
    /// price falls) in the open.
    function _settleShortfall(address account, uint256 shortfall) internal {
        uint256 covered = insuranceFund.coverShortfall(shortfall);
        uint256 badDebt = shortfall - covered;
        emit ShortfallSettled(account, shortfall, covered, badDebt);
        if (badDebt > 0) emit BadDebtRealized(account, badDebt);
    }

    // ------------------------------------------------------------------ interest and reserves

    /// @inheritdoc IVault
    function accrueInterest() external nonReentrant {
        _accrue();
    }

    /// @inheritdoc IVault
    function collectReserves() external nonReentrant returns (uint256 amount) {
        _accrue();
        amount = Math.min(reserves, _cash());
        if (amount == 0) revert ZeroAmount();
        reserves -= amount;
        IERC20(asset()).safeTransfer(address(insuranceFund), amount);
        emit ReservesCollected(amount);
    }

    function _accrue() internal {
        if (block.timestamp == lastAccrual) return;
        (uint256 index, uint256 interest, uint256 newReserves) = _accrued();
        lastAccrual = block.timestamp;
        if (interest == 0 && index == borrowIndex) return;
        borrowIndex = index;
        reserves = newReserves;
        emit InterestAccrued(index, interest, newReserves);
    }

    /// @dev Index, interest and reserves as they would be after accruing to now.
    function _accrued() internal view returns (uint256 index, uint256 interest, uint256 newReserves) {
        index = borrowIndex;
        newReserves = reserves;
        uint256 elapsed = block.timestamp - lastAccrual;
        if (elapsed == 0 || totalScaledDebt == 0) return (index, 0, newReserves);

        uint256 borrowed = totalScaledDebt.wMulDown(index);
        uint256 ratePerSecond = _annualRate(_utilization(borrowed, newReserves)).mulDivUp(1, SECONDS_PER_YEAR);
        index += index.wMulUp(ratePerSecond * elapsed); // up: interest is owed in full
        interest = totalScaledDebt.wMulDown(index) - borrowed;
        newReserves += interest.wMulDown(reserveFactor); // down: lenders keep the rounding
    }

    function _utilization(uint256 borrowed, uint256 reserves_) internal view returns (uint256) {
        uint256 assets = _cash() + borrowed + auctionDebt;
        assets = assets > reserves_ ? assets - reserves_ : 0;
        return assets == 0 ? 0 : Math.min(borrowed.wDivUp(assets), WAD);
    }

    /// @dev base + slope1 * min(u, kink) / kink + slope2 * max(u - kink, 0) / (1 - kink), rounded up.
    function _annualRate(uint256 u) internal view returns (uint256 rate) {
        RateModel memory m = _rateModel;
        rate = m.baseRate + m.slope1.mulDivUp(Math.min(u, m.kink), m.kink);
        if (u > m.kink) rate += m.slope2.mulDivUp(u - m.kink, WAD - m.kink);
    }

    // ------------------------------------------------------------------ ERC-4626

    /// @dev Cash + borrowed debt (accrued to now) + debt in live auctions - reserves.
    function totalAssets() public view override returns (uint256) {
        (uint256 index,, uint256 newReserves) = _accrued();
        uint256 assets = _cash() + totalScaledDebt.wMulDown(index) + auctionDebt;
        return assets > newReserves ? assets - newReserves : 0;
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

    function deposit(uint256 assets, address receiver) public override nonReentrant whenNotPaused returns (uint256) {
        if (assets == 0) revert ZeroAmount();
        _accrue();
        return super.deposit(assets, receiver);
    }

    function mint(uint256 shares, address receiver) public override nonReentrant whenNotPaused returns (uint256) {
        if (shares == 0) revert ZeroAmount();
        _accrue();
        return super.mint(shares, receiver);
    }

    function withdraw(uint256 assets, address receiver, address owner) public override nonReentrant returns (uint256) {
        if (assets == 0) revert ZeroAmount();
        _accrue();
        return super.withdraw(assets, receiver, owner);
    }

    function redeem(uint256 shares, address receiver, address owner) public override nonReentrant returns (uint256) {
        if (shares == 0) revert ZeroAmount();
        _accrue();
        return super.redeem(shares, receiver, owner);
    }

    /// @dev 10 ** 6 virtual shares per virtual asset against the first-depositor inflation attack.
    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IVault
    function debtOf(address account) public view returns (uint256) {
        (uint256 index,,) = _accrued();
        return scaledDebtOf[account].wMulUp(index);
    }

    /// @inheritdoc IVault
    function healthFactor(address account) public view returns (uint256) {
        if (scaledDebtOf[account] == 0) return type(uint256).max;
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
    /// @dev (debt value - sum over other assets of value * threshold) / (amount * threshold), rounded up.
    function liquidationPrice(address account, address asset) external view returns (uint256) {
        uint256 amount = collateralOf[account][asset];
        if (amount == 0 || scaledDebtOf[account] == 0) return 0;
        (uint256 index,,) = _accrued();
        Position memory p = _position(account, index);
        uint256 threshold = _params[asset].liquidationThreshold;
        uint256 own = amount.toValueDown(oracle.price(asset), _collateralScale[asset]).wMulDown(threshold);
        uint256 others = p.liquidationValue - own;
        if (p.debtValue <= others) return 0;
        return (p.debtValue - others).wDivUp(threshold).mulDivUp(_collateralScale[asset], amount);
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
    function collateralAssets() external view returns (address[] memory) {
        return _collateralAssets;
    }

    /// @inheritdoc IVault
    function collateralParams(address asset) external view returns (CollateralParams memory) {
        return _params[asset];
    }

    function rateModel() external view returns (RateModel memory) {
        return _rateModel;
    }

    function liquidationConfig() external view returns (LiquidationConfig memory) {
        return _liquidationConfig;
    }

    /// @inheritdoc IVault
    function minDebt() external view returns (uint256) {
        return _liquidationConfig.minDebt;
    }

    /// @inheritdoc IVault
    function totalDebt() external view returns (uint256) {
        (uint256 index,,) = _accrued();
        return totalScaledDebt.wMulDown(index);
    }

    /// @inheritdoc IVault
    function availableLiquidity() public view returns (uint256) {
        (,, uint256 newReserves) = _accrued();
        uint256 cash = _cash();
        return cash > newReserves ? cash - newReserves : 0;
    }

    /// @inheritdoc IVault
    function utilization() public view returns (uint256) {
        (uint256 index,, uint256 newReserves) = _accrued();
        return _utilization(totalScaledDebt.wMulDown(index), newReserves);
    }

    /// @inheritdoc IVault
    function borrowRate() external view returns (uint256) {
        return _annualRate(utilization());
    }

    // ------------------------------------------------------------------ governance

    /// @notice List a collateral asset or change its parameters. Governor only. The oracle must
    /// already price it.
    function setCollateralParams(address asset, CollateralParams calldata params) external onlyRole(GOVERNOR_ROLE) {
        if (asset == address(0) || asset == this.asset()) revert InvalidCollateral(asset);
        oracle.peek(asset); // reverts AssetNotConfigured for an asset the oracle cannot price
        _checkBounds("liquidationThreshold", params.liquidationThreshold, MIN_LIQUIDATION_THRESHOLD, MAX_LIQUIDATION_THRESHOLD);
        _checkBounds("maxLtv", params.maxLtv, 0, params.liquidationThreshold);
        // The collateral seized at health factor 1 must still cover debt plus penalty.
        uint256 maxPenalty = Math.min(MAX_PENALTY, WAD.wDivDown(params.liquidationThreshold) - WAD);
        _checkBounds("penalty", params.penalty, 0, maxPenalty);
        _checkBounds("lotCap", params.lotCap, 1, type(uint128).max);
        _checkBounds("liveTabCap", params.liveTabCap, params.lotCap, type(uint128).max);

        if (_collateralScale[asset] == 0) {
            if (_collateralAssets.length == MAX_COLLATERAL_ASSETS) revert TooManyCollateralAssets(MAX_COLLATERAL_ASSETS);
            uint8 decimals = IERC20Metadata(asset).decimals();
            _checkBounds("collateralDecimals", decimals, 0, 36);
            _collateralScale[asset] = 10 ** decimals;
            _collateralAssets.push(asset);
        }
        _params[asset] = params;
        emit CollateralConfigSet(asset, params);
    }

    /// @notice Set the interest rate model. Governor only; interest so far accrues at the old one.
    function setRateModel(RateModel calldata model) external onlyRole(GOVERNOR_ROLE) {
        _checkBounds("baseRate", model.baseRate, 0, MAX_RATE);
        _checkBounds("slope1", model.slope1, 0, MAX_RATE);
        _checkBounds("slope2", model.slope2, 0, MAX_RATE);
        _checkBounds("kink", model.kink, MIN_KINK, MAX_KINK);
        _accrue();
        _rateModel = model;
        emit RateModelSet(model);
    }

    /// @notice Set the share of interest owed to the InsuranceFund. Governor only.
    function setReserveFactor(uint256 reserveFactor_) external onlyRole(GOVERNOR_ROLE) {
        _checkBounds("reserveFactor", reserveFactor_, 0, MAX_RESERVE_FACTOR);
        _accrue();
        reserveFactor = reserveFactor_;
        emit ReserveFactorSet(reserveFactor_);
    }

    /// @notice Set the kick tiers and dust. Governor only.
    function setLiquidationConfig(LiquidationConfig calldata config) external onlyRole(GOVERNOR_ROLE) {
        uint256 maxDust = 1e6 * _debtScale; // a million whole tokens
        _checkBounds("minDebt", config.minDebt, 1, maxDust);
        _checkBounds("smallDebt", config.smallDebt, config.minDebt, 1e3 * maxDust);
        _checkBounds("deepHealth", config.deepHealth, MIN_DEEP_HEALTH, WAD);
        _checkBounds("closeFactor", config.closeFactor, MIN_CLOSE_FACTOR, WAD);
        _checkBounds("penaltyFundShare", config.penaltyFundShare, 0, WAD);
        _liquidationConfig = config;
        emit LiquidationConfigSet(config);
    }

    /// @notice Set the liquidator, once. Governor only.
    function setLiquidator(IDutchAuctionLiquidator liquidator_) external onlyRole(GOVERNOR_ROLE) {
        if (address(liquidator) != address(0)) revert LiquidatorAlreadySet(address(liquidator));
        if (address(liquidator_) == address(0)) revert ZeroAddress();
        liquidator = liquidator_;
        emit LiquidatorSet(address(liquidator_));
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

    /// @notice Take the Vault-wide lock for the length of a liquidator entry point, so nothing in
    /// the Vault can be entered from inside a take's callback. Liquidator only.
    function lock() external onlyLiquidator {
        _enter();
    }

    /// @notice Release the lock taken by `lock`. Liquidator only.
    function unlock() external onlyLiquidator {
        _lock = UNLOCKED;
    }

    // ------------------------------------------------------------------ internals

    function _enter() internal {
        if (_lock == LOCKED) revert Reentrancy();
        _lock = LOCKED;
    }

    function _checkAuthorized(address onBehalf) internal view {
        if (onBehalf == address(0)) revert ZeroAddress();
        if (msg.sender != onBehalf && !isAuthorized[onBehalf][msg.sender]) revert Unauthorized(onBehalf, msg.sender);
    }

    /// @dev Reverts unless the account's debt value is within its borrow limit (max LTV).
    function _checkBorrowLimit(address account) internal view {
        if (scaledDebtOf[account] == 0) return; // no debt, no price needed
        Position memory p = _position(account, borrowIndex);
        if (p.debtValue > p.borrowLimit) revert InsufficientCollateral(account, p.debtValue, p.borrowLimit);
    }

    /// @dev Values an account at oracle prices; reverts `PriceUnavailable` if any asset it holds,
    /// or the debt asset while it has debt, has no `Ok` price. Collateral rounds down, debt up.
    function _position(address account, uint256 index) internal view returns (Position memory p) {
        uint256 n = _collateralAssets.length;
        p.values = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            address asset = _collateralAssets[i];
            uint256 amount = collateralOf[account][asset];
            if (amount == 0) continue;
            uint256 value = amount.toValueDown(oracle.price(asset), _collateralScale[asset]);
            CollateralParams storage params = _params[asset];
            p.values[i] = value;
            p.collateralValue += value;
            p.liquidationValue += value.wMulDown(params.liquidationThreshold);
            p.borrowLimit += value.wMulDown(params.maxLtv);
        }
        p.debt = scaledDebtOf[account].wMulUp(index);
        if (p.debt > 0) {
            p.debtPrice = oracle.price(asset());
            p.debtValue = p.debt.toValueUp(p.debtPrice, _debtScale);
        }
    }

    function _cash() internal view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }
}
