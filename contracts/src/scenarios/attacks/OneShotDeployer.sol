// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// ATTACK LAUNCHER FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark).

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

/// @title OneShotDeployer
/// @notice Runs any scenario contract's whole job inside ONE contract-creation transaction: the
/// mempool sees only init code, no call to a known contract. Flash-loan callbacks cannot reach a
/// contract under construction (its address has no code yet), so the constructor deploys the
/// worker from `workerInitCode` (a FlashFunded subclass: its owner becomes this contract), calls
/// it with `workerCall` (e.g. an encoded `execute(funding, params)` with a flash source), and
/// forwards its balances of `sweepTokens` (the worker sweeps to its owner) to `tx.origin`.
contract OneShotDeployer {
    using SafeERC20 for IERC20;

    /// @notice The worker deployed by the constructor.
    address public immutable worker;

    /// @param workerInitCode Creation code of the worker (no constructor arguments).
    /// @param workerCall Calldata for the worker.
    /// @param sweepTokens Tokens forwarded to `tx.origin` afterwards.
    constructor(bytes memory workerInitCode, bytes memory workerCall, IERC20[] memory sweepTokens) {
        address w = Create2.deploy(0, bytes32(0), workerInitCode);
        Address.functionCall(w, workerCall);
        for (uint256 i = 0; i < sweepTokens.length; ++i) {
            uint256 amount = sweepTokens[i].balanceOf(address(this));
            if (amount != 0) sweepTokens[i].safeTransfer(tx.origin, amount);
        }
        worker = w;
    }
}
