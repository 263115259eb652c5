// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITakeCallee} from "../interfaces/ITakeCallee.sol";

/// @title TEST ONLY: a take receiver whose `onTake` calls `target` with the calldata it was given,
/// bubbling up any revert, to prove the entry points refuse re-entry.
contract ReentrantTaker is ITakeCallee {
    address public target;

    function setTarget(address target_) external {
        target = target_;
    }

    function onTake(address, uint256, address, uint256, uint256, bytes calldata data) external {
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
    }
}
