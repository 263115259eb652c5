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
    /// @notice [wad] The smallest penalty: every kick charges the account more than the kicker earns
    /// (the incentive is at most half the penalty), and a kick always pays something.
    uint256 public constant MIN_PENALTY = 0.01e18;
    /// @notice [seconds] Lenders' share of a penalty reaches the share price over this long.
    uint256 public constant INCOME_UNLOCK = 1 days;

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
    IncomeLock internal _income; // lenders' penalty income, unlocking into the share price
    bool public paused;
    uint256 private _lock = UNLOCKED;
    uint256 private _assetsAtLock; // [debt decimals] totalAssets when the liquidator took the lock

    address[] internal _collateralAssets;
    mapping(address collateral => CollateralParams) internal _params;
    mapping(address collateral => uint256) internal _collateralScale; // 10 ** decimals; zero if not listed
    mapping(address collateral => uint256) public totalCollateral; // [collateral decimals]
    mapping(address account => mapping(address collateral => uint256)) public collateralOf; // [collateral decimals]
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
        uint256[] values; // [wad] rounded down; zero for an asset without an Ok price
        address unpriced; // a held asset without an Ok price (the last one found); zero if none
        IOracleAdapter.Status unpricedStatus; // its status
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
    function supplyCollateral(address collateral, uint256 amount, address onBehalf) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (onBehalf == address(0)) revert ZeroAddress();
        if (_collateralScale[collateral] == 0) revert InvalidCollateral(collateral);
        uint256 total = totalCollateral[collateral] + amount;
        if (total > _params[collateral].supplyCap) revert SupplyCapExceeded(collateral, total, _params[collateral].supplyCap);

        totalCollateral[collateral] = total;
        uint256 balance = collateralOf[onBehalf][collateral] += amount;
        IERC20(collateral).safeTransferFrom(msg.sender, address(this), amount);
        emit CollateralSupplied(onBehalf, collateral, msg.sender, amount, balance);
    }

    /// @inheritdoc IVault
    function withdrawCollateral(address collateral, uint256 amount, address onBehalf, address receiver) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        _checkAuthorized(onBehalf);
        uint256 held = collateralOf[onBehalf][collateral];
        if (amount > held) revert InsufficientCollateralBalance(collateral, amount, held);
        _accrue();

        collateralOf[onBehalf][collateral] = held - amount;
        totalCollateral[collateral] -= amount;
        _checkBorrowLimit(onBehalf);
        IERC20(collateral).safeTransfer(receiver, amount);
        emit CollateralWithdrawn(onBehalf, collateral, receiver, amount, held - amount);
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
    /// @dev Every liquidation path, the dust write-off included, stops at breaker level 1.
    function liquidate(address account) external nonReentrant returns (uint256[] memory ids) {
        IDutchAuctionLiquidator liq = liquidator;
        if (address(liq) == address(0)) revert LiquidatorNotSet();
        uint8 level = liq.breaker();
        if (level != 0) revert IDutchAuctionLiquidator.BreakerActive(level);
        _accrue();
        uint256 index = borrowIndex;
        uint256 scaledDebt = scaledDebtOf[account];
        if (scaledDebt == 0) revert NotLiquidatable(account, type(uint256).max);

        Position memory p = _position(account, index); // an asset without a price counts as worth nothing
        uint256 hf = p.liquidationValue.wDivDown(p.debtValue);
        if (hf >= WAD) revert NotLiquidatable(account, hf);
        uint256 assetsBefore = totalAssets();

        LiquidationConfig memory c = _liquidationConfig;
        uint256 dustValue = c.minDebt.toValueUp(p.debtPrice, _debtScale);
        // Priced collateral worth less than dust cannot pay a keeper to sell it: realise the debt
        // now rather than leave bad debt hidden behind it (and give the dust to the fund that pays).
        if (p.collateralValue < dustValue) {
            _realise(account, p, hf, scaledDebt);
            _lockGain(assetsBefore);
            return ids;
        }

        KickPlan memory plan = _planKick(p, hf, c, dustValue, liq);
        uint256 scaledCovered = plan.covered == p.debt ? scaledDebt : plan.covered.wDivDown(index); // down: account keeps the rounding
        _removeDebt(account, scaledCovered);
        auctionDebt += plan.auctioned;
        emit Liquidated(account, msg.sender, plan.covered, hf, scaledDebt - scaledCovered);

        IDutchAuctionLiquidator.Lot[] memory lots = _moveParts(account, plan, liq);
        if (plan.writtenOff > 0) _settleShortfall(account, plan.writtenOff);
        if (lots.length > 0) ids = liq.kick(account, lots, msg.sender);
        _lockGain(assetsBefore);
    }

    /// @inheritdoc IVault
    function recordAuctionProceeds(uint256 debtRepaid, uint256 penalty) external onlyLiquidator {
        auctionDebt -= debtRepaid;
        uint256 toFund = penalty.wMulDown(_liquidationConfig.penaltyFundShare); // down: lenders keep the rounding
        if (toFund > 0) IERC20(asset()).safeTransfer(address(insuranceFund), toFund);
        // The lenders' share raises totalAssets, and `unlock` turns that rise into income that
        // unlocks over INCOME_UNLOCK: nothing of it is in the share price within this transaction.
        emit AuctionProceeds(debtRepaid, penalty, toFund);
    }

    /// @inheritdoc IVault
    function returnCollateral(address account, address collateral, uint256 amount) external onlyLiquidator {
        totalCollateral[collateral] += amount;
        uint256 balance = collateralOf[account][collateral] += amount;
        emit CollateralReturned(account, collateral, amount, balance);
    }

    /// @inheritdoc IVault
    function settleShortfall(address account, uint256 shortfall) external onlyLiquidator {
        auctionDebt -= shortfall;
        _settleShortfall(account, shortfall);
    }

    /// @dev What one kick does with each collateral asset of the account (indexed as `_collateralAssets`).
    struct KickPlan {
        uint256[] shares; // [debt decimals] the debt the asset carries if all of it goes
        uint256[] debts; // [debt decimals] the debt leaving with this kick's part of it
        bool[] toFund; // the part is worth less than dust: it goes to the fund, not to an auction
        uint256 covered; // [debt decimals] sum of debts
        uint256 auctioned; // [debt decimals] the part of `covered` that goes to auctions
        uint256 writtenOff; // [debt decimals] the part of `covered` settled at once as a shortfall
        uint256 lots; // how many auctions
    }

    /// @dev The kick, asset by asset:
    /// 1. the tier sets the debt to cover: all of it when small or below `deepHealth`, else
    ///    `closeFactor` of it, never leaving a remainder below dust;
    /// 2. each priced asset carries its share of that debt: by value when every held asset has a
    ///    price; when one has none, at most what the asset supports at its liquidation threshold,
    ///    so the rest of the debt stays with the unpriced asset (which counts for nothing and is
    ///    never moved: it can neither shield the account nor be taken at no value);
    /// 3. a part whose collateral is worth less than dust is written off to the InsuranceFund
    ///    (no keeper would pay gas to take it, and no auction may exist with nothing to sell);
    /// 4. a part whose auction would not fit the asset's room (`lotCap`, and `liveTabCap` less its
    ///    live tab) is cut to the room, or stays in the account when the room is below dust;
    /// 5. a kick that would leave a debt below dust leaves exactly dust instead.
    function _planKick(Position memory p, uint256 hf, LiquidationConfig memory c, uint256 dustValue, IDutchAuctionLiquidator liq)
        internal
        view
        returns (KickPlan memory plan)
    {
        uint256 n = p.values.length;
        (plan.shares, plan.debts, plan.toFund) = (new uint256[](n), new uint256[](n), new bool[](n));
        uint256 target = (p.debt <= c.smallDebt || hf < c.deepHealth) ? p.debt : p.debt.wMulUp(c.closeFactor);
        if (target < p.debt && p.debt - target < c.minDebt) target = p.debt - c.minDebt; // debt >= minDebt always
        Split memory split = Split(target, p.debt, p.collateralValue, dustValue, c.minDebt, n, address(0));
        for (uint256 i; i < n; ++i) {
            if (p.values[i] > 0) _planPart(plan, split, p, i, liq);
        }

        // Never leave a debt below dust: the largest auction carries less, so exactly dust stays.
        uint256 largest = split.largest;
        if (plan.covered < p.debt && p.debt - plan.covered < c.minDebt && largest < n) {
            uint256 cut = c.minDebt - (p.debt - plan.covered);
            if (plan.debts[largest] > cut) {
                plan.debts[largest] -= cut;
                (plan.covered, plan.auctioned) = (plan.covered - cut, plan.auctioned - cut);
            }
        }
        address capped = split.capped;
        if (plan.covered == 0 && capped != address(0)) {
            uint256 live = liq.liveTab(capped);
            if (live >= _params[capped].liveTabCap) revert AuctionCapReached(capped, live, _params[capped].liveTabCap);
        }
        bool dustLeft = plan.covered < p.debt && p.debt - plan.covered < c.minDebt;
        if (plan.covered == 0 || dustLeft || (plan.covered < c.minDebt && plan.covered != p.debt)) {
            revert KickBelowDust(plan.covered, c.minDebt);
        }
    }

    /// @dev Running state of `_planKick` across assets.
    struct Split {
        uint256 target; // [debt decimals] the debt the tier covers
        uint256 debtLeft; // [debt decimals] of the debt, not yet shared out by value
        uint256 valueLeft; // [wad] of the priced collateral, not yet shared out
        uint256 dustValue; // [wad] minDebt's value
        uint256 minDebt; // [debt decimals]
        uint256 largest; // index of the auctioned part carrying the most debt; the asset count if none
        address capped; // the first asset left out for want of room
    }

    /// @dev Steps 2 to 4 of `_planKick` for asset `i` (priced and held).
    function _planPart(KickPlan memory plan, Split memory split, Position memory p, uint256 i, IDutchAuctionLiquidator liq)
        internal
        view
    {
        uint256 value = p.values[i];
        address collateral = _collateralAssets[i];
        CollateralParams storage params = _params[collateral];
        uint256 share;
        if (p.unpriced == address(0)) {
            // By value; the last priced asset takes the rounding, so the shares sum to the debt.
            share = value == split.valueLeft ? split.debtLeft : split.debtLeft.mulDivDown(value, split.valueLeft);
            (split.debtLeft, split.valueLeft) = (split.debtLeft - share, split.valueLeft - value);
        } else {
            share = value.wMulDown(params.liquidationThreshold).toAmountDown(p.debtPrice, _debtScale);
        }
        uint256 want = share.mulDivDown(split.target, p.debt);
        if (want == 0) return; // its part rounds to nothing: it stays in the account
        plan.shares[i] = share;

        if (value.mulDivDown(want, share) < split.dustValue) {
            plan.toFund[i] = true;
            plan.writtenOff += want;
        } else {
            uint256 room = _room(collateral, params, liq);
            if (want.wMulUp(WAD + params.penalty) > room) {
                if (room < split.minDebt) {
                    if (split.capped == address(0)) split.capped = collateral;
                    return; // no room for an auction above dust: this part waits for a later kick
                }
                want = room.wDivDown(WAD + params.penalty); // down: the tab stays within the room
            }
            plan.auctioned += want;
            plan.lots += 1;
            if (split.largest == p.values.length || want > plan.debts[split.largest]) split.largest = i;
        }
        plan.debts[i] = want;
        plan.covered += want;
    }

    /// @dev [debt decimals] the largest tab a new auction of `collateral` may carry now.
    function _room(address collateral, CollateralParams storage params, IDutchAuctionLiquidator liq)
        internal
        view
        returns (uint256)
    {
        uint256 live = liq.liveTab(collateral);
        return live >= params.liveTabCap ? 0 : Math.min(params.lotCap, params.liveTabCap - live);
    }

    /// @dev Moves each part of the plan out of the account: `debt / share` of the asset (rounded
    /// up, so an auction holds at least its share; what it does not sell comes back), to the
    /// liquidator as a lot, or to the InsuranceFund when it is worth less than dust.
    function _moveParts(address account, KickPlan memory plan, IDutchAuctionLiquidator liq)
        internal
        returns (IDutchAuctionLiquidator.Lot[] memory lots)
    {
        lots = new IDutchAuctionLiquidator.Lot[](plan.lots);
        uint256 k = 0;
        for (uint256 i; i < plan.debts.length; ++i) {
            uint256 debtPart = plan.debts[i];
            if (debtPart == 0) continue;
            address collateral = _collateralAssets[i];
            uint256 held = collateralOf[account][collateral];
            uint256 amount = debtPart == plan.shares[i] ? held : Math.min(held, held.mulDivUp(debtPart, plan.shares[i]));
            address to = plan.toFund[i] ? address(insuranceFund) : address(liq);
            collateralOf[account][collateral] = held - amount;
            totalCollateral[collateral] -= amount;
            IERC20(collateral).safeTransfer(to, amount);
            emit CollateralSeized(account, collateral, to, amount, held - amount);
            if (!plan.toFund[i]) {
                lots[k++] = IDutchAuctionLiquidator.Lot({
                    collateral: collateral,
                    amount: amount,
                    tab: debtPart.wMulUp(WAD + _params[collateral].penalty), // up: the penalty is owed in full
                    debt: debtPart
                });
            }
        }
    }

    /// @dev An account whose priced collateral is worth less than dust: its whole debt is settled
    /// as a shortfall and its collateral goes to the fund. Not while it holds an asset without a
    /// price: that asset might be worth the debt, and it would be taken at no value.
    function _realise(address account, Position memory p, uint256 hf, uint256 scaledDebt) internal {
        if (p.unpriced != address(0)) revert IOracleAdapter.PriceUnavailable(p.unpriced, p.unpricedStatus);
        _removeDebt(account, scaledDebt);
        emit Liquidated(account, msg.sender, p.debt, hf, 0);
        _seizeAll(account);
        _settleShortfall(account, p.debt);
    }

    function _removeDebt(address account, uint256 scaled) internal {
        scaledDebtOf[account] -= scaled;
        totalScaledDebt -= scaled;
    }

    /// @dev Gives every collateral balance of `account` to the InsuranceFund.
    function _seizeAll(address account) internal {
        for (uint256 i; i < _collateralAssets.length; ++i) {
            address collateral = _collateralAssets[i];
            uint256 held = collateralOf[account][collateral];
            if (held == 0) continue;
            collateralOf[account][collateral] = 0;
            totalCollateral[collateral] -= held;
            IERC20(collateral).safeTransfer(address(insuranceFund), held);
            emit CollateralSeized(account, collateral, address(insuranceFund), held, 0);
        }
    }

    /// @dev Reserves not yet collected cover a shortfall first (they are the fund's), then the
    /// InsuranceFund's balance; the rest leaves lenders' assets (the share price falls) in the open.
    function _settleShortfall(address account, uint256 shortfall) internal {
        uint256 fromReserves = Math.min(shortfall, reserves);
        if (fromReserves > 0) reserves -= fromReserves;
        uint256 rest = shortfall - fromReserves;
        uint256 fromFund = rest > 0 ? insuranceFund.coverShortfall(rest) : 0;
        uint256 badDebt = rest - fromFund;
        emit ShortfallSettled(account, shortfall, fromReserves + fromFund, badDebt, fromReserves);
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
        if (block.timestamp <= lastAccrual) return;
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
        // A view may be evaluated in a block dated before the last accrual (a pending block, or a
        // node's clock): no time has passed for it, rather than a panic.
        uint256 elapsed = block.timestamp > lastAccrual ? block.timestamp - lastAccrual : 0;
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

    /// @dev Cash + borrowed debt (accrued to now) + debt in live auctions, less: reserves (owed
    /// to the fund), penalty income not yet unlocked, and the loss live auctions already make
    /// certain beyond what reserves and the fund can cover (see `expectedLenderLoss`).
    function totalAssets() public view override returns (uint256) {
        (uint256 index,, uint256 newReserves) = _accrued();
        uint256 assets = _cash() + totalScaledDebt.wMulDown(index) + auctionDebt;
        uint256 deductions = newReserves + unvestedIncome() + _expectedLenderLoss(newReserves);
        return assets > deductions ? assets - deductions : 0;
    }

    /// @inheritdoc IVault
    function expectedLenderLoss() external view returns (uint256) {
        (,, uint256 newReserves) = _accrued();
        return _expectedLenderLoss(newReserves);
    }

    /// @dev The live auctions' certain loss (debt beyond what their lots are worth at the oracle
    /// price when kicked, redone or last taken) less what reserves and the InsuranceFund would
    /// cover: lenders' assets count it from the moment it is certain, so every lender holding
    /// shares then shares it, not only those who did not leave in time.
    function _expectedLenderLoss(uint256 reserves_) internal view returns (uint256) {
        IDutchAuctionLiquidator liq = liquidator;
        if (address(liq) == address(0)) return 0;
        uint256 loss = liq.expectedLoss();
        if (loss == 0) return 0;
        uint256 cover = reserves_ + IERC20(asset()).balanceOf(address(insuranceFund));
        return loss > cover ? loss - cover : 0;
    }

    /// @inheritdoc IVault
    /// @dev amount * (end - now) / (end - start), rounded up (lenders' assets are never overstated).
    function unvestedIncome() public view returns (uint256) {
        IncomeLock memory lock_ = _income;
        if (lock_.amount == 0 || block.timestamp >= lock_.end) return 0;
        if (block.timestamp <= lock_.start) return lock_.amount;
        return uint256(lock_.amount).mulDivUp(lock_.end - block.timestamp, lock_.end - lock_.start);
    }

    /// @dev No liquidation step may raise the share price within its own transaction (a deposit
    /// just before it and a redemption just after would take the rise from the lenders who carried
    /// the risk): any rise in totalAssets since `before` is locked, to unlock over INCOME_UNLOCK.
    /// Falls are not: a loss is shared by whoever holds shares when it becomes certain.
    function _lockGain(uint256 before) internal {
        uint256 afterwards = totalAssets();
        if (afterwards > before) _lockIncome(afterwards - before);
    }

    /// @dev Adds `amount` to the income unlocking; what is still locked unlocks with it over the
    /// next INCOME_UNLOCK.
    function _lockIncome(uint256 amount) internal {
        uint256 locked = unvestedIncome() + amount;
        _income = IncomeLock(uint128(locked), uint64(block.timestamp), uint64(block.timestamp + INCOME_UNLOCK));
        emit IncomeLocked(amount, locked, block.timestamp + INCOME_UNLOCK);
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
    function liquidationPrice(address account, address collateral) external view returns (uint256) {
        uint256 amount = collateralOf[account][collateral];
        if (amount == 0 || scaledDebtOf[account] == 0) return 0;
        (uint256 index,,) = _accrued();
        Position memory p = _position(account, index);
        uint256 threshold = _params[collateral].liquidationThreshold;
        uint256 own = amount.toValueDown(oracle.price(collateral), _collateralScale[collateral]).wMulDown(threshold);
        uint256 others = p.liquidationValue - own;
        if (p.debtValue <= others) return 0;
        return (p.debtValue - others).wDivUp(threshold).mulDivUp(_collateralScale[collateral], amount);
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
    function collateralParams(address collateral) external view returns (CollateralParams memory) {
        return _params[collateral];
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
    function setCollateralParams(address collateral, CollateralParams calldata params) external onlyRole(GOVERNOR_ROLE) {
        if (collateral == address(0) || collateral == asset()) revert InvalidCollateral(collateral);
        oracle.peek(collateral); // reverts AssetNotConfigured for a token the oracle cannot price
        _checkBounds("liquidationThreshold", params.liquidationThreshold, MIN_LIQUIDATION_THRESHOLD, MAX_LIQUIDATION_THRESHOLD);
        _checkBounds("maxLtv", params.maxLtv, 0, params.liquidationThreshold);
        // The collateral seized at health factor 1 must still cover debt plus penalty.
        uint256 maxPenalty = Math.min(MAX_PENALTY, WAD.wDivDown(params.liquidationThreshold) - WAD);
        _checkBounds("penalty", params.penalty, MIN_PENALTY, maxPenalty);
        _checkBounds("lotCap", params.lotCap, 1, type(uint128).max);
        _checkBounds("liveTabCap", params.liveTabCap, params.lotCap, type(uint128).max);

        if (_collateralScale[collateral] == 0) {
            if (_collateralAssets.length == MAX_COLLATERAL_ASSETS) revert TooManyCollateralAssets(MAX_COLLATERAL_ASSETS);
            uint8 decimals = IERC20Metadata(collateral).decimals();
            _checkBounds("collateralDecimals", decimals, 0, 36);
            _collateralScale[collateral] = 10 ** decimals;
            _collateralAssets.push(collateral);
        }
        _params[collateral] = params;
        emit CollateralConfigSet(collateral, params);
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
        _assetsAtLock = totalAssets();
    }

    /// @notice Release the lock taken by `lock`. Whatever the liquidator's entry point raised
    /// lenders' assets by (a penalty paid, a certain loss that turned out smaller) is locked as
    /// income. Liquidator only.
    function unlock() external onlyLiquidator {
        _lockGain(_assetsAtLock);
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

    /// @dev Values an account at oracle prices, collateral rounded down and debt up. A held asset
    /// without an `Ok` price counts as worth nothing (so it can never protect a borrower: it neither
    /// raises the borrow limit nor blocks a kick); the debt asset needs an `Ok` price while there is
    /// debt (`PriceUnavailable` otherwise).
    function _position(address account, uint256 index) internal view returns (Position memory p) {
        uint256 n = _collateralAssets.length;
        p.values = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            address collateral = _collateralAssets[i];
            uint256 amount = collateralOf[account][collateral];
            if (amount == 0) continue;
            (uint256 price, IOracleAdapter.Status status) = oracle.peek(collateral);
            if (status != IOracleAdapter.Status.Ok) {
                (p.unpriced, p.unpricedStatus) = (collateral, status);
                continue;
            }
            uint256 value = amount.toValueDown(price, _collateralScale[collateral]);
            CollateralParams storage params = _params[collateral];
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
