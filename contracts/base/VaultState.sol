// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IVault} from "../interfaces/IVault.sol";
import {ICommonErrors} from "../interfaces/ICommonErrors.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IDutchAuctionLiquidator} from "../interfaces/IDutchAuctionLiquidator.sol";
import {InterestAccrual} from "./InterestAccrual.sol";
import {WadMath} from "../libraries/WadMath.sol";
import {TokenMath} from "../libraries/TokenMath.sol";
import {KickMath} from "../libraries/KickMath.sol";
import {LossBound} from "../libraries/LossBound.sol";

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
    /// @notice [seconds] Any rise in lenders' assets other than interest reaches the share price
    /// over at least this long (to the next UNLOCK_STEP), never within its own transaction.
    uint256 public constant INCOME_UNLOCK = 1 days;
    /// @notice [seconds] Income locked at one time finishes unlocking on the first multiple of
    /// this after INCOME_UNLOCK has passed: each lock keeps its own schedule, tracked per step.
    uint256 public constant UNLOCK_STEP = 1 hours;
    uint256 internal constant RATE_SCALE = 1e18; // unlock rates are [debt decimals * 1e18 per second]
    uint256 internal constant UNLOCK_RING = 32; // > INCOME_UNLOCK / UNLOCK_STEP + 2

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
        // [1e9] the lowest price an auction of it sells at, as a share of today's oracle price (the
        // liquidator's floor, buf * cusp, rounded down; it pushes it with each auction config):
        // lenders value live lots there, the worst sale an auction can make before its tail.
        uint32 floorShare;
        // Read by kicks.
        uint128 lotCap; // [debt decimals] largest tab of one auction
        uint128 liveTabCap; // [debt decimals] largest total tab of live auctions
        // Written by supply, withdraw, write-offs and takes.
        uint128 total; // [collateral decimals] held here for accounts and live auctions
        uint128 liveTab; // [debt decimals] total tab of live borrowers' auctions
        uint128 supplyCap; // [collateral decimals]
        // The live borrowers' auctions of it that carry debt, as lenders value them (LossBound):
        // written by kicks and takes, read whenever lenders' assets are.
        uint128 auctionLots; // [collateral decimals] sum of their lots
        uint128 partLots; // [collateral decimals] sum of their parts' lots (LossBound.parts)
        uint128 partDebt; // [debt decimals] sum of their parts' debts
        uint128 certainLoss; // [debt decimals] sum of their certain losses at their kicks' prices
        uint128 spread; // sum of LossBound.spreadOf over their parts (saturating)
    }

    /// @dev The LiquidationConfig, packed into two slots.
    struct Dust {
        uint128 minDebt; // [debt decimals]
        uint128 smallDebt; // [debt decimals]
        uint64 deepHealth; // [wad]
        uint64 closeFactor; // [wad]
        uint64 penaltyFundShare; // [wad]
    }

    /// @dev A borrower's account: its debt, and how many of its auctions are live (it stays liable
    /// for their debt until every one has ended). One slot, written by every kick anyway.
    struct Account {
        uint128 scaledDebt; // [debt decimals at index 1]
        uint32 auctions; // live auctions of its collateral
        // [debt decimals] its debt beyond what its collateral was worth when an auction last gave
        // debt back to it (until a kick, a repayment or a valuation clears it): lenders leave it out
        uint96 atRisk;
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
    mapping(address account => Account) internal _accounts;
    mapping(address owner => mapping(address operator => bool)) public isAuthorized;
    bool internal transient _locked; // one lock for every entry point, held across onTake
    // [debt decimals * RATE_SCALE per second] income unlocking now, plus one (never zero, so a lock
    // rewrites a used slot instead of creating one)
    uint256 internal _unlockRate;
    // [debt decimals * RATE_SCALE per second] plus one, by UNLOCK_STEP number modulo UNLOCK_RING:
    // what stops unlocking at that step. Every lock ends within a day and a step, so a ring of
    // slots serves; a step's slot is set back to one once the books pass it.
    uint256[UNLOCK_RING] internal _rateDrops;

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

    function _holdsCollateral(address account) internal view returns (bool) {
        uint256 n = _count;
        for (uint256 i; i < n; ++i) {
            if (_held[account][i] > 1) return true; // a used slot stores the balance plus one
        }
        return false;
    }

    function _checkAuthorized(address onBehalf) internal view {
        if (onBehalf == address(0)) revert ICommonErrors.ZeroAddress();
        if (msg.sender != onBehalf && !isAuthorized[onBehalf][msg.sender]) revert IVault.Unauthorized(onBehalf, msg.sender);
    }

    /// @dev Reverts unless the account's debt value is within its borrow limit (max LTV).
    function _checkBorrowLimit(address account) internal view {
        if (_accounts[account].scaledDebt == 0) return; // no debt, no price needed
        Position memory p = _position(account, _totals.borrowIndex);
        if (p.debtValue > p.borrowLimit) revert IVault.InsufficientCollateral(account, p.debtValue, p.borrowLimit);
    }

    /// @dev While any auction of the account's collateral is live, nothing may leave the account
    /// (no collateral, no new borrow): it stays liable for every auction's unpaid debt, and what it
    /// holds is what that debt will be kicked against again.
    function _checkNoAuctions(address account) internal view {
        uint256 live = _accounts[account].auctions;
        if (live > 0) revert IVault.AuctionsLive(account, live);
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
        p.debt = uint256(_accounts[account].scaledDebt).wMulUp(index);
        if (p.debt > 0) {
            p.debtPrice = _oracle.price(address(_debtToken));
            p.debtValue = p.debt.toValueUp(p.debtPrice, _debtScale);
        }
    }

    // ------------------------------------------------------------------ auctions' ends

    /// @dev An auction of `account`'s collateral ended owing `unpaid` (its lot sold out, or was
    /// written off as dust). The account stays liable for every auction of its own until they have
    /// all ended: while it has another live, or holds any collateral, the unpaid debt goes back onto
    /// it (even below dust: its next kick closes it whole), to be kicked again from what it has.
    /// When this was its last auction and it holds nothing, everything it still owes is realised at
    /// once (`_writeOff`). Returns the bad debt, and by how much borrowed debt rose beyond `unpaid`
    /// (the scaled debt is rounded up, in the protocol's favour: a unit at most).
    function _endAuction(address account, uint256 unpaid) internal returns (uint256 badDebt, uint256 extra) {
        Account storage a = _accounts[account];
        uint256 live = a.auctions - 1;
        a.auctions = uint32(live);
        if (live > 0 || _holdsCollateral(account)) {
            if (unpaid == 0) {
                if (a.atRisk > 0) _valueAtRisk(account); // a leftover came back: value it again
                return (0, 0);
            }
            _accrue(); // the debt joins the account at today's index
            uint256 index = _totals.borrowIndex;
            uint256 scaled = unpaid.wDivUp(index);
            uint256 scaledDebt = a.scaledDebt + scaled;
            uint256 total = _totals.totalScaledDebt;
            extra = (total + scaled).wMulDown(index) - total.wMulDown(index) - unpaid;
            (_totals.totalScaledDebt, a.scaledDebt) = (uint128(total + scaled), uint128(scaledDebt));
            emit IVault.DebtReturned(account, unpaid, scaledDebt);
            // What its collateral does not cover stays out of lenders' assets: moving the debt from
            // the auction to the account must not turn the auction's loss into income.
            _valueAtRisk(account);
            return (0, extra);
        }
        if (unpaid == 0 && a.scaledDebt == 0) return (0, 0);
        return (_writeOff(account, unpaid), 0);
    }

    /// @dev The account's debt at risk, valued now: what it owes beyond what its collateral is
    /// worth at the oracle's prices (rounded down; a collateral without an `Ok` price counts for
    /// nothing, as in a kick, and all of it without one for the debt token).
    function _valueAtRisk(address account) internal {
        (uint256 index,,) = _accrued();
        uint256 debt = uint256(_accounts[account].scaledDebt).wMulUp(index);
        (uint256 debtPrice, IOracleAdapter.Status status) = _oracle.peek(address(_debtToken));
        uint256 cover = 0;
        if (status == IOracleAdapter.Status.Ok) {
            uint256 n = _count;
            for (uint256 i; i < n && cover < debt; ++i) {
                uint256 amount = _collateralOf(account, i);
                if (amount == 0) continue;
                (uint256 price, IOracleAdapter.Status s) = _oracle.peek(_tokens[i]);
                if (s != IOracleAdapter.Status.Ok) continue;
                uint256 value = amount.toValueDown(price, 10 ** _collaterals[_tokens[i]].decimals);
                cover += value.toAmountDown(debtPrice, _debtScale);
            }
        }
        _setAtRisk(account, debt > cover ? debt - cover : 0);
    }

    /// @dev The account's debt at risk is now `amount` (and the sum of all of them with it).
    function _setAtRisk(address account, uint256 amount) internal {
        Account storage a = _accounts[account];
        uint256 before = a.atRisk;
        if (amount > type(uint96).max) amount = type(uint96).max;
        if (amount == before) return;
        a.atRisk = uint96(amount);
        _totals.atRisk = uint128(_totals.atRisk + amount - before);
    }

    /// @dev The account has nothing left to sell: its whole debt leaves borrowed debt, and with
    /// `more` (an auction's unpaid debt) it is settled as a shortfall. Returns the bad debt.
    function _writeOff(address account, uint256 more) internal returns (uint256) {
        _accrue();
        uint256 scaled = _accounts[account].scaledDebt;
        uint256 debt = 0;
        if (scaled > 0) {
            uint256 index = _totals.borrowIndex;
            uint256 total = _totals.totalScaledDebt;
            debt = total.wMulDown(index) - (total - scaled).wMulDown(index); // what borrowed falls by
            (_totals.totalScaledDebt, _accounts[account].scaledDebt) = (uint128(total - scaled), 0);
            emit IVault.DebtRealized(account, debt, 0);
        }
        _setAtRisk(account, 0);
        return _settleShortfall(account, debt + more);
    }

    /// @dev Reserves not yet collected cover a shortfall first (they are the fund's), then the
    /// InsuranceFund's balance; the rest leaves lenders' assets (the share price falls) in the open.
    /// Returns that rest: the bad debt.
    function _settleShortfall(address account, uint256 shortfall) internal returns (uint256 badDebt) {
        uint256 fromReserves = Math.min(shortfall, _totals.reserves);
        if (fromReserves > 0) _totals.reserves -= uint96(fromReserves);
        uint256 rest = shortfall - fromReserves;
        uint256 fromFund = rest > 0 ? _fund.coverShortfall(rest) : 0;
        if (fromFund > 0) _addCash(fromFund);
        badDebt = rest - fromFund;
        emit IVault.ShortfallSettled(account, shortfall, fromReserves + fromFund, badDebt, fromReserves);
        if (badDebt > 0) emit IVault.BadDebtRealized(account, badDebt);
    }

    // ------------------------------------------------------------------ live auctions, as lenders value them

    /// @dev A borrower's auction of `c` (collateral index `index`) carrying `debt` against `lot`,
    /// kicked at `p0` [wad debt tokens per whole collateral token], joins its collateral's running
    /// sums (an auction without debt cannot lose lenders anything: it is left out).
    function _bookAuction(Collateral storage c, uint256 index, uint256 lot, uint256 debt, uint256 p0) internal {
        if (debt == 0) return;
        uint256 scale = 10 ** c.decimals;
        (uint256 certain, uint256 partLot, uint256 partDebt) = LossBound.parts(debt, lot, p0, scale, _debtScale);
        uint256 term = LossBound.spreadOf(partDebt, partLot, scale, _debtScale);
        (c.auctionLots, c.certainLoss) = (c.auctionLots + uint128(lot), c.certainLoss + uint128(certain));
        (c.partLots, c.partDebt) = (c.partLots + uint128(partLot), c.partDebt + uint128(partDebt));
        c.spread = uint128(Math.min(LossBound.add(c.spread, term), type(uint128).max));
        uint16 bits = _totals.auctioned;
        if (bits & (1 << index) == 0) _totals.auctioned = bits | uint16(1 << index);
    }

    /// @dev ... and leaves them (the same terms it added: the same lot, debt and price give the same).
    function _unbookAuction(Collateral storage c, uint256 index, uint256 lot, uint256 debt, uint256 p0) internal {
        if (debt == 0) return;
        uint256 scale = 10 ** c.decimals;
        (uint256 certain, uint256 partLot, uint256 partDebt) = LossBound.parts(debt, lot, p0, scale, _debtScale);
        uint256 lots = c.auctionLots - lot;
        (c.auctionLots, c.certainLoss) = (uint128(lots), c.certainLoss - uint128(certain));
        (c.partLots, c.partDebt) = (c.partLots - uint128(partLot), c.partDebt - uint128(partDebt));
        if (lots == 0) {
            c.spread = 0; // no auction left: the sum starts again (and stops being saturated)
            _totals.auctioned &= ~uint16(1 << index);
        } else if (c.spread != type(uint128).max) {
            c.spread = uint128(LossBound.sub(c.spread, LossBound.spreadOf(partDebt, partLot, scale, _debtScale)));
        }
    }

    /// @dev What valuing live auctions reads, kept for one step so that valuing them before and
    /// after it reads each once: [wad] prices by collateral index, then the debt token's; then the
    /// fund's coverage plus one [debt decimals]. Zero: not read yet (a price of zero is kept as 1,
    /// which values a lot at nothing). A step that changes the fund's coverage forgets it
    /// (`_coverChanged`).
    function _newPrices() internal view returns (uint256[] memory) {
        return new uint256[](uint256(_count) + 2);
    }

    function _coverChanged(uint256[] memory prices) internal pure {
        prices[prices.length - 1] = 0;
    }

    /// @dev [debt decimals] What the live auctions can lose at today's prices, per collateral from
    /// its running sums: the most, never below the sum of each auction's own shortfall with its
    /// lot sold at its floor under the oracle's price (LossBound, rounded down), or (`least`) the
    /// least, never above it (every lot against every debt of the collateral at the oracle's
    /// price, netted); while the oracle cannot price a collateral, under the last price its feeds
    /// gave (nothing at all without one).
    function _liveLoss(uint256[] memory prices, bool least) internal view returns (uint256 loss) {
        uint256 bits = _totals.auctioned;
        if (bits == 0) return 0;
        uint256 debtPrice = _priceOf(prices, prices.length - 2, address(_debtToken));
        for (uint256 i; bits != 0; ++i) {
            if (bits & (1 << i) == 0) continue;
            bits &= ~(1 << i);
            address token = _tokens[i];
            uint256 price = debtPrice <= 1 ? 1 : _priceOf(prices, i, token);
            loss += _collateralLoss(_collaterals[token], price, debtPrice, least);
        }
    }

    /// @dev `_liveLoss` for one collateral.
    function _collateralLoss(Collateral storage c, uint256 price, uint256 debtPrice, bool least)
        internal
        view
        returns (uint256)
    {
        uint256 debt = uint256(c.certainLoss) + c.partDebt; // every auction's debt: its certain loss and its part's
        if (price <= 1 || debtPrice <= 1) return least ? 0 : debt;
        uint256 scale = 10 ** c.decimals;
        if (least) {
            uint256 value = uint256(c.auctionLots).toValueUp(price, scale).toAmountDown(debtPrice, _debtScale);
            return debt > value ? debt - value : 0;
        }
        uint256 partLots = c.partLots;
        // Valued at the auctions' floor: a lot may be sold there at once (the liquidator's urgency),
        // so a lender leaving before the sale must not be paid as if it sold at the oracle's price.
        price = Math.mulDiv(price, c.floorShare, 1e9);
        uint256 partValue = partLots.toValueDown(price, scale).toAmountDown(debtPrice, _debtScale);
        uint256 spread = c.spread == type(uint128).max ? LossBound.SATURATED : c.spread;
        return c.certainLoss + LossBound.bound(c.partDebt, partValue, partLots, spread, scale, _debtScale);
    }

    /// @dev `prices[i]`, read (`_valuationPrice`) the first time it is asked for.
    function _priceOf(uint256[] memory prices, uint256 i, address token) internal view returns (uint256 price) {
        price = prices[i];
        if (price == 0) {
            price = Math.max(_valuationPrice(token), 1);
            prices[i] = price;
        }
    }

    /// @dev [wad] The oracle's price, or while it cannot price, the last one the asset's feeds gave.
    function _valuationPrice(address token) internal view returns (uint256 price) {
        IOracleAdapter.Status status;
        (price, status) = _oracle.peek(token);
        if (status != IOracleAdapter.Status.Ok) price = _oracle.lastKnown(token);
    }

    /// @dev [debt decimals] What lenders would bear today of the most the live auctions can lose
    /// (and of the debt at risk on accounts they gave debt back to): beyond reserves and the
    /// fund's coverage (its balance less the incentives it owes). No price is read while all of
    /// that debt is within the cover (no loss can be larger than the debt).
    function _lenderLossLive(uint256[] memory prices) internal view returns (uint256) {
        return _beyondCover(prices, false);
    }

    /// @dev [debt decimals] The same for the least they can lose (no debt at risk): what a deposit
    /// is priced against, so that entering and leaving at once can never pay.
    function _lenderLossLeast() internal view returns (uint256) {
        return _beyondCover(_newPrices(), true);
    }

    function _beyondCover(uint256[] memory prices, bool least) internal view returns (uint256) {
        uint256 atRisk = least ? 0 : _totals.atRisk;
        uint256 debt = _totals.auctionDebt + atRisk;
        if (debt == 0) return 0;
        (,, uint256 reserves_) = _accrued();
        uint256 fundCover = prices[prices.length - 1];
        if (fundCover == 0) prices[prices.length - 1] = (fundCover = _fund.coverage() + 1);
        uint256 cover = reserves_ + fundCover - 1;
        if (debt <= cover) return 0;
        return KickMath.lenderLoss(_liveLoss(prices, least) + atRisk, cover);
    }

    /// @dev [debt decimals] What lenders' assets leave out for it: today's figure when it is higher
    /// than the one booked at the last step (a loss reaches lenders at once), the booked one when it
    /// is lower (a smaller loss, from a price rise, a top-up of the fund or more reserves, is a rise
    /// in lenders' assets: the next step locks it, to unlock over a day).
    function _lenderLoss(uint256[] memory prices) internal view returns (uint256) {
        return Math.max(_lenderLossLive(prices), _totals.lossFloor);
    }

    // ------------------------------------------------------------------ income, and the books at each step

    /// @dev Closes the books of a step: lenders' assets rose by `up` and by what they left out
    /// for live auctions before it (`lossBefore`, from `_lenderLoss(prices)` before the step
    /// changed anything), and fell by `down` and by what they leave out now (at the same
    /// `prices`). A rise is locked, to unlock over INCOME_UNLOCK; a fall is not delayed. What is
    /// left out now is booked.
    function _closeBooks(uint256 up, uint256 down, uint256 lossBefore, uint256[] memory prices) internal {
        uint256 lossAfter = _lenderLossLive(prices);
        if (_totals.lossFloor != lossAfter) _totals.lossFloor = uint128(lossAfter);
        up += lossBefore;
        down += lossAfter;
        if (up > down) _lock(up - down);
    }

    /// @dev Books what lenders' assets leave out for live auctions as it is now: a smaller figure
    /// than the one booked (a price rise, a top-up of the fund, reserves grown) is locked as income.
    /// Lenders' entry points do this first, so nobody enters or leaves against a stale figure.
    function _sync() internal {
        uint256 live = _lenderLossLive(_newPrices());
        uint256 floor = _totals.lossFloor;
        if (floor > live) _lock(floor - live);
        if (floor != live) _totals.lossFloor = uint128(live);
    }

    /// @dev Adds `amount` to income unlocking: linearly from now to the first UNLOCK_STEP boundary
    /// at least INCOME_UNLOCK away, whatever is locked later (each lock's rate stops on its own step).
    function _lock(uint256 amount) internal {
        (uint256 unvested, uint256 rate) = _unlockToNow();
        uint256 end = Math.ceilDiv(block.timestamp + INCOME_UNLOCK, UNLOCK_STEP) * UNLOCK_STEP;
        uint256 added = amount * RATE_SCALE / (end - block.timestamp); // down: unlocks no faster
        unvested += amount;
        (_totals.unvested, _unlockRate) = (uint96(unvested), rate + added + 1);
        uint256 slot = (end / UNLOCK_STEP) % UNLOCK_RING;
        _rateDrops[slot] = Math.max(_rateDrops[slot], 1) + added;
        emit IVault.IncomeLocked(amount, unvested, end);
    }

    /// @dev Brings the unlocking income up to now, stored, and empties the ring slots of the steps
    /// passed; returns it and its rate.
    function _unlockToNow() internal returns (uint256 unvested, uint256 rate) {
        uint256 at;
        (unvested, rate, at) = (_totals.unvested, _rate(), _totals.unlockedAt);
        if (block.timestamp <= at) return (unvested, rate);
        while (rate > 0) {
            uint256 boundary = (at / UNLOCK_STEP + 1) * UNLOCK_STEP;
            if (boundary > block.timestamp) break;
            uint256 slot = (boundary / UNLOCK_STEP) % UNLOCK_RING;
            (unvested, rate) = _stepTo(unvested, rate, boundary - at, _rateDrops[slot]);
            _rateDrops[slot] = 1;
            at = boundary;
        }
        (unvested, rate) = _finish(unvested, rate, block.timestamp - at);
        (_totals.unvested, _totals.unlockedAt, _unlockRate) = (uint96(unvested), uint32(block.timestamp), rate + 1);
    }

    /// @dev Income still unlocking now, its rate, and the time they are for: from the stored
    /// figures, each step boundary since, where some locks' rates stop, and the time since the
    /// last. At most a day and two steps of boundaries have a rate to stop (every lock ends within
    /// that of the last one stored). Unlocked income is rounded down (lenders' assets are never
    /// overstated); when no rate is left, nothing is still locked.
    function _unlocked() internal view returns (uint256 unvested, uint256 rate, uint256 at) {
        (unvested, rate, at) = (_totals.unvested, _rate(), _totals.unlockedAt);
        if (block.timestamp <= at) return (unvested, rate, at); // a view dated before the last lock
        while (rate > 0) {
            uint256 boundary = (at / UNLOCK_STEP + 1) * UNLOCK_STEP;
            if (boundary > block.timestamp) break;
            (unvested, rate) = _stepTo(unvested, rate, boundary - at, _rateDrops[(boundary / UNLOCK_STEP) % UNLOCK_RING]);
            at = boundary;
        }
        (unvested, rate) = _finish(unvested, rate, block.timestamp - at);
        return (unvested, rate, block.timestamp);
    }

    function _rate() internal view returns (uint256) {
        uint256 stored = _unlockRate;
        return stored == 0 ? 0 : stored - 1;
    }

    /// @dev `elapsed` seconds at `rate`, then the rate of the locks ending there (`drop`, plus one) stops.
    function _stepTo(uint256 unvested, uint256 rate, uint256 elapsed, uint256 drop)
        internal
        pure
        returns (uint256, uint256)
    {
        uint256 done = rate * elapsed / RATE_SCALE;
        return (unvested > done ? unvested - done : 0, drop > 1 ? rate - (drop - 1) : rate);
    }

    /// @dev `elapsed` seconds at `rate` since the last boundary; nothing is locked once no rate is left.
    function _finish(uint256 unvested, uint256 rate, uint256 elapsed) internal pure returns (uint256, uint256) {
        if (rate == 0) return (0, 0);
        uint256 done = rate * elapsed / RATE_SCALE;
        return (unvested > done ? unvested - done : 0, rate);
    }

    function _unvestedIncome() internal view returns (uint256 unvested) {
        (unvested,,) = _unlocked();
    }

    function _cash() internal view override returns (uint256) {
        return _totals.cash;
    }

    function _addCash(uint256 amount) internal {
        _totals.cash = SafeCast.toUint112(_totals.cash + amount);
    }

    function _subCash(uint256 amount) internal {
        _totals.cash -= uint112(amount); // never more than it holds: checked
    }
}
