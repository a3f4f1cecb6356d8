// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title FlashLender
/// @notice ERC-3156 flash lender for the devnet: lends any token it holds (fund it with a plain
/// transfer), charges a fixed fee in basis points, and pulls back `amount + fee` with
/// `transferFrom` after the borrower's callback (so the borrower must approve this contract).
contract FlashLender is IERC3156FlashLender, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Value `onFlashLoan` must return (ERC-3156).
    bytes32 public constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    /// @notice Fee charged on every loan, in basis points of the amount.
    uint256 public immutable feeBps;

    event FlashLoan(address indexed receiver, address indexed token, uint256 amount, uint256 fee);

    error UnsupportedToken(address token);
    error AmountExceedsMax(uint256 amount, uint256 max);
    error CallbackFailed(bytes32 returned);
    error FeeTooHigh(uint256 feeBps);

    /// @param feeBps_ Fee in basis points (e.g. 5 = 0.05%), at most 10,000.
    /// @param initialOwner Account allowed to withdraw the lender's funds.
    constructor(uint256 feeBps_, address initialOwner) Ownable(initialOwner) {
        if (feeBps_ > 10_000) revert FeeTooHigh(feeBps_);
        feeBps = feeBps_;
    }

    /// @notice Most of `token` that can be borrowed: the lender's whole balance.
    function maxFlashLoan(address token) public view override returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }

    /// @notice Fee for borrowing `amount` of `token`. Reverts for tokens the lender does not hold.
    function flashFee(address token, uint256 amount) public view override returns (uint256) {
        if (maxFlashLoan(token) == 0) revert UnsupportedToken(token);
        return (amount * feeBps) / 10_000;
    }

    /// @notice Lends `amount` of `token` to `receiver`, calls its `onFlashLoan`, then pulls back
    /// `amount + fee` with `transferFrom`.
    /// @param receiver ERC-3156 borrower; must return CALLBACK_SUCCESS and approve the repayment.
    /// @param token Token to borrow.
    /// @param amount Amount to borrow.
    /// @param data Passed through to the callback.
    /// @return Always true (failures revert).
    function flashLoan(IERC3156FlashBorrower receiver, address token, uint256 amount, bytes calldata data)
        external
        override
        nonReentrant
        returns (bool)
    {
        uint256 max = maxFlashLoan(token);
        if (max == 0) revert UnsupportedToken(token);
        if (amount > max) revert AmountExceedsMax(amount, max);
        uint256 fee = flashFee(token, amount);

        IERC20(token).safeTransfer(address(receiver), amount);
        bytes32 returned = receiver.onFlashLoan(msg.sender, token, amount, fee, data);
        if (returned != CALLBACK_SUCCESS) revert CallbackFailed(returned);
        // Under-repayment (missing allowance or balance) reverts here.
        IERC20(token).safeTransferFrom(address(receiver), address(this), amount + fee);

        emit FlashLoan(address(receiver), token, amount, fee);
        return true;
    }

    /// @notice Withdraws lender funds. Owner only.
    /// @param token Token to withdraw.
    /// @param to Recipient.
    /// @param amount Amount to withdraw.
    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        IERC20(token).safeTransfer(to, amount);
    }
}
