// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title GuardianPausable
/// @notice Shared pause switch of the scenario victims: the Vigil Guardian holds PAUSER_ROLE and
/// calls `pause()` ahead of an attack; the admin can grant the role to other guardians.
abstract contract GuardianPausable is AccessControl, Pausable {
    /// @notice Role allowed to pause and unpause (granted to the Vigil Guardian).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    error ZeroAddress();

    /// @param admin Receives DEFAULT_ADMIN_ROLE (can grant/revoke PAUSER_ROLE).
    /// @param pauser Receives PAUSER_ROLE; address(0) to grant it later.
    constructor(address admin, address pauser) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (pauser != address(0)) _grantRole(PAUSER_ROLE, pauser);
    }

    /// @notice Stops every user action guarded by `whenNotPaused`. PAUSER_ROLE only.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes user actions. PAUSER_ROLE only.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }
}
