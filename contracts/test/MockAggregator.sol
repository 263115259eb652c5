// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/// @title TEST ONLY: a Chainlink-interface feed whose answer and timestamps a test sets.
/// @dev The round is packed into two slots, as Chainlink's own aggregators pack a transmission,
/// so reading it costs about what reading a real feed's does (gas figures stay honest).
contract MockAggregator is AggregatorV3Interface {
    uint8 public immutable decimals;
    string public description;
    uint256 public constant version = 4;

    int192 public answer;
    uint64 public updatedAt;
    uint80 public roundId;
    uint80 public answeredInRound;
    uint64 public startedAt;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(uint8 decimals_, string memory description_, int256 answer_) {
        decimals = decimals_;
        description = description_;
        _set(answer_, block.timestamp);
    }

    /// @notice A new round with `answer_`, updated now.
    function setAnswer(int256 answer_) external {
        _set(answer_, block.timestamp);
    }

    /// @notice A new round with `answer_`, updated at `updatedAt_`.
    function setAnswerAt(int256 answer_, uint256 updatedAt_) external {
        _set(answer_, updatedAt_);
    }

    /// @notice Make the latest round look incomplete (answered in an earlier round).
    function setAnsweredInRound(uint80 answeredInRound_) external {
        answeredInRound = answeredInRound_;
    }

    function getRoundData(uint80 roundId_) external view returns (uint80, int256, uint256, uint256, uint80) {
        return (roundId_, answer, startedAt, updatedAt, answeredInRound);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (roundId, answer, startedAt, updatedAt, answeredInRound);
    }

    function _set(int256 answer_, uint256 updatedAt_) internal {
        uint80 round = roundId + 1;
        (answer, updatedAt) = (SafeCast.toInt192(answer_), SafeCast.toUint64(updatedAt_));
        (roundId, answeredInRound, startedAt) = (round, round, SafeCast.toUint64(updatedAt_));
        emit AnswerUpdated(answer_, round, updatedAt_);
    }
}
