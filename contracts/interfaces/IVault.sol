// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Vault: ERC-4626 lending over one debt asset, with cross-margin collateral accounts.
/// @notice Lenders deposit the debt asset for shares. Borrowers keep one account holding several
/// collateral assets and borrow against all of them. Health factor = sum(value * liquidation
/// threshold) / debt value; below 1 anyone may `liquidate` (kick auctions). Units: prices and
/// values [wad USD]; token amounts in their own decimals; ratios [wad].
interface IVault {
    /// @notice Per collateral asset, as the governor sets it.
    struct CollateralParams {
        uint256 maxLtv; // [wad] borrow limit per unit of value
        uint256 liquidationThreshold; // [wad] health-factor weight; >= maxLtv
        uint256 penalty; // [wad] added to the debt covered to make an auction's tab
        uint256 supplyCap; // [collateral decimals] total that may be supplied
        uint256 lotCap; // [debt decimals] largest tab one auction of this asset may carry
        uint256 liveTabCap; // [debt decimals] largest total tab of live auctions of this asset
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
        uint256 penaltyFundShare; // [wad] share of collected penalties sent to the InsuranceFund
    }

    /// @notice Lenders' penalty income unlocking into the share price: `amount` was locked at
    /// `start` and unlocks linearly until `end`.
    struct IncomeLock {
        uint128 amount; // [debt decimals]
        uint64 start; // [seconds]
        uint64 end; // [seconds]
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

    // Account events carry the balance after the change, so an indexer can mirror accounts by
    // overwriting rather than summing.
    event CollateralSupplied(address indexed account, address indexed collateral, address from, uint256 amount, uint256 balance);
    event CollateralWithdrawn(address indexed account, address indexed collateral, address to, uint256 amount, uint256 balance);
    event CollateralSeized(address indexed account, address indexed collateral, address to, uint256 amount, uint256 balance);
    event CollateralReturned(address indexed account, address indexed collateral, uint256 amount, uint256 balance);
    event Borrowed(address indexed account, address to, uint256 amount, uint256 scaledDebt);
    event Repaid(address indexed account, address payer, uint256 amount, uint256 scaledDebt);
    /// @notice A kick: `debtCovered` moved from the account into auctions at health factor `healthFactor`.
    event Liquidated(address indexed account, address indexed kicker, uint256 debtCovered, uint256 healthFactor, uint256 scaledDebt);
    event InterestAccrued(uint256 borrowIndex, uint256 interest, uint256 reserves);
    event ReservesCollected(uint256 amount);
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
    event AuthorizationSet(address indexed owner, address indexed operator, bool allowed);
    event CollateralConfigSet(address indexed collateral, CollateralParams params);
    event RateModelSet(RateModel model);
    event ReserveFactorSet(uint256 reserveFactor);
    event LiquidationConfigSet(LiquidationConfig config);
    event LiquidatorSet(address indexed liquidator);
    event PausedSet(bool paused, address indexed by);

    /// @dev Zero amount where a positive one is required.
    error ZeroAmount();
    /// @dev The asset is not a listed collateral (or cannot be one: zero, or the debt asset).
    error InvalidCollateral(address collateral);
    /// @dev Supplying would take the asset's total above its supply cap.
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
    /// @dev The asset's live auctions already carry its whole cap.
    error AuctionCapReached(address collateral, uint256 liveTab, uint256 liveTabCap);
    /// @dev Deposits, mints and borrows are paused.
    error EnforcedPause();
    /// @dev An entry point was called again while one was running (for example from `onTake`).
    error Reentrancy();
    /// @dev Only the liquidator may call this.
    error OnlyLiquidator(address caller);
    /// @dev The liquidator is set once.
    error LiquidatorAlreadySet(address liquidator);
    /// @dev No liquidator is set yet.
    error LiquidatorNotSet();
    /// @dev Listing more collateral assets than MAX_COLLATERAL_ASSETS.
    error TooManyCollateralAssets(uint256 max);

    // ---- borrowers ----

