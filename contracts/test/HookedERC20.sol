// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "./MockERC20.sol";

/// @notice What a HookedERC20 calls on a receiver that asked for it.
interface ITokenReceiver {
    function tokensReceived(address from, uint256 amount) external;
}

/// @title TEST ONLY: an ERC-20 that calls its receiver back, as ERC-777 tokens (and ERC-1363's
/// transferAndCall) do: after every transfer or mint to a contract that registered for it, the
/// token calls `tokensReceived(from, amount)` on it. Used as a debt token, it lets a keeper run code
/// in the middle of the fund paying it, which is how item 7 of the sound-books issue was found.
contract HookedERC20 is MockERC20 {
    mapping(address account => bool) public hooked;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) MockERC20(name_, symbol_, decimals_) {}

    /// @notice Ask (or stop asking) to be called back on every transfer received.
    function setHook(bool on) external {
        hooked[msg.sender] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (to != address(0) && hooked[to]) ITokenReceiver(to).tokensReceived(from, value);
    }
}
