// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TEST ONLY: a contract whose fallback answers every call with one fixed word, to prove
/// that `setAuctionConfig` judges a curve by what it answers (a start above its top, or zero, is
/// not a curve's) rather than by whether it answers at all.
contract AnswersAnything {
    uint256 public immutable word;

    constructor(uint256 word_) {
        word = word_;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(word);
    }
}