    /// @notice Add `amount` of `collateral` to `onBehalf`'s account, pulled from the caller. Never paused.
    function supplyCollateral(address collateral, uint256 amount, address onBehalf) external;

    /// @notice Take collateral out of `onBehalf`'s account (caller authorised) to `receiver`; the
    /// account must stay within its borrow limit.
    function withdrawCollateral(address collateral, uint256 amount, address onBehalf, address receiver) external;

    /// @notice Borrow `amount` [debt decimals] against `onBehalf`'s account (caller authorised) to
    /// `receiver`. Needs an `Ok` price for every asset involved.
    function borrow(uint256 amount, address onBehalf, address receiver) external;

    /// @notice Repay up to `amount` of `onBehalf`'s debt, pulled from the caller; more than the
    /// debt repays it all. Never paused, needs no price.
    /// @return repaid [debt decimals]
    function repay(uint256 amount, address onBehalf) external returns (uint256 repaid);

    /// @notice Let `operator` borrow and withdraw collateral for the caller's account.
    function setAuthorization(address operator, bool allowed) external;

    // ---- liquidation ----

    /// @notice Kick auctions for an account whose health factor is below 1 (an asset without an
    /// `Ok` price counts as worth nothing): all of the debt when it is small or the health factor
    /// is below `deepHealth`, else `closeFactor` of it; never leaving a debt below dust. Each priced
    /// asset's matching part moves to an auction, cut to the asset's room under `lotCap` and
    /// `liveTabCap` (or left for a later kick when that room is below dust); a part worth less than
    /// dust goes to the InsuranceFund with its debt settled as a shortfall. An account whose
    /// priced collateral is worth less than dust has its whole debt realised that way. Refused at
    /// breaker level 1 or above. Pays the caller the liquidator's incentive.
    /// @return ids the auctions started (empty when every part was written off).
    function liquidate(address account) external returns (uint256[] memory ids);

    /// @notice Liquidator hook: `debtRepaid` + `penalty` were paid into the Vault by a taker.
    function recordAuctionProceeds(uint256 debtRepaid, uint256 penalty) external;

    /// @notice Liquidator hook: `amount` of `collateral` left over from an auction was sent back to the
    /// Vault for `account`.
    function returnCollateral(address account, address collateral, uint256 amount) external;

    /// @notice Liquidator hook: an auction ran out of collateral with `shortfall` of debt unpaid.
    function settleShortfall(address account, uint256 shortfall) external;

    // ---- interest and reserves ----

    /// @notice Accrue interest up to now.
    function accrueInterest() external;

    /// @notice Send accrued reserves (as far as free cash goes) to the InsuranceFund.
    /// @return amount [debt decimals] sent.
    function collectReserves() external returns (uint256 amount);

    // ---- views ----

    /// @notice [debt decimals] the account's debt now, rounded up.
    function debtOf(address account) external view returns (uint256);

    /// @notice [wad] the account's health factor; type(uint256).max without debt.
    function healthFactor(address account) external view returns (uint256);

    /// @notice Health factors of many accounts in one call.
    function healthFactors(address[] calldata accounts) external view returns (uint256[] memory);

    /// @notice [wad USD per whole token] the price of `collateral` at which the account's health factor
    /// reaches 1, other prices unchanged; zero when no price of `collateral` alone would do it.
    function liquidationPrice(address account, address collateral) external view returns (uint256);

    /// @notice The account's position at current prices.
    function accountSnapshot(address account) external view returns (AccountSnapshot memory);

    /// @notice Listed collateral assets.
    function collateralAssets() external view returns (address[] memory);

    /// @notice The asset's collateral parameters.
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

    /// @notice [debt decimals] lenders' penalty income not yet in the share price.
    function unvestedIncome() external view returns (uint256);

    /// @notice [debt decimals] the live auctions' certain loss beyond what reserves and the
    /// InsuranceFund can cover; `totalAssets` already excludes it.
    function expectedLenderLoss() external view returns (uint256);
}
