// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICommonErrors} from "./ICommonErrors.sol";
import {IVault} from "./IVault.sol";

/// @title DutchAuctionLiquidator: sells seized collateral for the debt asset at a falling price.
/// @notice One auction per (account, collateral, kick). The Vault's `liquidate` kicks; anyone
/// takes. The price starts at the oracle price times `buf` and falls along the collateral's curve.
/// An auction's price never falls below its floor (`cusp` of its start) and holds there; when it
/// is too old (`tail`), `redo` restarts it from a fresh oracle price. Breaker levels: 1 stops new
/// kicks, 2 also stops redo, 3 also stops take.
/// The collateral stays in the Vault until a take releases it; each take settles with the Vault
/// in one call. Keepers learn auctions from `Kick` and `AuctionEnded` events; an auction's id
/// carries its account, a kick nonce and the collateral's index (`idOf`).
/// Prices here are [wad debt tokens per whole collateral token].
interface IDutchAuctionLiquidator is ICommonErrors {
    /// @notice A live auction, as stored: two slots.
    struct Auction {
        uint128 lot; // [collateral decimals] collateral left to sell
        uint128 tab; // [debt decimals] still to raise: debt first, then penalty
        uint128 refPrice; // [wad] the oracle's price at the kick: what lenders value the lot against
        // (LossBound), and, times buf, the curve's top in an outage no feed ever answered
        uint88 penalty; // [debt decimals] the part of the tab that is penalty: debt = tab - penalty
        uint32 startedAt; // [seconds] last kick or redo
        uint8 redos; // how many times it was restarted
    }

    /// @notice Per collateral token, as the governor sets it.
    struct AuctionConfig {
        address curve; // IAuctionCurve
        uint256 buf; // [wad] start price / oracle price
        uint256 tail; // [seconds] age after which an auction needs redo
        uint256 cusp; // [wad] the floor: price / top below which an auction's price never falls
    }

    /// @notice A keeper's or a screen's full view of one auction.
    struct AuctionView {
        address account; // the borrower (the InsuranceFund for a sale of its collateral)
        address collateral;
        uint256 lot; // [collateral decimals]
        uint256 tab; // [debt decimals]
        uint256 debt; // [debt decimals] the part of the tab owed to lenders
        uint256 top; // [wad] the price the curve runs from now (today's oracle price times buf)
        uint256 startedAt; // [seconds]
        uint256 price; // [wad] now
        bool needsRedo;
        uint256 clears; // [wad] of the tab a token bought clears: above `price` by what the penalty waives
    }

    event Kick(
        uint256 indexed id,
        address indexed account,
        address indexed collateral,
        uint256 lot,
        uint256 tab,
        uint256 debt,
        uint256 top,
        address kicker
    );
    event Take(
        uint256 indexed id,
        address indexed taker,
        address receiver,
        uint256 price,
        uint256 bought,
        uint256 paid,
        uint256 tabLeft,
        uint256 lotLeft
    );
    event Redo(uint256 indexed id, uint256 top, uint256 tab, uint256 lot, address indexed keeper);
    /// @notice The auction ended: `leftover` collateral went back to the account, `shortfall` of
    /// its debt was not raised. That debt goes back onto the account while it has something left to
    /// sell (the Vault's `DebtReturned`), else to reserves, the InsuranceFund and then lenders.
    event AuctionEnded(uint256 indexed id, address indexed account, uint256 leftover, uint256 shortfall);
    /// @notice `redo` found the remaining `lot` worth less than dust: it went to the InsuranceFund
    /// and the auction ended with its unpaid debt as a shortfall (see `AuctionEnded`).
    event DustLotWrittenOff(uint256 indexed id, uint256 lot, uint256 tab);
    /// @notice `owed` incentive for a kick or redo, credited to `keeper`; `claimIncentive` pays it.
    event KeeperIncentive(address indexed keeper, uint256 owed, uint256 paid);
    /// @notice `keeper` claimed `owed` of its credited incentives; the fund could pay `paid` (the
    /// rest stays credited).
    event IncentiveClaimed(address indexed keeper, uint256 owed, uint256 paid);
    event GasAssetSet(address indexed asset);
    event AuctionConfigSet(address indexed collateral, address curve, uint256 buf, uint256 tail, uint256 cusp);
    event IncentiveSet(uint256 tip, uint256 chip);
    event BreakerSet(uint8 level, address indexed by);

    /// @dev Only the Vault may kick or ask for this.
    error OnlyVault(address caller);
    /// @dev The breaker level stops this entry point.
    error BreakerActive(uint8 level);
    /// @dev No live auction with this id.
    error AuctionNotActive(uint256 id);
    /// @dev The auction is past its tail: it must be redone before it can be taken.
    error AuctionNeedsRedo(uint256 id);
    /// @dev `redo` on an auction that is not past its tail (nor a dust lot held at its floor).
    error AuctionNotDone(uint256 id);
    /// @dev The current price is above the taker's limit.
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    /// @dev The take would leave a tab below dust, and the tab is too small to leave dust behind.
    error TakeWouldLeaveDust(uint256 tabLeft, uint256 dust);
    /// @dev At the current price the take buys nothing.
    error TakeTooSmall(uint256 id);
    /// @dev No auction curve is configured for the collateral.
    error AuctionNotConfigured(address collateral);
    /// @dev The guardian may only raise the breaker.
    error BreakerNotRaised(uint8 current, uint8 requested);
    /// @dev The curve's price at the start is zero or above the top price: it is no curve.
    error InvalidCurve(address curve);
    /// @dev Only the InsuranceFund may start a sale of its collateral.
    error OnlyInsuranceFund(address caller);

