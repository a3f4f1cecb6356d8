// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IAaveStyleFlashLoanReceiver
/// @notice Callback of AaveStyleLendingPool.flashLoan (Aave V2's `IFlashLoanReceiver` shape). The
/// pool pulls `amounts[i] + premiums[i]` back with `transferFrom` after it returns, so the receiver
/// approves the pool; it must return true.
interface IAaveStyleFlashLoanReceiver {
    /// @param assets Borrowed assets.
    /// @param amounts Borrowed amounts, by asset.
    /// @param premiums Fees owed on top, by asset.
    /// @param initiator Account that called `flashLoan`.
    /// @param params Data passed to `flashLoan`.
    function executeOperation(
        address[] calldata assets,
        uint256[] calldata amounts,
        uint256[] calldata premiums,
        address initiator,
        bytes calldata params
    ) external returns (bool);
}

/// @title IBalancerStyleFlashLoanRecipient
/// @notice Callback of BalancerStyleVault.flashLoan (Balancer V2's `IFlashLoanRecipient` shape).
/// Repayment is a plain transfer back to the vault before returning; the vault checks balances.
interface IBalancerStyleFlashLoanRecipient {
    /// @param tokens Borrowed tokens (ascending addresses).
    /// @param amounts Borrowed amounts, by token.
    /// @param feeAmounts Fees owed on top, by token.
    /// @param userData Data passed to `flashLoan`.
    function receiveFlashLoan(
        IERC20[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata userData
    ) external;
}
