// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IVault} from "./interfaces/IVault.sol";
import {ICommonErrors} from "./interfaces/ICommonErrors.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {VaultState} from "./base/VaultState.sol";
import {WadMath} from "./libraries/WadMath.sol";
import {TokenMath} from "./libraries/TokenMath.sol";
import {StaticCalls} from "./libraries/StaticCalls.sol";
import {KickMath} from "./libraries/KickMath.sol";
import {Bounds} from "./libraries/Bounds.sol";

/// @title The Vault's kick, and the governance of what it reads: the Vault's own code, kept in
/// a separate contract only because the Vault's bytecode would not fit the size limit with it.
/// @notice It holds no state and no tokens. Deployed first, then given to the Vault's constructor
/// (which checks `builtFor`), it is called only by delegatecall: every function here runs in the
/// Vault's storage (shared through VaultState), with the Vault's balances, under the Vault's lock
/// and after the Vault's role checks. Called directly it refuses (`DirectCall`).
contract VaultLiquidation is VaultState {
    using SafeERC20 for IERC20;
    using WadMath for uint256;
    using TokenMath for uint256;

    address private immutable _self = address(this);
    /// @dev A collateral's smallest unit is worth at most dust / this (`_checkFine`).
    uint256 private constant UNITS_PER_DUST = 1000;
    /// @dev [gas] A debt worth less than this much gas at the base fee is kicked whole: in
    /// congestion each lot of a partial kick would pay its own kick and sale gas.
    uint256 private constant WHOLE_KICK_GAS = 20_000_000;

    /// @dev This contract's functions only run by delegatecall from the Vault that created it.
    error DirectCall();

    modifier onlyDelegated() {
        if (address(this) == _self) revert DirectCall();
        _;
    }

    constructor(IERC20Metadata debtAsset, IOracleAdapter oracle_, IInsuranceFund fund_)
        VaultState(debtAsset, oracle_, fund_)
    {}

    /// @notice Whether this module was built for a Vault of this debt token, oracle and fund (its
    /// immutables are read in the Vault's place, so they must be the Vault's).
    function builtFor(address debtToken, address oracle_, address fund_) external view returns (bool) {
        return debtToken == address(_debtToken) && oracle_ == address(_oracle) && fund_ == address(_fund);
    }

    /// @notice IVault.liquidate, run in the Vault's storage.
    /// @dev The kick, hop by hop:
    ///  1. accrue interest; value the account once (each price read once: the oracle's fast path);
    ///  2. refuse unless the health factor is below 1;
    ///  3. priced collateral worth less than dust: realise the whole debt (`_realise`), done;
    ///  4. plan each collateral's part (`_planKick`): auctioned, or left in the account;
    ///  5. move the debt out of the account (exactly neutral for lenders' assets) and the parts'
    ///     collateral out of its balance (it stays here, set aside for the auctions);
    ///  6. book the auctions (the account's count, their collaterals' running sums);
    ///  7. one call to the liquidator opens the auctions and credits the kicker;
    ///  8. book what lenders' assets leave out for the live auctions now.
    /// The breaker: the liquidator refuses to open auctions at level 1 or above (every kick opens
    /// one); the dust branch asks it first.
    function liquidate(address account) external onlyDelegated returns (uint256[] memory ids) {
        uint256 gasStart = gasleft(); // the kicker's gas is priced from here (see the liquidator's kick)
        IDutchAuctionLiquidator liq = liquidator;
        if (address(liq) == address(0)) revert IVault.LiquidatorNotSet();
        _accrue();
        uint256 scaledDebt = _accounts[account].scaledDebt;
        if (scaledDebt == 0) revert IVault.NotLiquidatable(account, type(uint256).max);
        Position memory p = _position(account, _totals.borrowIndex);
        uint256 hf = p.liquidationValue.wDivDown(p.debtValue);
        if (hf >= WadMath.WAD) revert IVault.NotLiquidatable(account, hf);
        uint256[] memory prices = _newPrices();
        uint256 lossBefore = _lenderLoss(prices);

        Dust memory d = _dust;
        uint256 dustValue = uint256(d.minDebt).toValueUp(p.debtPrice, _debtScale);
        if (p.collateralValue < dustValue) {
            _checkBreaker(liq);
            uint256 badDebt = _realise(account, p, hf, scaledDebt);
            _coverChanged(prices); // the fund covered what it could
            _closeBooks(0, badDebt, lossBefore, prices);
            return ids;
        }
        ids = _kick(account, scaledDebt, hf, p, _planKick(p, hf, d, dustValue), liq);
        // The debt kicked is valued in its auctions now; what stays is valued against what stays.
        if (_accounts[account].atRisk > 0) _valueAtRisk(account);
        _coverChanged(prices); // the kicker's credit: what the fund owes is no cover
        _closeBooks(0, 0, lossBefore, prices);
        liq.payKickGas(gasStart - gasleft()); // its fall in the fund's cover reaches lenders at once
    }

    /// @dev Steps 5 to 7 of `liquidate`.
    function _kick(
        address account,
        uint256 scaledDebt,
        uint256 hf,
        Position memory p,
        KickPlan memory plan,
        IDutchAuctionLiquidator liq
    ) internal returns (uint256[] memory) {
        uint256 covered = _removeDebt(account, scaledDebt, plan);
        emit IVault.Liquidated(account, msg.sender, covered, hf, _accounts[account].scaledDebt);
        IVault.Lot[] memory lots = _setAside(account, p, plan, liq);
        _accounts[account].auctions += uint32(lots.length);
        return liq.kick(account, lots, msg.sender);
    }

    /// @notice IVault.writeOffLot, run in the Vault's storage: the books first, then the lot to the fund.
    function writeOffLot(address account, uint8 index, uint256 lot, uint256 debt, uint256 tabReleased, uint256 refPrice)
        external
        onlyDelegated
    {
        uint256[] memory prices = _newPrices();
        uint256 lossBefore = _lenderLoss(prices);
        address token = _tokens[index];
        Collateral storage c = _collaterals[token];
        (c.total, c.liveTab) = (c.total - uint128(lot), c.liveTab - uint128(tabReleased));
        (uint256 badDebt, uint256 extra) = (0, 0);
        if (account != address(_fund)) {
            _unbookAuction(c, index, lot, debt, refPrice);
            _totals.auctionDebt -= uint128(debt);
            (badDebt, extra) = _endAuction(account, debt);
            _coverChanged(prices);
        }
        _closeBooks(extra, badDebt, lossBefore, prices);
        IERC20(token).safeTransfer(address(_fund), lot);
    }

    /// @dev What one kick does with each collateral of the account (by index).
    struct KickPlan {
        uint256[] shares; // [debt decimals] the debt the collateral carries if all of it goes
        uint256[] debts; // [debt decimals] the debt leaving with this kick's part of it (zero: it stays)
        uint256 covered; // [debt decimals] sum of debts, and `folded`
        uint256 folded; // [debt decimals] the debt of parts worth less than dust, carried by the largest auction
        uint256 lots; // how many auctions
        uint256 largest; // index of the auctioned part carrying the most debt (its count if none)
        uint256 largestDebt; // [debt decimals] what that part's auction carries: its debt and `folded`,
        // give or take the unit or two by which the borrowed total actually fell (`_removeDebt`)
    }

    /// @dev Running state of `_planKick` across collateral.
    struct Split {
        uint256 target; // [debt decimals] the debt the tier covers
        uint256 debtLeft; // [debt decimals] of the debt, not yet shared out by value
        uint256 valueLeft; // [wad] of the priced collateral, not yet shared out
        uint256 dustValue; // [wad] minDebt's value
        uint256 minDebt; // [debt decimals]
        address capped; // the first collateral left out for want of room
        uint256 dustDebt; // [debt decimals] the debt of parts worth less than dust
        uint256[] dustParts; // [debt decimals] by index: a part worth less than dust, and its debt
    }

    /// @dev The kick, collateral by collateral:
    /// 1. the tier sets the debt to cover (KickMath.target);
    /// 2. each priced collateral carries its share of that debt: by value when every held
    ///    collateral has a price; when one has none, at most what the collateral supports at its
    ///    liquidation threshold, so the rest of the debt stays with the unpriced one (which counts
    ///    for nothing and is never moved: it can neither shield the account nor be taken at no value);
    /// 3. a part worth less than dust is not sold while another part is (no keeper would pay gas to
    ///    take it): it stays in the account, and its debt too, unless that would leave the account a
    ///    debt below dust, when the debt joins the largest auction instead (never written off: the
    ///    account stays liable for it). When no part is worth dust, they are all sold;
    /// 4. a part whose auction would not fit its room (`lotCap`, and `liveTabCap` less the live
    ///    tab) is cut to the room, or stays in the account when the room is below dust;
    /// 5. a kick that would leave a debt below dust leaves exactly dust instead.
    function _planKick(Position memory p, uint256 hf, Dust memory d, uint256 dustValue)
        internal
        view
        returns (KickPlan memory plan)
    {
        uint256 n = p.values.length;
        (plan.shares, plan.debts, plan.largest) = (new uint256[](n), new uint256[](n), n);
        uint256 small = Math.max(d.smallDebt, liquidator.gasValue(WHOLE_KICK_GAS));
        uint256 target = KickMath.target(p.debt, hf, small, d.deepHealth, d.closeFactor, d.minDebt);
        Split memory split =
            Split(target, p.debt, p.collateralValue, dustValue, d.minDebt, address(0), 0, new uint256[](n));
        for (uint256 i; i < n; ++i) {
            if (p.values[i] > 0) _planPart(plan, split, p, i);
        }
        if (split.dustDebt > 0) _planDust(plan, split, p.debt);

        uint256 largest = plan.largest;
        if (plan.covered < p.debt && p.debt - plan.covered < d.minDebt && largest < n) {
            uint256 cut = d.minDebt - (p.debt - plan.covered);
            if (plan.debts[largest] > cut) (plan.debts[largest], plan.covered) = (plan.debts[largest] - cut, plan.covered - cut);
        }
        address capped = split.capped;
        if (plan.covered == 0 && capped != address(0)) {
            Collateral storage c = _collaterals[capped];
            if (c.liveTab >= c.liveTabCap) revert IVault.AuctionCapReached(capped, c.liveTab, c.liveTabCap);
        }
        bool dustLeft = plan.covered < p.debt && p.debt - plan.covered < d.minDebt;
        if (plan.lots == 0 || dustLeft || (plan.covered < d.minDebt && plan.covered != p.debt)) {
            revert IVault.KickBelowDust(plan.covered, d.minDebt);
        }
    }

    /// @dev Steps 2 to 4 of `_planKick` for collateral `i` (priced and held).
    function _planPart(KickPlan memory plan, Split memory split, Position memory p, uint256 i) internal view {
        uint256 value = p.values[i];
        Collateral storage c = _collaterals[_tokens[i]];
        uint256 share;
        if (p.unpriced == address(0)) {
            share = KickMath.shareByValue(split.debtLeft, value, split.valueLeft);
            (split.debtLeft, split.valueLeft) = (split.debtLeft - share, split.valueLeft - value);
        } else {
            share = value.wMulDown(c.liquidationThreshold).toAmountDown(p.debtPrice, _debtScale);
        }
        uint256 want = share.mulDivDown(split.target, p.debt);
        if (want == 0) return; // its part rounds to nothing: it stays in the account
        plan.shares[i] = share;

        if (value.mulDivDown(want, share) < split.dustValue) {
            (split.dustParts[i], split.dustDebt) = (want, split.dustDebt + want);
            return;
        }
        uint256 room = c.liveTab >= c.liveTabCap ? 0 : Math.min(c.lotCap, c.liveTabCap - c.liveTab);
        if (KickMath.tabOf(want, c.penalty) > room) {
            if (room < split.minDebt) {
                if (split.capped == address(0)) split.capped = _tokens[i];
                return; // no room for an auction above dust: this part waits for a later kick
            }
            want = KickMath.debtWithin(room, c.penalty);
        }
        _addLot(plan, i, want, p.values.length);
    }

    /// @dev Step 3 of `_planKick` for the parts worth less than dust, once the others are planned.
    function _planDust(KickPlan memory plan, Split memory split, uint256 debt) internal pure {
        uint256 n = split.dustParts.length;
        if (plan.lots == 0 && split.capped == address(0)) {
            for (uint256 i; i < n; ++i) {
                if (split.dustParts[i] > 0) _addLot(plan, i, split.dustParts[i], n);
            }
        } else if (plan.lots > 0 && debt - plan.covered < split.minDebt) {
            (plan.folded, plan.covered) = (split.dustDebt, plan.covered + split.dustDebt);
        }
    }

    /// @dev Collateral `i`'s part, carrying `want`, goes to an auction.
    function _addLot(KickPlan memory plan, uint256 i, uint256 want, uint256 n) internal pure {
        plan.lots += 1;
        if (plan.largest == n || want > plan.debts[plan.largest]) plan.largest = i;
        (plan.debts[i], plan.covered) = (want, plan.covered + want);
    }

    /// @dev Takes the planned debt out of the account. Scaled debt is removed rounded down (the
    /// account keeps the rounding; all of it when the whole debt goes), and the debt that moves
    /// into auctions is exactly what the borrowed total then falls by, so lenders' assets neither
    /// rise nor fall by a unit in a kick: the largest auction absorbs the difference (a unit or two)
    /// from the plan. Returns the debt covered.
    function _removeDebt(address account, uint256 scaledDebt, KickPlan memory plan) internal returns (uint256 covered) {
        uint256 index = _totals.borrowIndex;
        uint256 scaled = plan.covered == scaledDebt.wMulUp(index) ? scaledDebt : plan.covered.wDivDown(index);
        uint256 total = _totals.totalScaledDebt;
        covered = total.wMulDown(index) - (total - scaled).wMulDown(index);
        _accounts[account].scaledDebt = uint128(scaledDebt - scaled);
        // The collateral set aside follows the plan; only the debt its auction carries moves.
        plan.largestDebt = plan.debts[plan.largest] + plan.folded + covered - plan.covered;
        (_totals.totalScaledDebt, _totals.auctionDebt) = (uint128(total - scaled), _totals.auctionDebt + uint128(covered));
    }

    /// @dev Sets each planned part aside: out of the account's balance, into an auction's lot
    /// (the collateral stays here), booked in its collateral's running sums. Returns the lots.
    function _setAside(address account, Position memory p, KickPlan memory plan, IDutchAuctionLiquidator liq)
        internal
        returns (IVault.Lot[] memory lots)
    {
        lots = new IVault.Lot[](plan.lots);
        uint256 k = 0;
        for (uint256 i; i < plan.debts.length; ++i) {
            if (plan.debts[i] > 0) lots[k++] = _setAsidePart(account, p, plan, i, liq);
        }
    }

    /// @dev One part of `_setAside`: the lot it opens.
    function _setAsidePart(address account, Position memory p, KickPlan memory plan, uint256 i, IDutchAuctionLiquidator liq)
        internal
        returns (IVault.Lot memory)
    {
        address token = _tokens[i];
        uint256 amount = KickMath.partOf(p.held[i], plan.debts[i], plan.shares[i]);
        uint256 left = p.held[i] - amount;
        _setHeld(account, i, left);
        emit IVault.CollateralSeized(account, token, address(liq), amount, left);
        uint256 debt = i == plan.largest ? plan.largestDebt : plan.debts[i];
        return _openLot(token, i, amount, debt, p.prices[i].wDivUp(p.debtPrice));
    }

    /// @dev A lot of `amount` carrying `debt`: its tab (added to the collateral's live tab), booked
    /// in the collateral's running sums; `refPrice` [wad debt tokens per whole collateral token]
    /// is the oracle's, for its start price.
    function _openLot(address token, uint256 i, uint256 amount, uint256 debt, uint256 refPrice)
        internal
        returns (IVault.Lot memory)
    {
        Collateral storage c = _collaterals[token];
        uint256 tab = KickMath.tabOf(debt, c.penalty);
        c.liveTab += uint128(tab);
        _bookAuction(c, i, amount, debt, refPrice);
        return IVault.Lot(token, uint8(i), amount, tab, debt, refPrice);
    }

    /// @dev An account whose priced collateral is worth less than dust: its whole debt is settled
    /// as a shortfall and its collateral goes to the fund. Not while it holds collateral without a
    /// price: that might be worth the debt, and it would be taken at no value.
    function _realise(address account, Position memory p, uint256 hf, uint256 scaledDebt) internal returns (uint256) {
        if (p.unpriced != address(0)) revert IOracleAdapter.PriceUnavailable(p.unpriced, p.unpricedStatus);
        _checkNoAuctions(account);
        uint256 total = _totals.totalScaledDebt;
        uint256 index = _totals.borrowIndex;
        uint256 debt = total.wMulDown(index) - (total - scaledDebt).wMulDown(index); // what borrowed falls by
        _accounts[account].scaledDebt = 0;
        _totals.totalScaledDebt = uint128(total - scaledDebt);
        _setAtRisk(account, 0);
        emit IVault.Liquidated(account, msg.sender, debt, hf, 0);
        for (uint256 i; i < p.held.length; ++i) {
            if (p.held[i] == 0) continue;
            _setHeld(account, i, 0);
            _collaterals[_tokens[i]].total -= uint128(p.held[i]);
        }
        uint256 badDebt = _settleShortfall(account, debt);
        for (uint256 i; i < p.held.length; ++i) {
            if (p.held[i] == 0) continue;
            address token = _tokens[i];
            IERC20(token).safeTransfer(address(_fund), p.held[i]);
            emit IVault.CollateralSeized(account, token, address(_fund), p.held[i], 0);
        }
        return badDebt;
    }

    function _checkBreaker(IDutchAuctionLiquidator liq) internal view {
        uint8 level = liq.breaker();
        if (level != 0) revert IDutchAuctionLiquidator.BreakerActive(level);
    }


    /// @notice IVault.setCollateralParams, run in the Vault's storage after its role check. The
    /// oracle must already price the token.
    function setCollateralParams(address collateral, IVault.CollateralParams calldata params) external onlyDelegated {
        if (collateral == address(0) || collateral == address(_debtToken)) revert IVault.InvalidCollateral(collateral);
        _oracle.peek(collateral); // reverts AssetNotConfigured for a token the oracle cannot price
        Bounds.check("liquidationThreshold", params.liquidationThreshold, MIN_LIQUIDATION_THRESHOLD, MAX_LIQUIDATION_THRESHOLD);
        Bounds.check("maxLtv", params.maxLtv, 0, params.liquidationThreshold);
        // The collateral seized at health factor 1 must still cover debt plus penalty.
        uint256 maxPenalty = Math.min(MAX_PENALTY, WadMath.WAD.wDivDown(params.liquidationThreshold) - WadMath.WAD);
        Bounds.check("penalty", params.penalty, MIN_PENALTY, maxPenalty);
        Bounds.check("supplyCap", params.supplyCap, 0, type(uint128).max);
        Bounds.check("lotCap", params.lotCap, 1, type(uint128).max);
        Bounds.check("liveTabCap", params.liveTabCap, params.lotCap, type(uint128).max);

        Collateral storage c = _collaterals[collateral];
        if (!c.listed) {
            if (_count == MAX_COLLATERALS) revert IVault.TooManyCollateralTokens(MAX_COLLATERALS);
            (bool answered, uint256 decimals) = StaticCalls.tryDecimals(collateral);
            if (!answered) revert IVault.InvalidCollateral(collateral); // not a token
            Bounds.check("collateralDecimals", decimals, 0, 36);
            (c.index, c.decimals, c.listed) = (_count, uint8(decimals), true);
            _tokens[_count++] = collateral;
            _checkFine(collateral, decimals, _dust.minDebt);
        }
        (c.maxLtv, c.liquidationThreshold, c.penalty) =
            (uint64(params.maxLtv), uint64(params.liquidationThreshold), uint64(params.penalty));
        (c.supplyCap, c.lotCap, c.liveTabCap) = (uint128(params.supplyCap), uint128(params.lotCap), uint128(params.liveTabCap));
        emit IVault.CollateralConfigSet(collateral, params);
    }

    /// @notice The Vault's deposit or mint of `shares` for `assets`, priced against the least live
    /// auctions can lose, above what those shares are worth on the way out: the lenders' gain
    /// (what the shares already out would now be worth, beyond `exitBefore` shared among `supply`)
    /// is locked as income, like any other rise. Run in the Vault's storage under its lock.
    function lockEntrySpread(uint256 exitBefore, uint256 supply, uint256 assets, uint256 shares) external onlyDelegated {
        uint256 offset = 10 ** 6; // the Vault's virtual shares (ERC4626 _decimalsOffset)
        uint256 atOldPrice = Math.mulDiv(exitBefore + 1, supply + shares + offset, supply + offset);
        uint256 rise = exitBefore + assets + 1 > atOldPrice ? exitBefore + assets + 1 - atOldPrice : 0;
        if (rise > 1) _lock(rise); // a unit of rounding is not income
    }

    /// @notice IVault.repay, run in the Vault's storage under its lock.
    function repay(uint256 amount, address onBehalf) external onlyDelegated returns (uint256 repaid) {
        if (amount == 0) revert ICommonErrors.ZeroAmount();
        _accrue();
        Account storage a = _accounts[onBehalf];
        uint256 scaledDebt = a.scaledDebt;
        if (scaledDebt == 0) revert IVault.NoDebt(onBehalf);
        uint256 index = _totals.borrowIndex;
        uint256 debt = scaledDebt.wMulUp(index);
        uint256 scaledRepaid;
        if (amount >= debt) {
            (repaid, scaledRepaid) = (debt, scaledDebt);
        } else {
            // Rounded down: a partial repayment never clears more debt than it pays.
            (repaid, scaledRepaid) = (amount, amount.wDivDown(index));
            uint256 left = (scaledDebt - scaledRepaid).wMulUp(index);
            uint256 dust = _dust.minDebt;
            if (left < dust) revert IVault.DebtBelowMinimum(left, dust);
        }
        uint256 scaledLeft = scaledDebt - scaledRepaid;
        a.scaledDebt = uint128(scaledLeft);
        _totals.totalScaledDebt -= uint128(scaledRepaid);
        _addCash(repaid);
        uint256 atRisk = a.atRisk;
        if (atRisk > 0) _setAtRisk(onBehalf, Math.min(atRisk, scaledLeft.wMulUp(index))); // at most what is left
        _debtToken.safeTransferFrom(msg.sender, address(this), repaid);
        _updateRate();
        emit IVault.Repaid(onBehalf, msg.sender, repaid, scaledLeft);
    }

    /// @notice IVault.refreshAtRisk, run in the Vault's storage under its lock. A smaller figure
    /// waits, as any smaller loss, for the next step to lock it.
    function refreshAtRisk(address account) external onlyDelegated {
        if (_accounts[account].atRisk == 0) return;
        _accrue();
        _valueAtRisk(account);
    }

    /// @notice IVault.withdrawCollateral, run in the Vault's storage under its lock.
    function withdrawCollateral(address collateral, uint256 amount, address onBehalf, address receiver)
        external
        onlyDelegated
    {
        if (amount == 0) revert ICommonErrors.ZeroAmount();
        if (receiver == address(0)) revert ICommonErrors.ZeroAddress();
        _checkAuthorized(onBehalf);
        _checkNoAuctions(onBehalf);
        Collateral storage c = _collaterals[collateral];
        uint256 held = c.listed ? _collateralOf(onBehalf, c.index) : 0;
        if (amount > held) revert IVault.InsufficientCollateralBalance(collateral, amount, held);
        _accrue();

        _setHeld(onBehalf, c.index, held - amount);
        c.total -= uint128(amount);
        _checkBorrowLimit(onBehalf);
        _setAtRisk(onBehalf, 0); // within its borrow limit, its collateral covers its debt
        IERC20(collateral).safeTransfer(receiver, amount);
        emit IVault.CollateralWithdrawn(onBehalf, collateral, receiver, amount, held - amount);
    }

    /// @notice IVault.accrueInterest, run in the Vault's storage under its lock: accrues, and
    /// books lenders' loss as it is now (`_sync`).
    function accrueInterest() external onlyDelegated {
        _accrue();
        _sync();
        _updateRate();
    }

    /// @notice Vault.setLiquidator, run in the Vault's storage after its role check: once.
    function setLiquidator(IDutchAuctionLiquidator liquidator_) external onlyDelegated {
        if (address(liquidator) != address(0)) revert IVault.LiquidatorAlreadySet(address(liquidator));
        if (address(liquidator_) == address(0)) revert ICommonErrors.ZeroAddress();
        liquidator = liquidator_;
        liquidator_.setDust(_dust.minDebt);
        emit IVault.LiquidatorSet(address(liquidator_));
    }

    /// @notice Vault.setRateModel, run in the Vault's storage after its role check.
    function setRateModel(IVault.RateModel calldata model) external onlyDelegated {
        Bounds.check("baseRate", model.baseRate, 0, MAX_RATE);
        Bounds.check("slope1", model.slope1, 0, MAX_RATE);
        Bounds.check("slope2", model.slope2, 0, MAX_RATE);
        Bounds.check("kink", model.kink, MIN_KINK, MAX_KINK);
        _accrue();
        _rates = PackedRates(uint64(model.baseRate), uint64(model.slope1), uint64(model.slope2), uint64(model.kink));
        _updateRate();
        emit IVault.RateModelSet(model);
    }

    /// @notice Vault.setReserveFactor, run in the Vault's storage after its role check.
    function setReserveFactor(uint256 reserveFactor_) external onlyDelegated {
        Bounds.check("reserveFactor", reserveFactor_, 0, MAX_RESERVE_FACTOR);
        _accrue();
        reserveFactor = uint64(reserveFactor_);
        emit IVault.ReserveFactorSet(reserveFactor_);
    }

    /// @notice IVault.collectReserves, run in the Vault's storage under its lock.
    function collectReserves() external onlyDelegated returns (uint256 amount) {
        _accrue();
        amount = Math.min(_totals.reserves, _cash());
        if (amount == 0) revert ICommonErrors.ZeroAmount();
        _totals.reserves -= uint96(amount);
        _subCash(amount);
        _debtToken.safeTransfer(address(_fund), amount);
        _updateRate();
        emit IVault.ReservesCollected(amount);
    }

    /// @notice IVault.skim, run in the Vault's storage under its lock.
    function skim() external onlyDelegated returns (uint256 amount) {
        uint256 balance = _debtToken.balanceOf(address(this));
        amount = balance > _cash() ? balance - _cash() : 0;
        if (amount == 0) revert ICommonErrors.ZeroAmount();
        _addCash(amount);
        _lock(amount);
        emit IVault.Skimmed(amount);
    }

    /// @notice IVault.receiveSale, run in the Vault's storage under its lock, after its liquidator check.
    function receiveSale(uint8 index, uint256 amount) external onlyDelegated returns (uint256 received) {
        IERC20 token = IERC20(_tokens[index]);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(address(_fund), address(this), amount);
        received = token.balanceOf(address(this)) - before;
        _collaterals[address(token)].total += uint128(received);
    }

    /// @notice IVault.setLiquidationConfig, run in the Vault's storage after its role check. The
    /// liquidator keeps a copy of dust for its take rule.
    function setLiquidationConfig(IVault.LiquidationConfig calldata config) external onlyDelegated {
        uint256 maxDust = 1e6 * _debtScale; // a million whole tokens
        Bounds.check("minDebt", config.minDebt, 1, maxDust);
        Bounds.check("smallDebt", config.smallDebt, config.minDebt, 1e3 * maxDust);
        Bounds.check("deepHealth", config.deepHealth, MIN_DEEP_HEALTH, WadMath.WAD);
        Bounds.check("closeFactor", config.closeFactor, MIN_CLOSE_FACTOR, WadMath.WAD);
        Bounds.check("penaltyFundShare", config.penaltyFundShare, 0, WadMath.WAD);
        _dust = Dust(
            uint128(config.minDebt),
            uint128(config.smallDebt),
            uint64(config.deepHealth),
            uint64(config.closeFactor),
            uint64(config.penaltyFundShare)
        );
        if (address(liquidator) != address(0)) liquidator.setDust(config.minDebt);
        for (uint256 i; i < _count; ++i) {
            _checkFine(_tokens[i], _collaterals[_tokens[i]].decimals, config.minDebt);
        }
        emit IVault.LiquidationConfigSet(config);
    }

    /// @dev A collateral's smallest unit must be worth at most a thousandth of dust
    /// (`CoarseCollateral` otherwise): a take buys whole units, and a coarser token would leave
    /// tabs no unit is small enough to pay, or make takers pay far more than they get. Checked at
    /// listing and whenever dust changes, at the oracle's (or the feeds' last) prices; a token a
    /// thousandfold more valuable since is the governor's to delist.
    function _checkFine(address collateral, uint256 decimals, uint256 minDebt) internal view {
        if (minDebt == 0) return; // no dust yet: checked when it is set
        uint256 price = _valuationPrice(collateral);
        uint256 debtPrice = _valuationPrice(address(_debtToken));
        if (price == 0 || debtPrice == 0) revert IOracleAdapter.PriceUnavailable(collateral, IOracleAdapter.Status.Stale);
        uint256 unitValue = Math.ceilDiv(price, 10 ** decimals); // [wad USD] one unit, rounded up
        uint256 maxUnitValue = minDebt.toValueDown(debtPrice, _debtScale) / UNITS_PER_DUST;
        if (unitValue > maxUnitValue) revert IVault.CoarseCollateral(collateral, unitValue, maxUnitValue);
    }
}
