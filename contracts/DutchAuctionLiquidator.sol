// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {IAuctionCurve} from "./interfaces/IAuctionCurve.sol";
import {ITakeCallee} from "./interfaces/ITakeCallee.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {Governed} from "./base/Governed.sol";
import {WadMath} from "./libraries/WadMath.sol";
import {TokenMath} from "./libraries/TokenMath.sol";

/// @notice The parts of the Vault the liquidator calls.
interface IVaultForLiquidator {
    function asset() external view returns (address);
    function oracle() external view returns (IOracleAdapter);
    function insuranceFund() external view returns (IInsuranceFund);
    function minDebt() external view returns (uint256);
    function recordAuctionProceeds(uint256 debtRepaid, uint256 penalty) external;
    function returnCollateral(address account, address collateral, uint256 amount) external;
    function settleShortfall(address account, uint256 shortfall) external;
    function lock() external;
    function unlock() external;
}

/// @title DutchAuctionLiquidator. See IDutchAuctionLiquidator.
/// @dev Every entry point holds both this contract's lock and the Vault's, so a taker's callback
/// can enter neither. Proceeds pay an auction's debt first, then its penalty.
contract DutchAuctionLiquidator is IDutchAuctionLiquidator, Governed {
    using SafeERC20 for IERC20;
    using WadMath for uint256;
    using TokenMath for uint256;

    uint256 public constant MIN_BUF = 1e18; // [wad] never start below the oracle price
    uint256 public constant MAX_BUF = 2e18; // [wad]
    uint256 public constant MIN_TAIL = 5 minutes;
    uint256 public constant MAX_TAIL = 7 days;
    uint256 public constant MIN_CUSP = 0.05e18; // [wad]
    uint256 public constant MAX_CUSP = 0.99e18; // [wad]
    uint256 public constant MAX_CHIP = 0.05e18; // [wad]
    uint8 public constant MAX_BREAKER = 3;

    uint256 private constant WAD_ONE = 1e18;
    uint256 private constant UNLOCKED = 1;
    uint256 private constant LOCKED = 2;

    IVaultForLiquidator public immutable vault;
    IERC20 public immutable debtAsset;
    IOracleAdapter public immutable oracle;
    IInsuranceFund public immutable insuranceFund;
    uint256 public immutable maxTip; // [debt decimals] 1,000 whole debt tokens
    uint256 internal immutable _debtScale; // 10 ** debt decimals

    mapping(address collateral => AuctionConfig) internal _configs;
    mapping(address collateral => uint256) internal _collateralScale; // 10 ** decimals
    uint256 public tip; // [debt decimals] flat keeper reward per kick or redo
    uint256 public chip; // [wad] keeper reward per unit of tab
    uint8 public breaker; // 0 none, 1 no kick, 2 no redo, 3 no take

    uint256 public kicks; // auctions ever started; the last id
    mapping(uint256 id => Auction) public auctions;
    uint256[] internal _active;
    mapping(uint256 id => uint256) internal _activePosition; // index in _active + 1
    mapping(address collateral => uint256) public liveTab; // [debt decimals] borrowers' auctions only
    uint256 public expectedLoss; // [debt decimals] sum of live auctions' `loss`
    uint256 private _lock = UNLOCKED;

    modifier nonReentrant() {
        if (_lock == LOCKED) revert Reentrancy();
        _lock = LOCKED;
        vault.lock();
        _;
        vault.unlock();
        _lock = UNLOCKED;
    }

    constructor(IVaultForLiquidator vault_, address governor, address guardian) Governed(governor, guardian) {
        if (address(vault_) == address(0)) revert ZeroAddress();
        vault = vault_;
        debtAsset = IERC20(vault_.asset());
        oracle = vault_.oracle();
        insuranceFund = vault_.insuranceFund();
        _debtScale = 10 ** IERC20Metadata(address(debtAsset)).decimals();
        maxTip = 1_000 * _debtScale;
    }

    /// @inheritdoc IDutchAuctionLiquidator
    /// @dev Holds only this contract's lock: the Vault already holds its own while it kicks.
    function kick(address account, Lot[] calldata lots, address kicker) external returns (uint256[] memory ids) {
        if (msg.sender != address(vault)) revert OnlyVault(msg.sender);
        if (breaker >= 1) revert BreakerActive(breaker);
        if (_lock == LOCKED) revert Reentrancy();
        _lock = LOCKED;

        uint256 debtPrice = oracle.price(address(debtAsset));
        ids = new uint256[](lots.length);
        (uint256 totalTab, uint256 totalPenalty, uint256 lossBefore) = (0, 0, expectedLoss);
        for (uint256 i; i < lots.length; ++i) {
            ids[i] = _start(account, lots[i], debtPrice, kicker);
            totalTab += lots[i].tab;
            totalPenalty += lots[i].tab - lots[i].debt;
        }
        if (expectedLoss != lossBefore) emit ExpectedLossUpdated(expectedLoss);
        // A kick below dust is allowed (a dusty account must be closable) but never pays; no kick
        // pays more than half the penalty it charges (the other half is its auctions' redo budget).
        if (totalTab >= vault.minDebt()) _payIncentive(kicker, Math.min(incentive(totalTab), totalPenalty / 2));
        _lock = UNLOCKED;
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function startSale(address collateral, uint256 amount) external returns (uint256 id) {
        if (msg.sender != address(insuranceFund)) revert OnlyInsuranceFund(msg.sender);
        if (breaker >= 1) revert BreakerActive(breaker);
        if (_lock == LOCKED) revert Reentrancy();
        if (amount == 0) revert ZeroAmount();
        AuctionConfig storage config = _configs[collateral];
        if (config.curve == address(0)) revert AuctionNotConfigured(collateral);
        uint256 refPrice = _marketPrice(collateral, oracle.price(address(debtAsset)));
        uint256 top = refPrice.wMulUp(config.buf); // up: start high
        uint256 tab = amount.collateralToDebtUp(top, _collateralScale[collateral], _debtScale);
        id = ++kicks;
        auctions[id] = Auction({
            account: address(insuranceFund),
            collateral: collateral,
            startedAt: uint64(block.timestamp),
            lot: amount,
            tab: tab,
            debt: 0,
            top: top,
            refPrice: refPrice,
            loss: 0,
            incentiveLeft: 0
        });
        _active.push(id);
        _activePosition[id] = _active.length;
        emit Kick(id, address(insuranceFund), collateral, amount, tab, 0, top, address(insuranceFund));
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function take(uint256 id, uint256 maxCollateral, uint256 maxPrice, address receiver, bytes calldata data)
        external
        nonReentrant
        returns (uint256 bought, uint256 owe)
    {
        if (breaker >= 3) revert BreakerActive(breaker);
        if (maxCollateral == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        Auction storage a = auctions[id];
        if (a.account == address(0)) revert AuctionNotActive(id);
        (bool done, uint256 price) = _status(a);
        if (done) revert AuctionNeedsRedo(id);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);

        (bought, owe) = _slice(id, a, maxCollateral, price);
        uint256 debtRepaid = _sell(a, bought, owe);

        IERC20(a.collateral).safeTransfer(receiver, bought);
        if (data.length > 0) ITakeCallee(receiver).onTake(msg.sender, id, a.collateral, bought, owe, data);
        if (a.account == address(insuranceFund)) {
            debtAsset.safeTransferFrom(msg.sender, address(insuranceFund), owe);
        } else {
            debtAsset.safeTransferFrom(msg.sender, address(vault), owe);
            vault.recordAuctionProceeds(debtRepaid, owe - debtRepaid);
        }
        emit Take(id, msg.sender, receiver, price, bought, owe, a.tab, a.lot);

        if (a.tab == 0 || a.lot == 0) _end(id, a);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function redo(uint256 id) external nonReentrant {
        if (breaker >= 2) revert BreakerActive(breaker);
        Auction storage a = auctions[id];
        if (a.account == address(0)) revert AuctionNotActive(id);
        (bool done,) = _status(a);
        if (!done) revert AuctionNotDone(id);

        uint256 marketPrice = _marketPrice(a.collateral, oracle.price(address(debtAsset)));
        uint256 dust = vault.minDebt();
        uint256 scale = _collateralScale[a.collateral];
        uint256 lotValue = a.lot.collateralToDebtUp(marketPrice, scale, _debtScale);
        if (lotValue < dust) {
            // No keeper will pay gas for a dust lot: restarting it would hide its unpaid debt
            // forever. Give the dust to the fund and settle the rest as a shortfall now.
            emit DustLotWrittenOff(id, a.lot, a.tab);
            IERC20(a.collateral).safeTransfer(address(insuranceFund), a.lot);
            a.lot = 0;
            _end(id, a);
            return;
        }
        uint256 top = marketPrice.wMulUp(_configs[a.collateral].buf);
        (a.top, a.refPrice, a.startedAt) = (top, marketPrice, uint64(block.timestamp));
        // A sale of the fund's collateral may raise what the lot is worth at the new start price.
        if (a.account == address(insuranceFund)) a.tab = a.lot.collateralToDebtUp(top, scale, _debtScale);
        _revalue(a);
        emit Redo(id, top, a.tab, a.lot, msg.sender);
        // As for kicks, restarting an auction with a dust tab is allowed but never pays; redos
        // together never pay more than the auction's budget (half its penalty).
        if (a.tab >= dust && a.incentiveLeft > 0) {
            uint256 owed = Math.min(incentive(a.tab), a.incentiveLeft);
            a.incentiveLeft -= owed;
            _payIncentive(msg.sender, owed);
        }
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function getStatus(uint256 id) external view returns (bool needsRedo, uint256 price, uint256 lot, uint256 tab) {
        Auction storage a = auctions[id];
        if (a.account == address(0)) return (false, 0, 0, 0);
        (needsRedo, price) = _status(a);
        return (needsRedo, price, a.lot, a.tab);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function activeAuctions() external view returns (uint256[] memory) {
        return _active;
    }

    /// @inheritdoc IDutchAuctionLiquidator
    /// @dev tip + chip * tab, rounded down (the fund pays no more than owed).
    function incentive(uint256 tab) public view returns (uint256) {
        return tip + tab.wMulDown(chip); // down: the fund pays no more than owed
    }

    function auctionConfig(address collateral) external view returns (AuctionConfig memory) {
        return _configs[collateral];
    }

    // ------------------------------------------------------------------ governance

    /// @notice Set an asset's auction curve and parameters. Governor only.
    function setAuctionConfig(address collateral, AuctionConfig calldata config) external onlyRole(GOVERNOR_ROLE) {
        if (collateral == address(0) || config.curve == address(0)) revert ZeroAddress();
        _checkBounds("buf", config.buf, MIN_BUF, MAX_BUF);
        _checkBounds("tail", config.tail, MIN_TAIL, MAX_TAIL);
        _checkBounds("cusp", config.cusp, MIN_CUSP, MAX_CUSP);
        // A curve starts at its top price and never above it. (Any contract whose fallback returns
        // data would answer this call: what it answers must make sense as a curve's.)
        uint256 start = IAuctionCurve(config.curve).price(WAD_ONE, 0);
        if (start == 0 || start > WAD_ONE) revert InvalidCurve(config.curve);
        uint8 decimals = IERC20Metadata(collateral).decimals();
        _checkBounds("collateralDecimals", decimals, 0, 36);
        _collateralScale[collateral] = 10 ** decimals;
        _configs[collateral] = config;
        emit AuctionConfigSet(collateral, config.curve, config.buf, config.tail, config.cusp);
    }

    /// @notice Set the keeper reward: flat `tip` [debt decimals] plus `chip` [wad] of the tab. Governor only.
    function setIncentive(uint256 tip_, uint256 chip_) external onlyRole(GOVERNOR_ROLE) {
        _checkBounds("tip", tip_, 0, maxTip);
        _checkBounds("chip", chip_, 0, MAX_CHIP);
        (tip, chip) = (tip_, chip_);
        emit IncentiveSet(tip_, chip_);
    }

    /// @notice Set the breaker level. The governor may set any level; the guardian may only raise it.
    function setBreaker(uint8 level) external onlyGuardian {
        _checkBounds("breaker", level, 0, MAX_BREAKER);
        if (level <= breaker && !hasRole(GOVERNOR_ROLE, msg.sender)) revert BreakerNotRaised(breaker, level);
        breaker = level;
        emit BreakerSet(level, msg.sender);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Opens one auction for one lot.
    function _start(address account, Lot calldata lot, uint256 debtPrice, address kicker) internal returns (uint256 id) {
        AuctionConfig storage config = _configs[lot.collateral];
        if (config.curve == address(0)) revert AuctionNotConfigured(lot.collateral);
        uint256 refPrice = _marketPrice(lot.collateral, debtPrice);
        uint256 top = refPrice.wMulUp(config.buf); // up: start high

        id = ++kicks;
        Auction storage a = auctions[id];
        (a.account, a.collateral, a.startedAt) = (account, lot.collateral, uint64(block.timestamp));
        (a.lot, a.tab, a.debt, a.top, a.refPrice) = (lot.amount, lot.tab, lot.debt, top, refPrice);
        a.incentiveLeft = (lot.tab - lot.debt) / 2; // down: the fund pays no more than owed
        a.loss = _lossOf(a);
        expectedLoss += a.loss;
        _active.push(id);
        _activePosition[id] = _active.length;
        liveTab[lot.collateral] += lot.tab;
        emit Kick(id, account, lot.collateral, lot.amount, lot.tab, lot.debt, top, kicker);
    }

    /// @dev How much collateral a take buys and what it pays: never more than the tab needs, and
    /// never a tab left below dust unless the lot is sold out (then it sells less instead).
    function _slice(uint256 id, Auction storage a, uint256 maxCollateral, uint256 price)
        internal
        view
        returns (uint256 amount, uint256 owe)
    {
        uint256 scale = _collateralScale[a.collateral];
        amount = Math.min(a.lot, maxCollateral);
        owe = amount.collateralToDebtUp(price, scale, _debtScale);
        if (owe > a.tab) {
            owe = a.tab;
            amount = owe.debtToCollateralDown(price, scale, _debtScale);
        } else if (owe < a.tab && amount < a.lot) {
            uint256 dust = vault.minDebt();
            if (a.tab - owe < dust) {
                if (a.tab <= dust) revert TakeWouldLeaveDust(a.tab - owe, dust);
                owe = a.tab - dust;
                amount = owe.debtToCollateralDown(price, scale, _debtScale);
            }
        }
        if (amount == 0 || owe == 0) revert TakeTooSmall(id);
    }

    /// @dev Books a take of `amount` of collateral for `owe` against the auction: debt is repaid first,
    /// then the penalty. Returns the debt repaid.
    function _sell(Auction storage a, uint256 amount, uint256 owe) internal returns (uint256 debtRepaid) {
        debtRepaid = Math.min(owe, a.debt);
        a.lot -= amount;
        a.tab -= owe;
        a.debt -= debtRepaid;
        if (a.account != address(insuranceFund)) liveTab[a.collateral] -= owe;
        _revalue(a);
    }

    /// @dev Closes an auction whose tab is raised (leftover collateral back to the account) or
    /// whose collateral is sold out (unraised debt to the Vault as a shortfall).
    function _end(uint256 id, Auction storage a) internal {
        address account = a.account;
        address collateral = a.collateral;
        uint256 leftover = a.lot;
        uint256 shortfall = a.tab == 0 ? 0 : a.debt;
        bool sale = account == address(insuranceFund);
        if (!sale) liveTab[collateral] -= a.tab;
        if (a.loss > 0) {
            expectedLoss -= a.loss; // from here the shortfall itself is settled
            emit ExpectedLossUpdated(expectedLoss);
        }

        uint256 position = _activePosition[id];
        uint256 lastId = _active[_active.length - 1];
        _active[position - 1] = lastId;
        _activePosition[lastId] = position;
        _active.pop();
        delete _activePosition[id];
        delete auctions[id];

        if (leftover > 0 && sale) {
            IERC20(collateral).safeTransfer(address(insuranceFund), leftover);
        } else if (leftover > 0) {
            IERC20(collateral).safeTransfer(address(vault), leftover);
            vault.returnCollateral(account, collateral, leftover);
        }
        if (shortfall > 0) vault.settleShortfall(account, shortfall);
        emit AuctionEnded(id, account, leftover, shortfall);
    }

    /// @dev Current price and whether the auction is too old or too cheap to be taken.
    function _status(Auction storage a) internal view returns (bool done, uint256 price) {
        // Seen from a block dated before the auction started (a view on an earlier block), no time
        // has passed: it shows its start price rather than a panic.
        uint256 elapsed = block.timestamp > a.startedAt ? block.timestamp - a.startedAt : 0;
        AuctionConfig storage config = _configs[a.collateral];
        price = IAuctionCurve(config.curve).price(a.top, elapsed);
        done = elapsed > config.tail || price.wDivDown(a.top) < config.cusp;
    }

    /// @dev Debt beyond what the lot is worth at the auction's reference price (rounded down, so the
    /// loss is never understated).
    function _lossOf(Auction storage a) internal view returns (uint256) {
        uint256 worth = a.lot.collateralToDebtDown(a.refPrice, _collateralScale[a.collateral], _debtScale);
        return a.debt > worth ? a.debt - worth : 0;
    }

    /// @dev Brings the auction's certain loss, and the sum of them, up to date after a change.
    function _revalue(Auction storage a) internal {
        uint256 loss = _lossOf(a);
        if (loss == a.loss) return;
        expectedLoss = expectedLoss - a.loss + loss;
        a.loss = loss;
        emit ExpectedLossUpdated(expectedLoss);
    }

    /// @dev [wad debt tokens per whole collateral token] from the oracle's USD prices, rounded up.
    function _marketPrice(address collateral, uint256 debtPrice) internal view returns (uint256) {
        return oracle.price(collateral).wDivUp(debtPrice);
    }

    function _payIncentive(address keeper, uint256 owed) internal {
        if (owed == 0) return;
        uint256 paid = insuranceFund.payIncentive(keeper, owed);
        emit KeeperIncentive(keeper, owed, paid);
    }
}
