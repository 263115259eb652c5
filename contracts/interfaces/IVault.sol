// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICommonErrors} from "./ICommonErrors.sol";
import {IOracleAdapter} from "./IOracleAdapter.sol";
import {IInsuranceFund} from "./IInsuranceFund.sol";

/// @title Vault: ERC-4626 lending over one debt asset, with cross-margin collateral accounts.
/// @notice Lenders deposit the debt asset for shares. Borrowers keep one account holding several
/// collateral tokens and borrow against all of them. Health factor = sum(value * liquidation
/// threshold) / debt value; below 1 anyone may `liquidate` (kick auctions). The Vault owns every
/// balance and the accounting; the DutchAuctionLiquidator owns the auctions and settles each take
/// with one call here. Units: prices and values [wad USD]; token amounts in their own decimals;
/// ratios [wad]. A collateral token is always called `collateral`: `asset()` is the debt token.
interface IVault is ICommonErrors {
    /// @notice Per collateral token, as the governor sets it.
    struct CollateralParams {
        uint256 maxLtv; // [wad] borrow limit per unit of value
        uint256 liquidationThreshold; // [wad] health-factor weight; >= maxLtv
        uint256 penalty; // [wad] added to the debt covered to make an auction's tab
        uint256 supplyCap; // [collateral decimals] total that may be supplied
        uint256 lotCap; // [debt decimals] largest tab one auction of this collateral may carry
        uint256 liveTabCap; // [debt decimals] largest total tab of live auctions of this collateral
    }

    /// @notice Kinked utilisation curve, rates [wad per year].
    struct RateModel {
        uint256 baseRate; // at zero utilisation
        uint256 slope1; // added from 0 to kink
        uint256 slope2; // added from kink to 100%
        uint256 kink; // [wad] utilisation where slope2 starts
    }

    struct LiquidationConfig {
        uint256 minDebt; // [debt decimals] dust: smallest debt an account may carry, smallest paid kick
        uint256 smallDebt; // [debt decimals] at or below it a kick closes the whole debt
        uint256 deepHealth; // [wad] below this health factor a kick closes the whole debt
        uint256 closeFactor; // [wad] share of the debt a partial kick closes
        uint256 penaltyFundShare; // [wad] share of collected penalties owed to the InsuranceFund
    }

    /// @notice An account's position at current prices.
    struct AccountSnapshot {
        uint256 debt; // [debt decimals]
        uint256 debtValue; // [wad USD]
        uint256 collateralValue; // [wad USD]
        uint256 liquidationValue; // [wad USD] sum(value * liquidation threshold)
        uint256 borrowLimit; // [wad USD] sum(value * max LTV)
        uint256 healthFactor; // [wad] type(uint256).max without debt
    }

    /// @notice What the liquidator hands over for one collateral token of a kick.
    struct Lot {
        address collateral;
        uint8 index; // its place in `collateralTokens()`
        uint256 amount; // [collateral decimals] set aside for the auction (it stays in the Vault)
        uint256 tab; // [debt decimals] debt + penalty to raise
        uint256 debt; // [debt decimals] the part of the tab owed to lenders
        uint256 refPrice; // [wad debt tokens per whole collateral token] the oracle's, at the kick
    }

    /// @notice What a take moves, booked by `settleTake` in one call. See the liquidator's `take`.
    struct TakeSettlement {
        uint256 id; // the auction
        address account; // the borrower (the InsuranceFund for a sale of its collateral)
        uint8 index; // the collateral's place in `collateralTokens()`
        address taker; // pays `owe`
        address receiver; // gets `amount`; its `onTake` is called when `data` is not empty
        uint256 amount; // [collateral decimals] bought
        uint256 owe; // [debt decimals] paid
        uint256 debtRepaid; // [debt decimals] the part of `owe` that repays debt; the rest is penalty
        uint256 tabReleased; // [debt decimals] off the collateral's live tab (what was paid, or the whole tab at the end)
        uint256 lotBefore; // [collateral decimals] the auction's lot before the take
        uint256 debtBefore; // [debt decimals] and its debt
        uint256 refPrice; // [wad debt tokens per whole collateral token] the oracle's at its kick
        bool ended; // the take ended the auction
        uint256 leftover; // [collateral decimals] back to the account: the tab is raised
        uint256 shortfall; // [debt decimals] debt the auction could not raise: its lot is sold out
        bytes data; // passed to `onTake`
    }

