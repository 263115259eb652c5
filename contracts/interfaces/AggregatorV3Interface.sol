// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Chainlink's price-feed interface, as deployed feeds expose it.
/// @dev Written out here because npm `@chainlink/contracts` does not install on these machines
/// (one of its dependencies is a git URL); the ABI is what matters and it is this.
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
