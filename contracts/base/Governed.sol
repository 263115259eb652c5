// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICommonErrors} from "../interfaces/ICommonErrors.sol";
import {Bounds} from "../libraries/Bounds.sol";

/// @title Roles shared by every Gavel contract.
/// @dev The governor sets parameters, each inside hard bounds written in the contract that owns
/// it, and administers roles. The guardian can only make things safer (pause, raise a breaker);
/// the governor can do that too.
abstract contract Governed is AccessControl, ICommonErrors {
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @dev The caller holds neither the guardian nor the governor role.
    error NotGuardian(address caller);

    modifier onlyGuardian() {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert NotGuardian(msg.sender);
        }
        _;
    }

    constructor(address governor, address guardian) {
        if (governor == address(0) || guardian == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, governor);
        _grantRole(GOVERNOR_ROLE, governor);
        _grantRole(GUARDIAN_ROLE, guardian);
    }

    /// @dev Reverts `Bounds.OutOfBounds` unless min <= value <= max.
    function _checkBounds(bytes32 parameter, uint256 value, uint256 min, uint256 max) internal pure {
        Bounds.check(parameter, value, min, max);
    }
}
