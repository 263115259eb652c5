// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title OracleAdapter: the mark price of every asset Gavel touches.
/// @notice Per asset, 1 to 5 sources speaking Chainlink's AggregatorV3Interface (a Uniswap V3
/// TWAP or anything else joins by wrapping itself in that interface). A source counts only if its
/// answer is positive, its round complete, and it is no older than that source's heartbeat. The
/// price is the median of the sources that count. Too few of them, or too wide a spread, is a
/// status and not a price. Each source is read with a bounded gas stipend; a source that reverts,
/// runs out of gas, answers what does not decode, or answers a value too large to scale simply
/// does not count.
interface IOracleAdapter {
    /// @notice Why an asset has no usable price, or `Ok`.
    /// `Stale`: no source counts. `NoQuorum`: some count, fewer than the asset's quorum.
    /// `Disputed`: (max - min) / median of the counting sources exceeds the max deviation.
    /// `SequencerDown`: the L2 sequencer feed reports down, or restarted within the grace period.
    enum Status {
        Ok,
        Stale,
        NoQuorum,
        Disputed,
        SequencerDown
    }

    /// @notice One source of an asset's price.
    struct Source {
        address feed; // AggregatorV3Interface
        uint32 heartbeat; // [seconds] oldest answer that still counts
        uint8 decimals; // the feed's answer decimals, read when configured
    }

    /// @notice An asset's sources were (re)configured.
    event SourcesSet(address indexed asset, address[] feeds, uint32[] heartbeats, uint8 quorum, uint256 maxDeviation);
    /// @notice The L2 sequencer-uptime feed was set (zero address: none).
    event SequencerFeedSet(address indexed feed, uint32 gracePeriod);

    /// @dev The asset has no sources configured.
    error AssetNotConfigured(address asset);
    /// @dev The asset's status is not `Ok`; `status` says why.
    error PriceUnavailable(address asset, Status status);
    /// @dev 1 to 5 sources are allowed per asset.
    error InvalidSourceCount(uint256 count);
    /// @dev Feeds and heartbeats arrays differ in length.
    error LengthMismatch(uint256 feeds, uint256 heartbeats);
    /// @dev A heartbeat outside [MIN_HEARTBEAT, MAX_HEARTBEAT].
    error InvalidHeartbeat(address feed, uint32 heartbeat);
    /// @dev A feed that is zero, repeated, or reports more than 36 decimals.
    error InvalidFeed(address feed);
    /// @dev The quorum must be between 1 and the number of sources.
    error InvalidQuorum(uint8 quorum, uint256 sources);
    /// @dev The max deviation must be within [MIN_DEVIATION, MAX_DEVIATION].
    error InvalidDeviation(uint256 maxDeviation);
    /// @dev The sequencer grace period must be at most MAX_GRACE_PERIOD.
    error InvalidGracePeriod(uint32 gracePeriod);
    /// @dev A source failed after the caller left it less gas than its stipend: send more gas.
    error OracleGasTooLow(uint256 gasLeft, uint256 stipend);

    /// @notice Configure an asset's sources, replacing any before. Governor only.
    /// @param feeds 1 to 5 distinct AggregatorV3Interface feeds.
    /// @param heartbeats [seconds] per feed, each within [MIN_HEARTBEAT, MAX_HEARTBEAT].
    /// @param quorum how many sources must count, 1 to feeds.length.
    /// @param maxDeviation [wad] largest allowed (max - min) / median among counting sources.
    function setSources(address asset, address[] calldata feeds, uint32[] calldata heartbeats, uint8 quorum, uint256 maxDeviation)
        external;

    /// @notice Set (or clear with the zero address) the L2 sequencer-uptime feed. Governor only.
    /// @param gracePeriod [seconds] after the sequencer comes back during which prices are refused.
    function setSequencerFeed(address feed, uint32 gracePeriod) external;

    /// @notice The asset's price [wad USD per whole token]; reverts `PriceUnavailable` unless `Ok`.
    function price(address asset) external view returns (uint256);

    /// @notice The asset's median price [wad] (zero when no source counts) and its status; never
    /// reverts for a configured asset.
    function peek(address asset) external view returns (uint256 priceWad, Status assetStatus);

    /// @notice [wad USD per whole token] The asset's last known price: the median of the latest
    /// answer of every source that answers at all (a positive answer of a complete round, not dated
    /// in the future), however old, whatever the sequencer says and however far the sources
    /// disagree; zero when none answers. Not a price to lend against: a floor for selling a
    /// borrower's collateral while `peek` cannot price it, and a last value for lots in an outage.
    function lastKnown(address asset) external view returns (uint256 priceWad);

    /// @notice The asset's status alone.
    function status(address asset) external view returns (Status);

    /// @notice The asset's sources, quorum and max deviation [wad].
    function sourcesOf(address asset) external view returns (Source[] memory sources, uint8 quorum, uint256 maxDeviation);
}
