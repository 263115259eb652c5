// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Arrays} from "@openzeppelin/contracts/utils/Arrays.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {Governed} from "./base/Governed.sol";
import {WadMath} from "./libraries/WadMath.sol";

/// @title OracleAdapter
/// @notice Median of 1 to 5 Chainlink-interface sources per asset, with staleness, quorum and
/// deviation checks. See IOracleAdapter.
contract OracleAdapter is IOracleAdapter, Governed {
    using WadMath for uint256;

    uint256 public constant MAX_SOURCES = 5;
    uint32 public constant MIN_HEARTBEAT = 1 minutes;
    uint32 public constant MAX_HEARTBEAT = 3 days; // Chainlink's slowest stablecoin feeds beat daily
    uint256 public constant MIN_DEVIATION = 0.001e18; // [wad] 0.1%
    uint256 public constant MAX_DEVIATION = 0.5e18; // [wad] 50%
    uint32 public constant MAX_GRACE_PERIOD = 1 days;

    struct AssetConfig {
        Source[] sources;
        uint8 quorum;
        uint256 maxDeviation; // [wad]
    }

    mapping(address asset => AssetConfig) internal _configs;
    address public sequencerFeed; // AggregatorV3Interface; zero on L1
    uint32 public sequencerGracePeriod; // [seconds]

    constructor(address governor, address guardian) Governed(governor, guardian) {}

    /// @inheritdoc IOracleAdapter
    function setSources(address asset, address[] calldata feeds, uint32[] calldata heartbeats, uint8 quorum, uint256 maxDeviation)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        uint256 n = feeds.length;
        if (n == 0 || n > MAX_SOURCES) revert InvalidSourceCount(n);
        if (heartbeats.length != n) revert LengthMismatch(n, heartbeats.length);
        if (quorum == 0 || quorum > n) revert InvalidQuorum(quorum, n);
        if (maxDeviation < MIN_DEVIATION || maxDeviation > MAX_DEVIATION) revert InvalidDeviation(maxDeviation);

        AssetConfig storage config = _configs[asset];
        delete config.sources;
        for (uint256 i; i < n; ++i) {
            address feed = feeds[i];
            if (feed == address(0)) revert InvalidFeed(feed);
            for (uint256 j; j < i; ++j) {
                if (feeds[j] == feed) revert InvalidFeed(feed);
            }
            if (heartbeats[i] < MIN_HEARTBEAT || heartbeats[i] > MAX_HEARTBEAT) revert InvalidHeartbeat(feed, heartbeats[i]);
            uint8 decimals = AggregatorV3Interface(feed).decimals();
            if (decimals > 36) revert InvalidFeed(feed);
            config.sources.push(Source({feed: feed, heartbeat: heartbeats[i], decimals: decimals}));
        }
        config.quorum = quorum;
        config.maxDeviation = maxDeviation;
        emit SourcesSet(asset, feeds, heartbeats, quorum, maxDeviation);
    }

    /// @inheritdoc IOracleAdapter
    function setSequencerFeed(address feed, uint32 gracePeriod) external onlyRole(GOVERNOR_ROLE) {
        if (gracePeriod > MAX_GRACE_PERIOD) revert InvalidGracePeriod(gracePeriod);
        sequencerFeed = feed;
        sequencerGracePeriod = gracePeriod;
        emit SequencerFeedSet(feed, gracePeriod);
    }

    /// @inheritdoc IOracleAdapter
    function price(address asset) external view returns (uint256 priceWad) {
        Status s;
        (priceWad, s) = peek(asset);
        if (s != Status.Ok) revert PriceUnavailable(asset, s);
    }

    /// @inheritdoc IOracleAdapter
    function status(address asset) external view returns (Status s) {
        (, s) = peek(asset);
    }

    /// @inheritdoc IOracleAdapter
    function sourcesOf(address asset) external view returns (Source[] memory, uint8, uint256) {
        AssetConfig storage config = _configs[asset];
        return (config.sources, config.quorum, config.maxDeviation);
    }

    /// @inheritdoc IOracleAdapter
    function peek(address asset) public view returns (uint256 priceWad, Status) {
        AssetConfig storage config = _configs[asset];
        uint256 n = config.sources.length;
        if (n == 0) revert AssetNotConfigured(asset);

        uint256[] memory answers = new uint256[](n);
        uint256 counted;
        for (uint256 i; i < n; ++i) {
            (bool ok, uint256 answer) = _read(config.sources[i]);
            if (ok) answers[counted++] = answer;
        }
        // Shrink to the counting answers before sorting.
        assembly ("memory-safe") {
            mstore(answers, counted)
        }
        if (counted > 0) priceWad = _median(answers);

        if (!_sequencerUp()) return (priceWad, Status.SequencerDown);
        if (counted == 0) return (0, Status.Stale);
        if (counted < config.quorum) return (priceWad, Status.NoQuorum);
        // answers is sorted by _median: the spread is last minus first.
        if ((answers[counted - 1] - answers[0]).wDivUp(priceWad) > config.maxDeviation) {
            return (priceWad, Status.Disputed);
        }
        return (priceWad, Status.Ok);
    }

    /// @dev A source's answer in WAD, and whether it counts. A feed that reverts does not count
    /// (rather than taking every caller down with it).
    function _read(Source storage source) internal view returns (bool ok, uint256 answerWad) {
        try AggregatorV3Interface(source.feed).latestRoundData() returns (
            uint80 roundId, int256 answer, uint256, uint256 updatedAt, uint80 answeredInRound
        ) {
            if (answer <= 0 || updatedAt == 0 || updatedAt > block.timestamp) return (false, 0);
            if (block.timestamp - updatedAt > source.heartbeat) return (false, 0);
            if (answeredInRound < roundId) return (false, 0); // round not complete
            uint256 raw = uint256(answer);
            answerWad = source.decimals <= 18
                ? raw * 10 ** (18 - source.decimals)
                : raw / 10 ** (source.decimals - 18); // rounded down; >18-decimal feeds are rare
            return (answerWad > 0, answerWad);
        } catch {
            return (false, 0);
        }
    }

    /// @dev Median of a non-empty array, sorting it in place. An even count averages the middle
    /// two, rounded down.
    function _median(uint256[] memory values) internal pure returns (uint256) {
        Arrays.sort(values);
        uint256 n = values.length;
        if (n % 2 == 1) return values[n / 2];
        return (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /// @dev True when no sequencer feed is set, or it reports up (answer 0) for longer than the
    /// grace period. A sequencer feed that reverts counts as down.
    function _sequencerUp() internal view returns (bool) {
        address feed = sequencerFeed;
        if (feed == address(0)) return true;
        try AggregatorV3Interface(feed).latestRoundData() returns (uint80, int256 answer, uint256 startedAt, uint256, uint80) {
            return answer == 0 && startedAt != 0 && block.timestamp - startedAt > sequencerGracePeriod;
        } catch {
            return false;
        }
    }
}