    // Account events carry the balance after the change, so an indexer can mirror accounts by
    // overwriting rather than summing.
    event CollateralSupplied(address indexed account, address indexed collateral, address from, uint256 amount, uint256 balance);
    event CollateralWithdrawn(address indexed account, address indexed collateral, address to, uint256 amount, uint256 balance);
    /// @notice `amount` left the account: to the liquidator's auction `to` (it stays in the Vault
    /// until a take releases it), or to the InsuranceFund (worth less than dust).
    event CollateralSeized(address indexed account, address indexed collateral, address to, uint256 amount, uint256 balance);
    event CollateralReturned(address indexed account, address indexed collateral, uint256 amount, uint256 balance);
    event Borrowed(address indexed account, address to, uint256 amount, uint256 scaledDebt);
    event Repaid(address indexed account, address payer, uint256 amount, uint256 scaledDebt);
    /// @notice A kick: `debtCovered` moved from the account into auctions at health factor `healthFactor`.
    event Liquidated(address indexed account, address indexed kicker, uint256 debtCovered, uint256 healthFactor, uint256 scaledDebt);
    event InterestAccrued(uint256 borrowIndex, uint256 interest, uint256 reserves);
    event ReservesCollected(uint256 amount);
    /// @notice A take paid `debtRepaid` of debt and `penalty`; `penaltyToFund` of it is owed to the
    /// fund (added to reserves).
    event AuctionProceeds(uint256 debtRepaid, uint256 penalty, uint256 penaltyToFund);
    /// @notice Debt an auction (or collateral worth less than dust) could not raise: `covered` came
    /// from reserves not yet collected (`fromReserves` of it) and then the InsuranceFund; `badDebt`
    /// was realised against lenders' share price.
    event ShortfallSettled(
        address indexed account, uint256 shortfall, uint256 covered, uint256 badDebt, uint256 fromReserves
    );
    /// @notice A liquidation step raised lenders' assets by `amount` (a penalty, a loss smaller
    /// than was certain); it was locked, and `locked` in all now unlocks into the share price
    /// until `unlockAt`.
    event IncomeLocked(uint256 amount, uint256 locked, uint256 unlockAt);
    event BadDebtRealized(address indexed account, uint256 amount);
    /// @notice An auction ended owing `amount` of debt while the account still had something to
    /// sell (collateral, or another live auction): the debt went back onto the account (now
    /// `scaledDebt`), to be kicked again.
    event DebtReturned(address indexed account, uint256 amount, uint256 scaledDebt);
    /// @notice The account's last auction ended and it holds nothing: the `amount` of debt it still
    /// owed left it (now `scaledDebt`, zero) and was settled as a shortfall (`ShortfallSettled`).
    event DebtRealized(address indexed account, uint256 amount, uint256 scaledDebt);
    /// @notice `amount` of the debt token was sent here outside any entry point; it is lenders'
    /// income now, unlocking like any other.
    event Skimmed(uint256 amount);
    event AuthorizationSet(address indexed owner, address indexed operator, bool allowed);
    event CollateralConfigSet(address indexed collateral, CollateralParams params);
    event RateModelSet(RateModel model);
    event ReserveFactorSet(uint256 reserveFactor);
    event LiquidationConfigSet(LiquidationConfig config);
    event LiquidatorSet(address indexed liquidator);
    event PausedSet(bool paused, address indexed by);

    /// @dev The token is not a listed collateral (or cannot be one: zero, or the debt asset).
    error InvalidCollateral(address collateral);
    /// @dev Supplying would take the collateral's total above its supply cap.
    error SupplyCapExceeded(address collateral, uint256 total, uint256 cap);
    /// @dev Withdrawing more collateral than the account holds.
    error InsufficientCollateralBalance(address collateral, uint256 requested, uint256 balance);
    /// @dev The action would leave the account's debt value above its borrow limit.
    error InsufficientCollateral(address account, uint256 debtValue, uint256 borrowLimit);
    /// @dev The Vault has less free cash than asked for.
    error InsufficientLiquidity(uint256 requested, uint256 available);
    /// @dev The action would leave a debt above zero and below the minimum.
    error DebtBelowMinimum(uint256 debt, uint256 minDebt);
    /// @dev Repaying an account with no debt.
    error NoDebt(address account);
    /// @dev The caller may not act for `owner` (see setAuthorization).
    error Unauthorized(address owner, address caller);
    /// @dev The account's health factor is at or above 1 (or it has no debt).
    error NotLiquidatable(address account, uint256 healthFactor);
    /// @dev After caps and the dust rule the kick would cover less than dust.
    error KickBelowDust(uint256 debtCovered, uint256 minDebt);
    /// @dev The collateral's live auctions already carry its whole cap.
    error AuctionCapReached(address collateral, uint256 liveTab, uint256 liveTabCap);
    /// @dev Deposits, mints and borrows are paused.
    error EnforcedPause();
    /// @dev Only the liquidator may call this.
    error OnlyLiquidator(address caller);
    /// @dev The liquidator is set once.
    error LiquidatorAlreadySet(address liquidator);
    /// @dev No liquidator is set yet.
    error LiquidatorNotSet();
    /// @dev Listing more collateral tokens than MAX_COLLATERALS.
    error TooManyCollateralTokens(uint256 max);
    /// @dev The kick module given to the constructor is no contract, or was built for another
    /// debt token, oracle or fund.
    error KickModuleMismatch(address module);
    /// @dev A governance setter's `parameter` is outside its bounds (raised by the Bounds library in
    /// the setters the kick module runs for the Vault: declared here so the Vault's ABI names it).
    error OutOfBounds(bytes32 parameter, uint256 value, uint256 min, uint256 max);
    /// @dev One unit of the collateral (its smallest amount) is worth `unitValue` [wad USD], more
    /// than `maxUnitValue`, a thousandth of dust: auctions could not sell it in fine enough slices.
    error CoarseCollateral(address collateral, uint256 unitValue, uint256 maxUnitValue);
    /// @dev The account has `auctions` live auctions of its collateral: nothing may leave it, and
    /// its debt may not be written off, until they have ended.
    error AuctionsLive(address account, uint256 auctions);

