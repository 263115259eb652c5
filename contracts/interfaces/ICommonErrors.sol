// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The errors more than one Gavel contract raises, declared once.
interface ICommonErrors {
    /// @dev A required address was zero.
    error ZeroAddress();
    /// @dev Zero amount where a positive one is required.
    error ZeroAmount();
    /// @dev An entry point was called again while one was running (for example from `onTake`).
    error Reentrancy();
}
