// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Asking an address governance names for one number, where what does not answer must get
/// the caller's named error rather than a bare revert.
library StaticCalls {
    /// @dev What `target` answers to `data` as one word, and whether it answered one word at all.
    /// A plain staticcall: an account without code, a contract without the function, one that
    /// reverts or answers a different length all come back as not answered.
    function tryUint(address target, bytes memory data) internal view returns (bool answered, uint256 value) {
        (bool ok, bytes memory answer) = target.staticcall(data);
        if (!ok || answer.length != 32) return (false, 0);
        return (true, abi.decode(answer, (uint256)));
    }

    /// @dev `target.decimals()` (an ERC-20's or a Chainlink feed's: the same selector).
    function tryDecimals(address target) internal view returns (bool answered, uint256 decimals) {
        return tryUint(target, abi.encodeWithSignature("decimals()"));
    }
}
