// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDutchAuctionLiquidator} from "./interfaces/IDutchAuctionLiquidator.sol";
import {IVault} from "./interfaces/IVault.sol";
import {IAuctionCurve} from "./interfaces/IAuctionCurve.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {Governed} from "./base/Governed.sol";
import {WadMath} from "./libraries/WadMath.sol";
import {StaticCalls} from "./libraries/StaticCalls.sol";
import {TokenMath} from "./libraries/TokenMath.sol";

/// @title DutchAuctionLiquidator. See IDutchAuctionLiquidator.
/// @notice Owns the auctions; holds no tokens. The collateral of a live auction stays in the
/// Vault, and each take settles with the Vault in one call (`IVault.settleTake`), which moves the
/// tokens, runs the taker's `onTake` under the Vault's lock and books the proceeds.
contract DutchAuctionLiquidator is IDutchAuctionLiquidator, Governed {
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
    /// @notice Redos that earn an incentive: each at most an eighth of the auction's penalty, so
    /// redos together earn at most half of it (the kick earned at most the other half).
    uint8 public constant PAID_REDOS = 4;
    /// @notice [wad] An auction whose debt is more than this share of its lot's value at today's
    /// price falls faster than its curve (see `_riskPrice`).
    uint256 public constant RISK_KNEE = 0.8e18;
    /// @notice [wad] An auction whose debt is this share of its lot's value at today's price, or
    /// more, sells at its floor.
    uint256 public constant RISK_FULL = 0.85e18;
    /// @notice [gas] What a paid transaction burns before any frame can measure it: the intrinsic
    /// 21,000 and 600 of calldata (`liquidate(address)` is 36 bytes; a take's longer calldata is
    /// counted as if it were as short, so it is paid a little less than it burned).
    uint256 public constant KICK_GAS_OUTSIDE = 21_600;
    /// @notice [wad] The most a kick's gas pay may be, as a share of the tab it kicks.
    uint256 public constant KICK_GAS_SHARE = 0.1e18;
    /// @notice [wad] A fall of this much in the collateral's price since an auction's kick brings
    /// its price to the floor (see `_riskPrice`).
    uint256 public constant FALL_FULL = 0.1e18;
    /// @notice [gas] The most of a take's own gas (from its call to the end of its settlement,
    /// the taker's callback included) that is paid back to a take ending a borrower's auction.
    uint256 public constant TAKE_GAS_PAID = 500_000;
    /// @notice [gas] The most of its own gas a take that ends a borrower's auction bears: the fifth
    /// of TAKE_GAS_PAID it is not paid back. A lot at its floor may sell below it by this gas per
    /// token of the lot (see `_gasFloor`).
    uint256 public constant TAKE_GAS_BORNE = 100_000;

    IVault public immutable vault;
    IERC20 public immutable debtAsset;
    IOracleAdapter public immutable oracle;
    IInsuranceFund public immutable insuranceFund;
    uint256 public immutable maxTip; // [debt decimals] 1,000 whole debt tokens
    uint256 internal immutable _debtScale; // 10 ** debt decimals

    /// @dev What a take reads of a collateral's auction config: one slot.
    struct Curve {
        address curve; // IAuctionCurve
        uint24 tail; // [seconds]
        uint64 cusp; // [wad]
        uint8 decimals; // the collateral's
    }

    /// @dev What a kick or a redo reads besides: one slot.
    struct Start {
        address collateral;
        uint64 buf; // [wad]
    }

    /// @dev Read by every entry point: one slot.
    struct Settings {
        uint96 tip; // [debt decimals] flat keeper reward per kick or paid redo
        uint88 dust; // [debt decimals] the Vault's minDebt
        uint64 chip; // [wad] keeper reward per unit of tab
        uint8 breaker; // 0 none, 1 no kick, 2 no redo, 3 no take
    }

    /// @dev Written by every kick: one slot.
    struct Counters {
        uint48 kicks; // kicks and sales ever started: the nonce in their auctions' ids
        uint208 owed; // [debt decimals] incentives credited and not yet claimed
    }

    Settings internal _settings;
    Counters internal _counters;
    mapping(uint8 index => Curve) internal _curves;
    mapping(uint8 index => Start) internal _starts;
    mapping(uint256 id => Auction) public auctions;
    mapping(address keeper => uint256) public claimable; // [debt decimals]
    /// @notice [debt decimals] What a live auction's penalty has waived so far (see `_crisisFloor`).
    mapping(uint256 id => uint256) public penaltyWaived;
    /// @inheritdoc IDutchAuctionLiquidator
    address public gasAsset;
    bool internal transient _locked;
    address internal transient _gasKicker; // the kick in this transaction whose gas is still to pay
    uint256 internal transient _gasTab; // [debt decimals] its total tab (zero: nothing to pay)

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    modifier onlyVault() {
        if (msg.sender != address(vault)) revert OnlyVault(msg.sender);
        _;
    }

    constructor(IVault vault_, address governor, address guardian) Governed(governor, guardian) {
        if (address(vault_) == address(0)) revert ZeroAddress();
        vault = vault_;
        debtAsset = IERC20(IERC4626(address(vault_)).asset());
        oracle = vault_.oracle();
        insuranceFund = vault_.insuranceFund();
        _debtScale = 10 ** IERC20Metadata(address(debtAsset)).decimals();
        maxTip = 1_000 * _debtScale;
    }

    // ------------------------------------------------------------------ kick

    /// @inheritdoc IDutchAuctionLiquidator
    /// @dev Called by the Vault's `liquidate`, under its lock. Per lot: one auction (two slots),
    /// priced from the oracle price the Vault already read; then one incentive credit. Its gas
    /// is paid by `payKickGas`, which the Vault calls once its books are kept.
    function kick(address account, IVault.Lot[] calldata lots, address kicker)
        external
        onlyVault
        returns (uint256[] memory ids)
    {
        Settings memory st = _settings;
        if (st.breaker >= 1) revert BreakerActive(st.breaker);
        Counters memory ct = _counters;
        uint256 nonce = ++ct.kicks;
        ids = new uint256[](lots.length);
        (uint256 totalTab, uint256 totalPenalty) = (0, 0);
        for (uint256 i; i < lots.length; ++i) {
            IVault.Lot calldata lot = lots[i];
            ids[i] = _open(account, nonce, lot, kicker);
            (totalTab, totalPenalty) = (totalTab + lot.tab, totalPenalty + lot.tab - lot.debt);
        }
        // A kick below dust is allowed (a dusty account must be closable) but never pays. Its pay:
        // the incentive, at most half the penalty it charges (the other half is its auctions' redo
        // budget): a self-kick loses at least the other half. Its gas is paid next (payKickGas).
        if (totalTab >= st.dust) {
            ct.owed += uint208(_credit(kicker, Math.min(_incentive(st, totalTab), totalPenalty / 2)));
            (_gasKicker, _gasTab) = (kicker, totalTab);
        }
        _counters = ct;
    }

    /// @inheritdoc IDutchAuctionLiquidator
    /// @dev The kick this transaction just made (transient storage): its kicker is paid the gas
    /// the Vault measured, at most KICK_GAS_SHARE of its tab, once; nothing for a kick that paid
    /// no incentive (below dust). The gas part never pays more than was burned, and its cap makes
    /// burning gas to drain the fund a losing game.
    function payKickGas(uint256 gasUsed) external onlyVault {
        uint256 tab = _gasTab;
        if (tab == 0) return;
        _gasTab = 0;
        uint256 pay = Math.min(_gasPay(gasUsed), tab.wMulDown(KICK_GAS_SHARE));
        if (pay > 0) _counters.owed += uint208(_credit(_gasKicker, pay));
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function gasValue(uint256 gas) external view returns (uint256) {
        return _gasPay(gas);
    }

    /// @dev [debt decimals] Gas `used` by a kick or a take, plus the transaction's intrinsic gas and
    /// calldata (KICK_GAS_OUTSIDE), at this block's base fee, priced by the oracle in the debt
    /// asset, rounded down; zero without a gas asset or an `Ok` price for it and the debt asset.
    /// `used` is measured in the frames that do the work (a kick: the Vault's, from its start to
    /// its books kept after the auctions opened; a take: from its call to the end of its
    /// settlement); what runs outside them is not counted, so it never pays more than was burned
    /// and a self-kick still costs the borrower at least half the penalty. A priority fee is the
    /// sender's own bid and is not paid back.
    function _gasPay(uint256 used) internal view returns (uint256) {
        address asset = gasAsset;
        if (asset == address(0) || block.basefee == 0) return 0;
        (uint256 gasPrice, IOracleAdapter.Status s1) = oracle.peek(asset);
        (uint256 debtPrice, IOracleAdapter.Status s2) = oracle.peek(address(debtAsset));
        if (s1 != IOracleAdapter.Status.Ok || s2 != IOracleAdapter.Status.Ok || debtPrice == 0) return 0;
        used += KICK_GAS_OUTSIDE; // [gas]
        // [wei] * [wad USD per 1e18 wei] / [wad USD per whole debt token] * [debt units per whole token] / 1e18
        return Math.mulDiv(used * block.basefee, gasPrice * _debtScale, debtPrice * 1e18);
    }

    /// @dev One auction for one lot: two slots.
    function _open(address account, uint256 nonce, IVault.Lot calldata lot, address kicker) internal returns (uint256 id) {
        Start memory start = _starts[lot.index];
        if (start.collateral == address(0)) revert AuctionNotConfigured(lot.collateral);
        uint256 top = lot.refPrice.wMulUp(start.buf); // up: start high
        id = idOf(account, nonce, lot.index);
        uint88 penalty = SafeCast.toUint88(lot.tab - lot.debt);
        auctions[id] =
            Auction(uint128(lot.amount), uint128(lot.tab), uint128(lot.refPrice), penalty, uint32(block.timestamp), 0);
        emit Kick(id, account, start.collateral, lot.amount, lot.tab, lot.debt, top, kicker);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function startSale(address collateral, uint256 amount) external nonReentrant returns (uint256 id) {
        if (msg.sender != address(insuranceFund)) revert OnlyInsuranceFund(msg.sender);
        uint8 level = _settings.breaker;
        if (level >= 1) revert BreakerActive(level);
        if (amount == 0) revert ZeroAmount();
        uint8 index = vault.collateralIndex(collateral);
        Start memory start = _starts[index];
        if (start.collateral == address(0)) revert AuctionNotConfigured(collateral);
        uint256 refPrice = _refPrice(collateral);
        uint256 top = refPrice.wMulUp(start.buf); // up: start high
        id = idOf(address(insuranceFund), ++_counters.kicks, index);
        uint256 received = vault.receiveSale(index, amount); // what arrived (a fee on transfer takes some)
        if (received == 0) revert ZeroAmount();
        uint256 tab = received.collateralToDebtUp(top, 10 ** _curves[index].decimals, _debtScale);
        auctions[id] = Auction(uint128(received), uint128(tab), uint128(refPrice), 0, uint32(block.timestamp), 0);
        emit Kick(id, address(insuranceFund), collateral, received, tab, 0, top, address(insuranceFund));
    }

    // ------------------------------------------------------------------ take

    /// @inheritdoc IDutchAuctionLiquidator
    /// @dev The take, hop by hop:
    ///  1. read the breaker and dust (one slot), the auction (two) and its curve's config (one);
    ///  2. price it on the curve; refuse if it needs a redo or costs more than `maxPrice`;
    ///  3. size the slice (never more than the tab needs, never a tab left below dust);
    ///  4. write the auction's lot and tab (one slot), or delete it when it ends;
    ///  5. one call to the Vault, which moves the tokens, runs `onTake` and books it all.
    function take(uint256 id, uint256 maxCollateral, uint256 maxPrice, address receiver, bytes calldata data)
        external
        nonReentrant
        returns (uint256 bought, uint256 owe)
    {
        uint256 gasStart = gasleft();
        if (maxCollateral == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        IVault.TakeSettlement memory s = _book(id, maxCollateral, maxPrice, receiver);
        s.data = data;
        vault.settleTake(s);
        // The take that ends a borrower's auction is paid its gas at the base fee (at most
        // TAKE_GAS_PAID of it): in congestion a lot whose discount no longer pays for its sale's
        // gas is still sold. Paid to the account that paid the gas (`tx.origin`: a flash take
        // comes through the keeper's taker contract), once per auction, and never more than it
        // burned: ending an auction clears storage, whose refund (at most a fifth of the gas
        // used) the sender gets back, so four fifths of what was measured are paid.
        if (s.ended && s.account != address(insuranceFund)) {
            uint256 pay = _gasPay(Math.min(gasStart - gasleft(), TAKE_GAS_PAID) * 4 / 5);
            if (pay > 0) _counters.owed += uint208(_credit(tx.origin, pay));
        }
        return (s.amount, s.owe);
    }

    /// @dev Steps 1 to 4 of `take`: the auction's side of it, and what the Vault must settle.
    function _book(uint256 id, uint256 maxCollateral, uint256 maxPrice, address receiver)
        internal
        returns (IVault.TakeSettlement memory s)
    {
        Auction memory a = auctions[id];
        uint256 price;
        uint256 cleared; // [debt decimals] of the tab: what is paid plus what the penalty waives
        {
            Settings memory st = _settings;
            if (st.breaker >= 3) revert BreakerActive(st.breaker);
            if (a.lot == 0) revert AuctionNotActive(id);
            Curve memory cv = _curves[uint8(id)];
            bool done;
            (uint256 top,) = _liveTop(uint8(id), a.refPrice);
            uint256 clears;
            (done, price, clears) = _status(id, a, cv, top);
            if (done) revert AuctionNeedsRedo(id);
            if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
            (s.amount, s.owe, cleared) = _slice(id, a, 10 ** cv.decimals, maxCollateral, price, clears, st.dust);
        }
        (s.id, s.account, s.index, s.taker, s.receiver) = (id, _accountOf(id), uint8(id), msg.sender, receiver);
        bool sale = s.account == address(insuranceFund);
        (s.lotBefore, s.debtBefore, s.refPrice) = (a.lot, _debt(a, sale), a.refPrice);
        uint88 waived = uint88(cleared - s.owe); // from the penalty (see `_crisisFloor`)
        (a.lot, a.tab, a.penalty) = (a.lot - uint128(s.amount), a.tab - uint128(cleared), a.penalty - waived);
        if (waived > 0) penaltyWaived[id] += waived;
        uint256 debtAfter = _debt(a, sale);
        (s.debtRepaid, s.tabReleased) = (s.debtBefore - debtAfter, sale ? 0 : cleared);
        emit Take(id, msg.sender, receiver, price, s.amount, s.owe, a.tab, a.lot);

        if (a.tab == 0 || a.lot == 0) {
            (s.ended, s.leftover, s.shortfall) = (true, a.lot, a.tab == 0 ? 0 : debtAfter);
            if (!sale) s.tabReleased += a.tab;
            delete auctions[id];
            delete penaltyWaived[id];
            emit AuctionEnded(id, s.account, s.leftover, s.shortfall);
        } else {
            Auction storage stored = auctions[id];
            (stored.lot, stored.tab) = (a.lot, a.tab);
            if (waived > 0) stored.penalty = a.penalty;
        }
    }

    // ------------------------------------------------------------------ redo

    /// @inheritdoc IDutchAuctionLiquidator
    function redo(uint256 id) external nonReentrant {
        Settings memory st = _settings;
        if (st.breaker >= 2) revert BreakerActive(st.breaker);
        Auction memory a = auctions[id];
        if (a.lot == 0) revert AuctionNotActive(id);
        Curve memory cv = _curves[uint8(id)];
        (uint256 top, uint256 refPrice) = _liveTop(uint8(id), a.refPrice);
        (bool done, uint256 price,) = _status(id, a, cv, top);
        uint256 scale = 10 ** cv.decimals;
        // A lot worth less than dust held at its floor: no keeper will pay gas to take it, so it
        // may be written off without waiting for the tail.
        bool dustAtFloor = refPrice != 0 && price <= top.wMulUp(cv.cusp)
            && uint256(a.lot).collateralToDebtUp(refPrice, scale, _debtScale) < st.dust;
        if (!done && !dustAtFloor) revert AuctionNotDone(id);

        // Without both prices a redo cannot restart: the oracle's own refusal names which is missing.
        if (refPrice == 0) refPrice = _refPrice(_starts[uint8(id)].collateral);
        if (uint256(a.lot).collateralToDebtUp(refPrice, scale, _debtScale) < st.dust) {
            _writeOffDust(id, a);
        } else {
            _restart(id, a, refPrice, scale, st);
        }
    }

    /// @dev No keeper will pay gas for a dust lot: restarting it would hide its unpaid debt
    /// forever. Give the dust to the fund and end the auction with its debt unpaid, as a take that
    /// sells out would (the Vault puts the debt back on the account or settles it).
    function _writeOffDust(uint256 id, Auction memory a) internal {
        address account = _accountOf(id);
        bool sale = account == address(insuranceFund);
        uint256 debt = _debt(a, sale);
        delete auctions[id];
        delete penaltyWaived[id];
        emit DustLotWrittenOff(id, a.lot, a.tab);
        emit AuctionEnded(id, account, 0, debt);
        vault.writeOffLot(account, uint8(id), a.lot, debt, sale ? 0 : a.tab, a.refPrice);
    }

    /// @dev Restarts the auction from `refPrice` times buf and credits the keeper within the
    /// auction's redo budget. Its lot and debt do not change, so neither does what lenders make
    /// of it.
    function _restart(uint256 id, Auction memory a, uint256 refPrice, uint256 scale, Settings memory st) internal {
        bool sale = _accountOf(id) == address(insuranceFund);
        uint256 top = refPrice.wMulUp(_starts[uint8(id)].buf); // up: start high
        // A sale of the fund's collateral may raise what the lot is worth at the new start price.
        if (sale) a.tab = uint128(uint256(a.lot).collateralToDebtUp(top, scale, _debtScale));
        uint256 redos = a.redos;
        // An eighth of the penalty as kicked, and no more than the waiver left of the half that
        // redos and waivers share (see `_waivable`).
        uint256 share = Math.min((uint256(a.penalty) + penaltyWaived[id]) / (2 * PAID_REDOS), _waivable(id, a));
        // The kick's price stays: lenders value the lot against it until the auction ends.
        (a.startedAt, a.redos) = (uint32(block.timestamp), uint8(Math.min(redos + 1, type(uint8).max)));
        auctions[id] = a;
        emit Redo(id, top, a.tab, a.lot, msg.sender);
        // As for kicks, restarting an auction with a dust tab is allowed but never pays.
        if (!sale && a.tab >= st.dust && redos < PAID_REDOS) {
            _counters.owed += uint208(_credit(msg.sender, Math.min(_incentive(st, a.tab), share)));
        }
    }

    // ------------------------------------------------------------------ incentives

    /// @inheritdoc IDutchAuctionLiquidator
    /// @dev Books first, then pays: the fund's transfer may call the keeper back (a debt token with
    /// receive hooks), and whatever that credits it must be credited on top of what is left here.
    function claimIncentive() external nonReentrant returns (uint256 paid) {
        uint256 owed = claimable[msg.sender];
        if (owed == 0) revert ZeroAmount();
        paid = Math.min(owed, debtAsset.balanceOf(address(insuranceFund)));
        claimable[msg.sender] = owed - paid;
        _counters.owed -= uint208(paid);
        emit IncentiveClaimed(msg.sender, owed, paid);
        if (paid > 0) insuranceFund.payIncentive(msg.sender, paid); // pays `paid`: the balance was read above
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDutchAuctionLiquidator
    function getStatus(uint256 id) external view returns (bool needsRedo, uint256 price, uint256 lot, uint256 tab) {
        Auction memory a = auctions[id];
        if (a.lot == 0) return (false, 0, 0, 0);
        (uint256 top,) = _liveTop(uint8(id), a.refPrice);
        (needsRedo, price,) = _status(id, a, _curves[uint8(id)], top);
        return (needsRedo, price, a.lot, a.tab);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function auctionViews(uint256[] calldata ids) external view returns (AuctionView[] memory views) {
        views = new AuctionView[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            views[i] = auctionView(ids[i]);
        }
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function auctionView(uint256 id) public view returns (AuctionView memory v) {
        Auction memory a = auctions[id];
        (v.account, v.collateral) = (_accountOf(id), _starts[uint8(id)].collateral);
        if (a.lot == 0) return v;
        (uint256 top,) = _liveTop(uint8(id), a.refPrice);
        (v.needsRedo, v.price, v.clears) = _status(id, a, _curves[uint8(id)], top);
        (v.lot, v.tab, v.debt, v.top, v.startedAt) = (a.lot, a.tab, _debt(a, v.account == address(insuranceFund)), top, a.startedAt);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function idOf(address account, uint256 nonce, uint8 index) public pure returns (uint256) {
        return (uint256(uint160(account)) << 96) | (nonce << 8) | index;
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function incentive(uint256 tab) external view returns (uint256) {
        return _incentive(_settings, tab);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function breaker() external view returns (uint8) {
        return _settings.breaker;
    }

    /// @notice [debt decimals] the flat keeper reward.
    function tip() external view returns (uint256) {
        return _settings.tip;
    }

    /// @notice [wad] the keeper reward per unit of tab.
    function chip() external view returns (uint256) {
        return _settings.chip;
    }

    /// @notice Kicks and sales ever started.
    function kicks() external view returns (uint256) {
        return _counters.kicks;
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function owedIncentives() external view returns (uint256) {
        return _counters.owed;
    }

    function auctionConfig(address collateral) external view returns (AuctionConfig memory) {
        uint8 index = vault.collateralIndex(collateral);
        Curve memory cv = _curves[index];
        return AuctionConfig(cv.curve, _starts[index].buf, cv.tail, cv.cusp);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Set a listed collateral's auction curve and parameters. Governor only.
    function setAuctionConfig(address collateral, AuctionConfig calldata config) external onlyRole(GOVERNOR_ROLE) {
        if (collateral == address(0) || config.curve == address(0)) revert ZeroAddress();
        _checkBounds("buf", config.buf, MIN_BUF, MAX_BUF);
        _checkBounds("tail", config.tail, MIN_TAIL, MAX_TAIL);
        _checkBounds("cusp", config.cusp, MIN_CUSP, MAX_CUSP);
        // A curve starts at its top price and never above it; what does not answer (an account
        // without code, a contract without `price`) is no curve either.
        (bool answered, uint256 start) =
            StaticCalls.tryUint(config.curve, abi.encodeCall(IAuctionCurve.price, (WadMath.WAD, 0)));
        if (!answered || start == 0 || start > WadMath.WAD) revert InvalidCurve(config.curve);
        uint8 index = vault.collateralIndex(collateral); // reverts InvalidCollateral unless listed
        uint8 decimals = IERC20Metadata(collateral).decimals();
        _curves[index] = Curve(config.curve, uint24(config.tail), uint64(config.cusp), decimals);
        _starts[index] = Start(collateral, uint64(config.buf));
        vault.setAuctionFloor(collateral, config.buf.wMulDown(config.cusp)); // where lenders value its lots
        emit AuctionConfigSet(collateral, config.curve, config.buf, config.tail, config.cusp);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    /// @dev The asset must have an oracle price now (the oracle's own refusal otherwise).
    function setGasAsset(address asset) external onlyRole(GOVERNOR_ROLE) {
        if (asset != address(0)) oracle.price(asset);
        gasAsset = asset;
        emit GasAssetSet(asset);
    }

    /// @notice Set the keeper reward: flat `tip` [debt decimals] plus `chip` [wad] of the tab. Governor only.
    function setIncentive(uint256 tip_, uint256 chip_) external onlyRole(GOVERNOR_ROLE) {
        _checkBounds("tip", tip_, 0, maxTip);
        _checkBounds("chip", chip_, 0, MAX_CHIP);
        (_settings.tip, _settings.chip) = (uint96(tip_), uint64(chip_));
        emit IncentiveSet(tip_, chip_);
    }

    /// @notice Set the breaker level. The governor may set any level; the guardian may only raise it.
    function setBreaker(uint8 level) external onlyGuardian {
        _checkBounds("breaker", level, 0, MAX_BREAKER);
        uint8 current = _settings.breaker;
        if (level <= current && !hasRole(GOVERNOR_ROLE, msg.sender)) revert BreakerNotRaised(current, level);
        _settings.breaker = level;
        emit BreakerSet(level, msg.sender);
    }

    /// @inheritdoc IDutchAuctionLiquidator
    function setDust(uint256 minDebt) external onlyVault {
        _settings.dust = uint88(minDebt);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The account an auction id carries (see `idOf`); its low byte is the collateral's index.
    function _accountOf(uint256 id) internal pure returns (address) {
        return address(uint160(id >> 96));
    }

    /// @dev How much collateral a take buys and what it pays: never more than the tab needs, and
    /// never a tab left below dust unless the lot is sold out (then it sells less instead).
    function _slice(
        uint256 id,
        Auction memory a,
        uint256 scale,
        uint256 maxCollateral,
        uint256 price,
        uint256 clears,
        uint256 dust
    ) internal view returns (uint256 amount, uint256 owe, uint256 cleared) {
        amount = Math.min(a.lot, maxCollateral);
        cleared = amount.collateralToDebtUp(clears, scale, _debtScale);
        if (cleared >= a.tab) {
            cleared = a.tab;
            amount = Math.min(a.lot, cleared.debtToCollateralDown(clears, scale, _debtScale));
        } else if (amount < a.lot && a.tab - cleared < dust) {
            if (a.tab <= dust) revert TakeWouldLeaveDust(a.tab - cleared, dust);
            cleared = a.tab - dust;
            amount = cleared.debtToCollateralDown(clears, scale, _debtScale);
        }
        owe = amount.collateralToDebtUp(price, scale, _debtScale);
        // The taker pays what it clears, except below the floor, where the penalty may waive the
        // difference (within `_waivable`, itself within the penalty).
        if (clears == price || owe >= cleared) owe = cleared;
        else owe = Math.max(owe, cleared - Math.min(cleared, _waivable(id, a)));
        if (amount == 0 || owe == 0) revert TakeTooSmall(id);
    }

    /// @dev [debt decimals] the part of the tab owed to lenders: what is left above the penalty
    /// (proceeds pay debt first); none for a sale of the fund's collateral.
    function _debt(Auction memory a, bool sale) internal pure returns (uint256) {
        return sale || a.tab <= a.penalty ? 0 : a.tab - a.penalty;
    }

    /// @dev Current price, and whether the auction is too old to be taken (past its tail), from
    /// `top` (see `_liveTop`). The price is the lowest of the curve's (patience: it falls with
    /// time) and the risk price (urgency: it falls as the lot's debt nears the lot's value at
    /// today's price, see `_riskPrice`), and it never falls below the floor, `top * cusp` (less a
    /// small lot's take gas in congestion, see `_gasFloor`): it holds there until someone takes it
    /// or the tail passes, so a fast crash never restarts the discount from zero. Seen from a
    /// block dated before the auction started (a view on an earlier block), no time has passed.
    function _status(uint256 id, Auction memory a, Curve memory cv, uint256 top)
        internal
        view
        returns (bool done, uint256 price, uint256 clears)
    {
        uint256 elapsed = block.timestamp > a.startedAt ? block.timestamp - a.startedAt : 0;
        uint256 floor = top.wMulUp(cv.cusp);
        uint256 curve = IAuctionCurve(cv.curve).price(top, elapsed);
        uint256 risk = _riskPrice(id, a, cv, top, floor);
        price = Math.min(curve, risk);
        if (price <= floor) {
            uint256 low = _gasFloor(id, a, cv, floor); // priced only here: gas for the oracle reads
            // At full urgency each token clears `low` of the tab but may sell below it by what the
            // penalty can pay (the two discounts do not add up: a small lot's gas may exceed it).
            price = risk == floor ? Math.min(low, _crisisFloor(id, a, cv, floor)) : Math.max(curve, low);
            clears = risk == floor ? low : price;
        } else {
            clears = price;
        }
        done = elapsed > cv.tail;
    }

    /// @dev [wad debt tokens per whole collateral token] Where a lot at full urgency may sell while
    /// its borrower loses no more than on the floor: every token it sells still clears `floor` of
    /// its tab, the difference waived from the penalty (at most `_waivable`), so in a crash the
    /// keeper's discount grows by what lenders would have earned, not by what the borrower loses.
    /// Never below the lot's break-even (its debt over its lot, rounded up): the lot still covers
    /// its debt. The floor itself for a lot that does not cover its debt there.
    function _crisisFloor(uint256 id, Auction memory a, Curve memory cv, uint256 floor) internal view returns (uint256) {
        uint256 toWad = 10 ** cv.decimals * 1e18;
        uint256 lotDebt = uint256(a.lot) * _debtScale;
        uint256 perToken = Math.mulDiv(_waivable(id, a), toWad, lotDebt); // down: waives no more than it may
        uint256 evenUp = Math.mulDiv(uint256(a.tab) - Math.min(a.tab, a.penalty), toWad, lotDebt, Math.Rounding.Ceil);
        return Math.min(floor, Math.max(perToken >= floor ? 0 : floor - perToken, evenUp));
    }

    /// @dev [debt decimals] What auction `id`'s penalty may still waive: half of it as kicked, less
    /// an eighth of it for each paid redo and what it has waived already. The kick's incentive
    /// takes at most the other half, and redos and the waiver share this one, so the incentives
    /// and the waiver together never exceed the penalty: a borrower that kicks itself and buys its
    /// own lot in a crash still pays for what it was paid.
    function _waivable(uint256 id, Auction memory a) internal view returns (uint256) {
        uint256 done = penaltyWaived[id];
        uint256 redos = Math.min(a.redos, PAID_REDOS);
        uint256 budget = Math.mulDiv(uint256(a.penalty) + done, PAID_REDOS - redos, 2 * PAID_REDOS); // down
        return budget > done ? budget - done : 0;
    }

    /// @dev [wad debt tokens per whole collateral token] How far below `floor` (top * cusp) a
    /// borrower's auction may go: by what a take that ends it bears of its own gas
    /// (TAKE_GAS_BORNE at this block's base fee, see `take`) per whole token of its lot, rounded
    /// down, and never below half the floor. In congestion a lot whose discount at the floor no
    /// longer pays for that part of its sale's gas would wait there while the market falls on,
    /// its debt going bad; its own lot bears that gas instead, as a fixed-discount liquidation
    /// bears all of its gas, and a large lot hardly notices. Lenders' bound values lots at the
    /// floor without it, so it may miss a lot's loss by that gas. A sale of the fund's collateral
    /// is paid no gas and goes no lower than the floor.
    function _gasFloor(uint256 id, Auction memory a, Curve memory cv, uint256 floor) internal view returns (uint256) {
        if (_accountOf(id) == address(insuranceFund)) return floor;
        uint256 gas = _gasPay(TAKE_GAS_BORNE - KICK_GAS_OUTSIDE); // [debt decimals] _gasPay adds what runs outside
        gas = Math.mulDiv(gas, 10 ** cv.decimals * 1e18, uint256(a.lot) * _debtScale); // [wad per whole token]
        return floor - Math.min(gas, floor / 2);
    }

    /// @dev [wad debt tokens per whole collateral token] The price an auction's risk allows: the
    /// top, less a share of the way down to the floor. That share is the larger of two measures of
    /// urgency, each from 0 to 1: how far the market has fallen since the kick, against FALL_FULL
    /// (the live top against the kick's: a crash under way, which waiting only deepens), and how
    /// close the lot's debt (the tab less the penalty not yet paid) is to the lot's whole value at
    /// the top, from RISK_KNEE of it (nothing) to RISK_FULL (all the way: a lot about to stop paying
    /// its debt, which every minute of a crash puts further under). A slow market and a
    /// well-covered lot leave the curve alone; a lot near its debt, or a fall of FALL_FULL since
    /// the kick, sells at the floor at once. A take below the lot's break-even
    /// price raises the rest's risk, so takes in a row may bring the price to the floor sooner,
    /// never below it. A sale of the fund's collateral carries no debt: no urgency.
    function _riskPrice(uint256 id, Auction memory a, Curve memory cv, uint256 top, uint256 floor)
        internal
        view
        returns (uint256)
    {
        uint256 debt = _debt(a, _accountOf(id) == address(insuranceFund));
        if (debt == 0) return top;
        uint256 share = 0; // [wad] of the way from the top to the floor
        uint256 kickTop = uint256(a.refPrice).wMulUp(_starts[uint8(id)].buf);
        if (top < kickTop) share = Math.mulDiv(kickTop - top, 1e18, kickTop.wMulDown(FALL_FULL), Math.Rounding.Ceil);
        uint256 worth = uint256(a.lot).collateralToDebtDown(top, 10 ** cv.decimals, _debtScale);
        if (worth == 0) return floor;
        uint256 risk = debt.wDivUp(worth); // [wad] up: the price falls sooner
        if (risk > RISK_KNEE) share = Math.max(share, Math.mulDiv(risk - RISK_KNEE, 1e18, RISK_FULL - RISK_KNEE, Math.Rounding.Ceil));
        if (share >= 1e18) return floor;
        return top - Math.mulDiv(top - floor, share, 1e18, Math.Rounding.Ceil);
    }

    /// @dev The live top [wad debt tokens per whole collateral token]: today's oracle price
    /// (`refPrice`, as `_refPrice` computes it) times buf, rounded up (start high). The curve runs
    /// from it, so an auction follows a falling (or rising) market instead of the price it was
    /// kicked at, and the cusp bounds its discount below today's price, not the kick's. While the
    /// oracle cannot price the collateral or the debt asset (a stale feed, the sequencer down, a
    /// dispute), the curve runs from the last price their feeds gave (`lastKnown`), so an outage
    /// never sells below what the last good price supports; `refPrice` is 0 then (no redo), and
    /// `stored` (the kick's price) serves only when no feed has ever answered.
    function _liveTop(uint8 index, uint256 stored) internal view returns (uint256 top, uint256 refPrice) {
        Start memory start = _starts[index];
        (uint256 collateralPrice, IOracleAdapter.Status s1) = oracle.peek(start.collateral);
        (uint256 debtPrice, IOracleAdapter.Status s2) = oracle.peek(address(debtAsset));
        if (s1 == IOracleAdapter.Status.Ok && s2 == IOracleAdapter.Status.Ok) {
            refPrice = collateralPrice.wDivUp(debtPrice);
            return (refPrice.wMulUp(start.buf), refPrice);
        }
        if (s1 != IOracleAdapter.Status.Ok) collateralPrice = oracle.lastKnown(start.collateral);
        if (s2 != IOracleAdapter.Status.Ok) debtPrice = oracle.lastKnown(address(debtAsset));
        if (collateralPrice == 0 || debtPrice == 0) return (stored.wMulUp(start.buf), 0);
        return (collateralPrice.wDivUp(debtPrice).wMulUp(start.buf), 0);
    }

    /// @dev [wad debt tokens per whole collateral token] from the oracle's USD prices, rounded up.
    function _refPrice(address collateral) internal view returns (uint256) {
        return oracle.price(collateral).wDivUp(oracle.price(address(debtAsset)));
    }

    /// @dev tip + chip * tab, rounded down (the fund pays no more than owed).
    function _incentive(Settings memory st, uint256 tab) internal pure returns (uint256) {
        return st.tip + tab.wMulDown(st.chip);
    }

    function _credit(address keeper, uint256 owed) internal returns (uint256) {
        if (owed == 0) return 0;
        claimable[keeper] += owed;
        emit KeeperIncentive(keeper, owed, owed);
        return owed;
    }
}

