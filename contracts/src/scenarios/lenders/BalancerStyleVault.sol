// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IBalancerStyleFlashLoanRecipient} from "./IFlashLoanCallbacks.sol";

/// @title BalancerStyleVault
/// @notice Flash-loan source with Balancer V2's call shape for the scenario library:
/// `flashLoan(recipient, tokens[], amounts[], userData)` sends the tokens it holds, calls
/// `receiveFlashLoan(tokens, amounts, feeAmounts, userData)` and then only CHECKS its balances:
/// the recipient must have transferred `amount + fee` back (no `transferFrom`). The vault is
/// funded by plain transfers (on the real vault, by pool liquidity); fees stay in it.
contract BalancerStyleVault is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Fee charged on each loan, in basis points (Balancer's is governance-set, often 0).
    uint256 public immutable flashLoanFeeBps;

    event FlashLoan(IBalancerStyleFlashLoanRecipient indexed recipient, IERC20 indexed token, uint256 amount, uint256 feeAmount);

    error FeeTooHigh(uint256 feeBps);
    error InputLengthMismatch();
    error UnsortedTokens();
    error InsufficientFlashLoanBalance(IERC20 token, uint256 balance, uint256 amount);
    error InsufficientFlashLoanRepayment(IERC20 token, uint256 balance, uint256 required);

    /// @param feeBps Fee in basis points, at most 1,000.
    constructor(uint256 feeBps) {
        if (feeBps > 1_000) revert FeeTooHigh(feeBps);
        flashLoanFeeBps = feeBps;
    }

    /// @notice Lends `amounts[i]` of `tokens[i]` to `recipient` for the duration of its
    /// `receiveFlashLoan` callback; reverts unless each balance grew back by at least the fee.
    /// @param recipient Receiver of the tokens and of the callback.
    /// @param tokens Tokens to borrow, in strictly ascending address order (as Balancer requires).
    /// @param amounts Amounts to borrow.
    /// @param userData Passed through to the callback.
    function flashLoan(
        IBalancerStyleFlashLoanRecipient recipient,
        IERC20[] calldata tokens,
        uint256[] calldata amounts,
        bytes calldata userData
    ) external nonReentrant {
        uint256 n = tokens.length;
        if (amounts.length != n) revert InputLengthMismatch();

        uint256[] memory feeAmounts = new uint256[](n);
        uint256[] memory preBalances = new uint256[](n);
        address previous = address(0);
        for (uint256 i = 0; i < n; ++i) {
            IERC20 token = tokens[i];
            if (address(token) <= previous) revert UnsortedTokens();
            previous = address(token);

            preBalances[i] = token.balanceOf(address(this));
            if (preBalances[i] < amounts[i]) revert InsufficientFlashLoanBalance(token, preBalances[i], amounts[i]);
            feeAmounts[i] = (amounts[i] * flashLoanFeeBps) / 10_000;
            token.safeTransfer(address(recipient), amounts[i]);
        }

        recipient.receiveFlashLoan(tokens, amounts, feeAmounts, userData);

        for (uint256 i = 0; i < n; ++i) {
            uint256 required = preBalances[i] + feeAmounts[i];
            uint256 post = tokens[i].balanceOf(address(this));
            if (post < required) revert InsufficientFlashLoanRepayment(tokens[i], post, required);
            emit FlashLoan(recipient, tokens[i], amounts[i], post - preBalances[i]);
        }
    }
}