    // ---- borrowers ----

    /// @notice Add `amount` of `collateral` to `onBehalf`'s account, pulled from the caller; the
    /// account is credited what arrives (a token that takes a fee on transfer credits less). Never paused.
    function supplyCollateral(address collateral, uint256 amount, address onBehalf) external;

    /// @notice Take collateral out of `onBehalf`'s account (caller authorised) to `receiver`; the
    /// account must stay within its borrow limit and have no live auction (`AuctionsLive`).
    function withdrawCollateral(address collateral, uint256 amount, address onBehalf, address receiver) external;

    /// @notice Borrow `amount` [debt decimals] against `onBehalf`'s account (caller authorised) to
    /// `receiver`. Needs an `Ok` price for the debt asset, and no live auction of the account's
    /// collateral (`AuctionsLive`); a collateral without a price counts as worth nothing.
    function borrow(uint256 amount, address onBehalf, address receiver) external;

    /// @notice Repay up to `amount` of `onBehalf`'s debt, pulled from the caller; more than the
    /// debt repays it all. Never paused, needs no price.
    /// @return repaid [debt decimals]
    function repay(uint256 amount, address onBehalf) external returns (uint256 repaid);

    /// @notice Let `operator` borrow and withdraw collateral for the caller's account.
    function setAuthorization(address operator, bool allowed) external;

    // ---- liquidation ----

    /// @notice Kick auctions for an account whose health factor is below 1 (a collateral without
    /// an `Ok` price counts as worth nothing): all of the debt when it is small or the health
    /// factor is below `deepHealth`, else `closeFactor` of it; never leaving a debt below dust.
    /// Each priced collateral's matching part is set aside for an auction (it stays in the Vault),
    /// cut to the collateral's room under `lotCap` and `liveTabCap` (or left for a later kick when
    /// that room is below dust). A part worth less than dust is not sold while another part is: it
    /// stays in the account with its debt (which joins the largest auction instead when it would
    /// leave a debt below dust). An account whose priced collateral is worth less than dust has its
    /// whole debt realised (reserves, the fund, then lenders) and its collateral goes to the fund;
    /// not while it has a live auction (`AuctionsLive`). Refused at breaker level 1 or above.
    /// Credits the caller the liquidator's incentive.
    /// @return ids the auctions started (empty when the debt was realised).
    function liquidate(address account) external returns (uint256[] memory ids);

    /// @notice Liquidator hook, once per take: sends the collateral to the receiver, calls its
    /// `onTake` when there is data, pulls `owe` from the taker (into the Vault, or the fund for a
    /// sale of its collateral) and books it all; locks any rise in lenders' assets as income.
    function settleTake(TakeSettlement calldata s) external;

    /// @notice Liquidator hook: a redo ended an auction of `account`'s collateral at `index` whose
    /// `lot` left is worth less than dust. It goes to the InsuranceFund, `tabReleased` leaves the
    /// live tab, and the unpaid `debt` is treated as at the end of a take (`refPrice`: the
    /// oracle's price at the auction's kick, which lenders' valuation of it used).
    function writeOffLot(address account, uint8 index, uint256 lot, uint256 debt, uint256 tabReleased, uint256 refPrice)
        external;

    /// @notice Liquidator hook, with each auction config: the lowest price an auction of
    /// `collateral` can sell at, as a `share` [wad] of today's oracle price (buf * cusp). Lenders'
    /// assets value live lots there.
    function setAuctionFloor(address collateral, uint256 share) external;

    /// @notice Liquidator hook: pulls the InsuranceFund's `amount` of the collateral at `index`
    /// (it approved this Vault), to be sold by the auction the liquidator is opening.
    /// @return received [collateral decimals] what arrived.
    function receiveSale(uint8 index, uint256 amount) external returns (uint256 received);

