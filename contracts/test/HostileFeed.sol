// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TEST ONLY: a price source that misbehaves in one chosen way, to prove the OracleAdapter
/// simply does not count it (rather than reverting, or running out of gas, with it).
/// @dev It answers `decimals()` like a feed, so it can be configured as a source; every mode
/// breaks only `latestRoundData()`.
contract HostileFeed {
    enum Mode {
        Overflow, // a positive answer whose scaling to 18 decimals overflows
        ShortData, // returns 32 bytes where five words are expected: does not decode
        BadRound, // a roundId that does not fit uint80: strict decoding would revert
        BurnGas, // loops until every bit of gas it was given is gone
        ReturnBomb // reverts with a very large revert reason, to make the caller copy it
    }

    Mode public immutable mode;
    uint8 public immutable decimals;

    constructor(Mode mode_) {
        mode = mode_;
        decimals = mode_ == Mode.Overflow ? 0 : 8;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        Mode m = mode;
        uint256 now_ = block.timestamp;
        if (m == Mode.Overflow) return (1, type(int256).max, now_, now_, 1);
        if (m == Mode.ShortData) {
            assembly ("memory-safe") {
                mstore(0, 1)
                return(0, 32)
            }
        }
        if (m == Mode.BadRound) {
            assembly ("memory-safe") {
                let p := mload(0x40)
                mstore(p, not(0)) // roundId: 2^256 - 1
                mstore(add(p, 0x20), 200000000000) // answer: $2,000 at 8 decimals
                mstore(add(p, 0x40), now_)
                mstore(add(p, 0x60), now_)
                mstore(add(p, 0x80), 1)
                return(p, 0xa0)
            }
        }
        if (m == Mode.BurnGas) {
            uint256 x;
            while (true) {
                x = uint256(keccak256(abi.encode(x)));
            }
        }
        assembly ("memory-safe") {
            revert(0, 200000) // ReturnBomb
        }
    }
}