    /// @notice Start one auction per lot and credit `kicker` with tip + chip * total tab when the
    /// total tab is at least dust, but never more than half the penalty the lots charge (so a kick
    /// always costs the account more than it pays its kicker). Vault only.
    function kick(address account, IVault.Lot[] calldata lots, address kicker) external returns (uint256[] memory ids);

    /// @notice Credit the kicker of the kick just made in this transaction its gas, `gasUsed` as
    /// the Vault measured it, at this block's base fee (see `gasAsset`), at most a tenth of the
    /// kick's tab; nothing for a kick that earned no incentive. Vault only.
    function payKickGas(uint256 gasUsed) external;

    /// @notice The asset whose oracle price prices the chain's gas token (WETH for ETH), for the
    /// gas part of a kick's pay; zero: kicks are paid no gas.
    function gasAsset() external view returns (address);

    /// @notice [debt decimals] What `gas` (plus a transaction's intrinsic gas and calldata) costs
    /// at this block's base fee, priced by the oracle through `gasAsset`, rounded down; zero
    /// without a gas asset or an `Ok` price.
    function gasValue(uint256 gas) external view returns (uint256);

    /// @notice Set `gasAsset` (zero turns the gas part off). Governor only.
    function setGasAsset(address asset) external;

    /// @notice Sell `amount` of `collateral` the InsuranceFund seized (already sent to the Vault)
    /// through an auction like any other: proceeds and anything unsold go to the fund. Its tab is
    /// what the lot would raise at the start price, and it pays no incentive. Refused at breaker
    /// level 1 or above. InsuranceFund only.
    function startSale(address collateral, uint256 amount) external returns (uint256 id);

    /// @notice Buy up to `maxCollateral` from auction `id` at the current price, if it is at most
    /// `maxPrice`. The Vault sends the collateral to `receiver`; if `data` is not empty, it calls
    /// `ITakeCallee(receiver).onTake(msg.sender, id, collateral, amount, owe, data)`; then it pulls
    /// `owe` of the debt asset from msg.sender (who approves the Vault). Never sells more than the
    /// tab needs and never leaves a tab below dust (it sells less instead).
    /// @return bought [collateral decimals] collateral bought.
    /// @return owe [debt decimals] paid.
    function take(uint256 id, uint256 maxCollateral, uint256 maxPrice, address receiver, bytes calldata data)
        external
        returns (uint256 bought, uint256 owe);

    /// @notice Restart an auction past its tail from a fresh oracle price, crediting the
    /// caller tip + chip * tab when the tab is at least dust: each of the first four redos at most
    /// an eighth of the auction's penalty, so redos together never earn more than half of it. An
    /// auction whose remaining lot is worth less than dust is not restarted but ended: the lot goes
    /// to the InsuranceFund and the unpaid debt is a shortfall, as at the end of a take (no incentive).
    function redo(uint256 id) external;

    /// @notice Pay the caller its credited incentives, as far as the InsuranceFund's balance goes.
    /// @return paid [debt decimals]
    function claimIncentive() external returns (uint256 paid);

    /// @notice A keeper's view of an auction.
    /// @return needsRedo whether it must be redone before it can be taken.
    /// @return price [wad] current price (zero for an ended auction).
    /// @return lot [collateral decimals] left to sell.
    /// @return tab [debt decimals] left to raise.
    function getStatus(uint256 id) external view returns (bool needsRedo, uint256 price, uint256 lot, uint256 tab);

    /// @notice Everything about one auction (zeros for an ended one, but its account and collateral).
    function auctionView(uint256 id) external view returns (AuctionView memory);

    /// @notice `auctionView` of each id, in one call: a keeper reads every live auction it knows
    /// of (from `Kick` and `AuctionEnded` events) with one request per tick.
    function auctionViews(uint256[] calldata ids) external view returns (AuctionView[] memory);

    /// @notice The id of the auction of `account`'s collateral `index` opened by kick `nonce`.
    function idOf(address account, uint256 nonce, uint8 index) external pure returns (uint256);

    /// @notice The Vault this liquidator's auctions settle with.
    function vault() external view returns (IVault);

    /// @notice The current breaker level, 0 to 3.
    function breaker() external view returns (uint8);

    /// @notice [debt decimals] tip + chip * `tab`: the keeper incentive for kicking or redoing `tab`
    /// before its cap.
    function incentive(uint256 tab) external view returns (uint256);

    /// @notice [debt decimals] incentives credited to `keeper` and not yet claimed.
    function claimable(address keeper) external view returns (uint256);

    /// @notice [debt decimals] incentives credited to all keepers and not yet claimed: the part of
    /// the InsuranceFund's balance already owed.
    function owedIncentives() external view returns (uint256);

    /// @notice The Vault's dust (`minDebt`), copied here for the take rule. Vault only.
    function setDust(uint256 minDebt) external;
}