    // ---- interest and reserves ----

    /// @notice Accrue interest up to now.
    function accrueInterest() external;

    /// @notice Send accrued reserves (as far as free cash goes) to the InsuranceFund.
    /// @return amount [debt decimals] sent.
    function collectReserves() external returns (uint256 amount);

    /// @notice Value again the debt at risk of an account an auction gave debt back to: what it owes
    /// beyond what its priced collateral is worth today (a smaller figure reaches lenders as
    /// income, locked). Anyone may call it.
    function refreshAtRisk(address account) external;

    /// @notice Count the debt token sent here outside the entry points as lenders' income,
    /// unlocking over a day like any other (until then the books leave it out).
    /// @return amount [debt decimals]
    function skim() external returns (uint256 amount);

    // ---- views ----

    /// @notice The prices this Vault uses.
    function oracle() external view returns (IOracleAdapter);

    /// @notice Where reserves go, and what covers shortfalls and pays keepers.
    function insuranceFund() external view returns (IInsuranceFund);

    /// @notice [debt decimals] the account's debt now, rounded up.
    function debtOf(address account) external view returns (uint256);

    /// @notice [debt decimals at index 1] the account's scaled debt: debt = scaledDebt * borrowIndex.
    function scaledDebtOf(address account) external view returns (uint256);

    /// @notice How many auctions of the account's collateral are live.
    function auctionsOf(address account) external view returns (uint256);

    /// @notice [debt decimals] the account's debt at risk: what it owed beyond what its priced
    /// collateral was worth when an auction last gave it debt back (or it was valued again);
    /// `totalAssets` leaves it out.
    function atRiskOf(address account) external view returns (uint256);

    /// @notice [debt decimals] the debt token the books hold (donations are not counted until `skim`).
    function cash() external view returns (uint256);

    /// @notice [collateral decimals] what the account holds of `collateral`.
    function collateralOf(address account, address collateral) external view returns (uint256);

    /// @notice [collateral decimals] what the Vault holds of `collateral` for accounts and live auctions.
    function totalCollateral(address collateral) external view returns (uint256);

    /// @notice [debt decimals] total tab of live borrowers' auctions of `collateral`.
    function liveTab(address collateral) external view returns (uint256);

    /// @notice [wad] the account's health factor; type(uint256).max without debt.
    function healthFactor(address account) external view returns (uint256);

    /// @notice Health factors of many accounts in one call.
    function healthFactors(address[] calldata accounts) external view returns (uint256[] memory);

    /// @notice [wad USD per whole token] the price of `collateral` at which the account's health
    /// factor reaches 1, other prices unchanged; zero when no price of `collateral` alone would do it.
    function liquidationPrice(address account, address collateral) external view returns (uint256);

    /// @notice The account's position at current prices.
    function accountSnapshot(address account) external view returns (AccountSnapshot memory);

    /// @notice Listed collateral tokens, in index order.
    function collateralTokens() external view returns (address[] memory);

    /// @notice The collateral's place in `collateralTokens()`; reverts InvalidCollateral if unlisted.
    function collateralIndex(address collateral) external view returns (uint8);

    /// @notice The collateral's parameters.
    function collateralParams(address collateral) external view returns (CollateralParams memory);

    /// @notice [debt decimals] total borrowed debt now (excluding debt in auctions).
    function totalDebt() external view returns (uint256);

    /// @notice [debt decimals] cash free to borrow or withdraw (cash less reserves).
    function availableLiquidity() external view returns (uint256);

    /// @notice [wad] borrowed / (cash + borrowed + auction debt - reserves).
    function utilization() external view returns (uint256);

    /// @notice [wad per year] current borrow rate.
    function borrowRate() external view returns (uint256);

    /// @notice [debt decimals] the minimum (dust) debt.
    function minDebt() external view returns (uint256);

    /// @notice [debt decimals] lenders' income not yet in the share price.
    function unvestedIncome() external view returns (uint256);

    /// @notice [debt decimals] the most the live borrowers' auctions can lose at today's prices
    /// (per collateral, their lots at the oracle's price against their debts; see LossBound).
    function expectedLoss() external view returns (uint256);

    /// @notice [debt decimals] what `totalAssets` leaves out for the live auctions: their
    /// `expectedLoss` beyond what reserves and the InsuranceFund cover, or the figure booked at the
    /// last liquidation step or lender action if that is higher (a smaller loss reaches the share
    /// price as income, unlocking over a day).
    function expectedLenderLoss() external view returns (uint256);

    /// @notice [debt decimals] that figure as booked at the last liquidation step or lender
    /// action: lenders' assets are never above the level it implies but by interest and income
    /// unlocking (a fall since, not yet booked, can be undone before the next step books it).
    function bookedLenderLoss() external view returns (uint256);
}
