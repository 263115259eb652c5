// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Arrays} from "@openzeppelin/contracts/utils/Arrays.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {Governed} from "./base/Governed.sol";
import {WadMath} from "./libraries/WadMath.sol";
import {StaticCalls} from "./libraries/StaticCalls.sol";

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
    /// @notice Gas one source may use for one read; a source that needs more does not count.
    uint256 public constant SOURCE_GAS = 100_000;
    /// @notice [wad] The largest price a source may report ($10^18 per whole token); above it,
    /// the source does not count (its scaling would overflow the Vault's value arithmetic).
    uint256 public constant MAX_PRICE = 1e36;

    /// @dev One slot per source. The first source's slot also carries the asset's source count,
    /// so pricing an asset with one source (the common case) reads one slot of this contract.
    struct StoredSource {
        address feed; // AggregatorV3Interface
        uint32 heartbeat; // [seconds]
        uint8 decimals; // the feed's
        uint8 count; // in the first source's slot: sources configured (zero: the asset is not configured)
    }

    /// @dev Read only for an asset with several sources.
    struct AssetConfig {
        uint8 quorum;
        uint64 maxDeviation; // [wad]
    }

    mapping(address asset => StoredSource[MAX_SOURCES]) internal _sources; // the first `count` are set
    mapping(address asset => AssetConfig) internal _configs;
    address public sequencerFeed; // AggregatorV3Interface; zero on L1 (shares a slot with the next)
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

        StoredSource[MAX_SOURCES] storage sources = _sources[asset];
        for (uint256 i; i < n; ++i) {
            address feed = feeds[i];
            if (feed == address(0)) revert InvalidFeed(feed);
            for (uint256 j; j < i; ++j) {
                if (feeds[j] == feed) revert InvalidFeed(feed);
            }
            if (heartbeats[i] < MIN_HEARTBEAT || heartbeats[i] > MAX_HEARTBEAT) revert InvalidHeartbeat(feed, heartbeats[i]);
            (bool answered, uint256 decimals) = StaticCalls.tryDecimals(feed);
            if (!answered || decimals > 36) revert InvalidFeed(feed); // not a feed, or one we cannot scale
            sources[i] = StoredSource({feed: feed, heartbeat: heartbeats[i], decimals: uint8(decimals), count: i == 0 ? uint8(n) : 0});
        }
        for (uint256 i = n; i < MAX_SOURCES; ++i) {
            delete sources[i];
        }
        _configs[asset] = AssetConfig(quorum, uint64(maxDeviation));
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
    function sourcesOf(address asset) external view returns (Source[] memory sources, uint8, uint256) {
        StoredSource[MAX_SOURCES] storage stored = _sources[asset];
        AssetConfig memory config = _configs[asset];
        sources = new Source[](stored[0].count);
        for (uint256 i; i < sources.length; ++i) {
            sources[i] = Source(stored[i].feed, stored[i].heartbeat, stored[i].decimals);
        }
        return (sources, config.quorum, config.maxDeviation);
    }

    /// @inheritdoc IOracleAdapter
    /// @dev An asset with one source (the common case) reads one slot and that source, and
    /// needs neither median nor spread.
    function peek(address asset) public view returns (uint256 priceWad, Status) {
        StoredSource[MAX_SOURCES] storage sources = _sources[asset];
        uint256 n = sources[0].count;
        if (n == 0) revert AssetNotConfigured(asset);
        if (n == 1) {
            (bool ok, uint256 answer) = _read(sources[0]);
            if (!_sequencerUp()) return (answer, Status.SequencerDown);
            return ok ? (answer, Status.Ok) : (0, Status.Stale);
        }

        uint256[] memory answers = new uint256[](n);
        uint256 counted;
        for (uint256 i; i < n; ++i) {
            (bool ok, uint256 answer) = _read(sources[i]);
            if (ok) answers[counted++] = answer;
        }
        // Shrink to the counting answers before sorting.
        assembly ("memory-safe") {
            mstore(answers, counted)
        }
        if (counted > 0) priceWad = _median(answers);

        if (!_sequencerUp()) return (priceWad, Status.SequencerDown);
        if (counted == 0) return (0, Status.Stale);
        AssetConfig memory config = _configs[asset];
        if (counted < config.quorum) return (priceWad, Status.NoQuorum);
        // answers is sorted by _median: the spread is last minus first.
        if ((answers[counted - 1] - answers[0]).wDivUp(priceWad) > config.maxDeviation) {
            return (priceWad, Status.Disputed);
        }
        return (priceWad, Status.Ok);
    }

    /// @inheritdoc IOracleAdapter
    function lastKnown(address asset) external view returns (uint256 priceWad) {
        StoredSource[MAX_SOURCES] storage sources = _sources[asset];
        uint256 n = sources[0].count;
        if (n == 0) revert AssetNotConfigured(asset);
        uint256[] memory answers = new uint256[](n);
        uint256 counted;
        for (uint256 i; i < n; ++i) {
            (bool ok, uint256 answer,) = _answer(sources[i]); // however old
            if (ok) answers[counted++] = answer;
        }
        assembly ("memory-safe") {
            mstore(answers, counted)
        }
        return counted == 0 ? 0 : _median(answers);
    }

    /// @dev A source's answer in WAD, and whether it counts. A source that reverts, runs out of
    /// its gas stipend, answers something that does not decode as five words of the right ranges,
    /// or answers a value too large to scale does not count, rather than taking every caller down.
    function _read(StoredSource storage source) internal view returns (bool ok, uint256 answerWad) {
        uint256 updatedAt;
        (ok, answerWad, updatedAt) = _answer(source);
        if (!ok || block.timestamp - updatedAt > source.heartbeat) return (false, 0);
    }

    /// @dev A source's latest answer in WAD and when it was given, and whether it is a good one:
    /// it decodes, is positive, comes from a complete round, is not dated in the future and scales.
    function _answer(StoredSource storage source) internal view returns (bool ok, uint256 answerWad, uint256 updatedAt) {
        (bool called, uint256 roundId, uint256 answer,, uint256 updated, uint256 answeredInRound) =
            _latestRoundData(source.feed);
        if (!called || roundId > type(uint80).max || answeredInRound > type(uint80).max) return (false, 0, 0);
        // `answer` is an int256: the top bit set means negative.
        if (answer == 0 || answer > uint256(type(int256).max)) return (false, 0, 0);
        if (updated == 0 || updated > block.timestamp) return (false, 0, 0);
        if (answeredInRound < roundId) return (false, 0, 0); // round not complete
        updatedAt = updated;
        uint8 decimals = source.decimals;
        if (decimals <= 18) {
            uint256 scale = 10 ** (18 - decimals);
            if (answer > MAX_PRICE / scale) return (false, 0, 0);
            return (true, answer * scale, updated);
        }
        answerWad = answer / 10 ** (decimals - 18); // rounded down; >18-decimal feeds are rare
        ok = answerWad > 0 && answerWad <= MAX_PRICE;
    }

    /// @dev `latestRoundData()` of `feed` by a staticcall given at most SOURCE_GAS, copying back
    /// at most the five words it should return (so a huge return or revert costs this contract
    /// nothing). `called` is false when the call failed or returned fewer than five words. A call
    /// that failed because the caller left it less than its stipend reverts the whole call instead
    /// (`OracleGasTooLow`): otherwise anyone could make a source "not count" by sending too little gas.
    function _latestRoundData(address feed)
        internal
        view
        returns (bool called, uint256 roundId, uint256 answer, uint256 startedAt, uint256 updatedAt, uint256 answeredInRound)
    {
        uint256 stipend = SOURCE_GAS;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, shl(224, 0xfeaf968c)) // latestRoundData()
            called := staticcall(stipend, feed, p, 4, p, 0xa0)
            // Separately: Yul evaluates arguments right to left, so this must follow the call.
            called := and(called, iszero(lt(returndatasize(), 0xa0)))
            roundId := mload(p)
            answer := mload(add(p, 0x20))
            startedAt := mload(add(p, 0x40))
            updatedAt := mload(add(p, 0x60))
            answeredInRound := mload(add(p, 0x80))
        }
        // Starved: the source got 63/64 of what was left, less than its stipend, and failed.
        if (!called && gasleft() < SOURCE_GAS / 63 + 1) revert OracleGasTooLow(gasleft(), SOURCE_GAS);
    }

    /// @dev Median of a non-empty array, sorting it in place. An even count averages the middle
    /// two, rounded down.
    function _median(uint256[] memory values) internal pure returns (uint256) {
        values = Arrays.sort(values); // in place; the same array comes back
        uint256 n = values.length;
        if (n % 2 == 1) return values[n / 2];
        return (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /// @dev True when no sequencer feed is set, or it reports up (answer 0) since longer than the
    /// grace period. A sequencer feed that fails to answer, or dates its round in the future, counts as down.
    function _sequencerUp() internal view returns (bool) {
        address feed = sequencerFeed;
        if (feed == address(0)) return true;
        (bool called,, uint256 answer, uint256 startedAt,,) = _latestRoundData(feed);
        if (!called || answer != 0 || startedAt == 0 || startedAt > block.timestamp) return false;
        return block.timestamp - startedAt > sequencerGracePeriod;
    }
}
