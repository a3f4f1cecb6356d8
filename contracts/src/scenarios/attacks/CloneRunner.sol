// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// ATTACK LAUNCHER FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark).

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {FlashFunded} from "../common/FlashFunded.sol";

/// @title CloneRunner
/// @notice Puts an EIP-1167 minimal proxy in front of scenario logic: `run` clones
/// `implementation` (a deployed FlashFunded subclass), claims the clone, calls it with `call`
/// (every step then executes by DELEGATECALL from the 45-byte proxy, and the flash-loan
/// callbacks hit the proxy), and forwards the clone's sweep to the caller.
contract CloneRunner {
    using SafeERC20 for IERC20;

    event CloneCreated(address indexed implementation, address clone);

    /// @param implementation Deployed FlashFunded subclass to clone.
    /// @param call Calldata for the clone (e.g. an encoded `execute(funding, params)`).
    /// @param sweepTokens Tokens forwarded to the caller afterwards.
    /// @return clone The proxy created.
    function run(address implementation, bytes calldata call, IERC20[] calldata sweepTokens)
        external
        returns (address clone)
    {
        clone = Clones.clone(implementation);
        emit CloneCreated(implementation, clone);
        FlashFunded(clone).initialize(address(this));
        Address.functionCall(clone, call);
        for (uint256 i = 0; i < sweepTokens.length; ++i) {
            uint256 amount = sweepTokens[i].balanceOf(address(this));
            if (amount != 0) sweepTokens[i].safeTransfer(msg.sender, amount);
        }
    }
}
