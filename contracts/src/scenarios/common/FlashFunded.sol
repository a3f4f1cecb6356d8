// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {IUniswapV2Callee} from "../../devnet/interfaces/IUniswapV2Callee.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {AaveStyleLendingPool} from "../lenders/AaveStyleLendingPool.sol";
import {BalancerStyleVault} from "../lenders/BalancerStyleVault.sol";
import {IAaveStyleFlashLoanReceiver, IBalancerStyleFlashLoanRecipient} from "../lenders/IFlashLoanCallbacks.sol";

/// @title FlashFunded
/// @notice Base of every scenario contract that needs one transaction's worth of capital (the
/// attack contracts and the benign flash-loan users alike). `_fund` obtains `amount` of `token` from
/// one of five sources, runs the subclass's `_exploit` with it, and repays in the source's own way:
///   - OwnCapital:        no loan; the contract must already hold the tokens (pre-funded);
///   - ERC3156:           `flashLoan` -> `onFlashLoan`, repaid by approval (lender pulls);
///   - UniswapV2FlashSwap: `pair.swap` with data -> `uniswapV2Call`, repaid by transfer + 0.3%
///                        (the pair must not be one `_exploit` trades on: V2 pairs are locked
///                        during their own flash swap);
///   - AaveStyle:         `flashLoan(..., modes=[0], ...)` -> `executeOperation`, repaid by
///                        approval (the pool pulls into its aToken);
///   - BalancerStyle:     `flashLoan` -> `receiveFlashLoan`, repaid by transfer (balance check).
/// Callbacks are accepted only from the provider of the loan in progress, for the token asked.
/// `owner` lives in storage (not an immutable) so that EIP-1167 clones of a subclass work: a clone
/// starts with no owner and is claimed once with `initialize`.
abstract contract FlashFunded is
    IERC3156FlashBorrower,
    IUniswapV2Callee,
    IAaveStyleFlashLoanReceiver,
    IBalancerStyleFlashLoanRecipient
{
    using SafeERC20 for IERC20;

    /// @notice Where the capital comes from.
    enum Source {
        OwnCapital,
        ERC3156,
        UniswapV2FlashSwap,
        AaveStyle,
        BalancerStyle
    }

    /// @notice One transaction's capital.
    /// @param source Kind of provider.
    /// @param provider ERC-3156 lender, Uniswap V2 pair, AaveStyleLendingPool or BalancerStyleVault
    /// (ignored for OwnCapital).
    /// @param token Token borrowed (or held, for OwnCapital).
    /// @param amount Amount borrowed (or of own capital put to work).
    struct Funding {
        Source source;
        address provider;
        IERC20 token;
        uint256 amount;
    }

    bytes32 private constant ERC3156_CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    /// @notice Controller of the contract and receiver of everything it sweeps.
    address public owner;

    /// @dev Provider and token of the loan in progress (only they may call back).
    address private transient _provider;
    address private transient _token;

    error NotOwner();
    error AlreadyInitialized();
    error ZeroOwner();
    error UntrustedCallback();
    error SingleAssetOnly();
    error InsufficientCapital(uint256 balance, uint256 required);
    error CannotRepay(uint256 balance, uint256 owed);
    error Unprofitable(uint256 balanceAfter, uint256 balanceBefore);

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    /// @notice Claims an ownerless instance (an EIP-1167 clone). The implementation itself was
    /// given an owner by its constructor, so this only works once, on a fresh clone.
    function initialize(address owner_) external {
        if (owner != address(0)) revert AlreadyInitialized();
        if (owner_ == address(0)) revert ZeroOwner();
        owner = owner_;
    }

    // ------------------------------------------------------------------ subclass hooks

    /// @dev The work to do with `amount` of the funding token in hand. Must leave at least the
    /// repayment (amount + fee) of that token in this contract.
    function _exploit(uint256 amount, bytes memory data) internal virtual;

    // ------------------------------------------------------------------ funding

    /// @dev Obtains the capital described by `f`, runs `_exploit(f.amount, data)`, repays.
    /// @return gain Increase of this contract's balance of `f.token` (reverts on a loss).
    function _fund(Funding memory f, bytes memory data) internal returns (uint256 gain) {
        uint256 before = f.token.balanceOf(address(this));
        if (f.source == Source.OwnCapital) {
            if (before < f.amount) revert InsufficientCapital(before, f.amount);
            _exploit(f.amount, data);
        } else {
            _provider = f.provider;
            _token = address(f.token);
            if (f.source == Source.ERC3156) {
                IERC3156FlashLender(f.provider).flashLoan(this, address(f.token), f.amount, data);
            } else if (f.source == Source.UniswapV2FlashSwap) {
                IUniswapV2Pair pair = IUniswapV2Pair(f.provider);
                // Reverts if the token is not in the pair.
                V2Math.otherToken(pair, address(f.token));
                (uint256 out0, uint256 out1) =
                    pair.token0() == address(f.token) ? (f.amount, uint256(0)) : (uint256(0), f.amount);
                pair.swap(out0, out1, address(this), data);
            } else if (f.source == Source.AaveStyle) {
                address[] memory assets = new address[](1);
                uint256[] memory amounts = new uint256[](1);
                uint256[] memory modes = new uint256[](1);
                assets[0] = address(f.token);
                amounts[0] = f.amount;
                AaveStyleLendingPool(f.provider).flashLoan(address(this), assets, amounts, modes, address(this), data, 0);
            } else {
                IERC20[] memory tokens = new IERC20[](1);
                uint256[] memory amounts = new uint256[](1);
                tokens[0] = f.token;
                amounts[0] = f.amount;
                BalancerStyleVault(f.provider).flashLoan(this, tokens, amounts, data);
            }
            _provider = address(0);
            _token = address(0);
        }
        uint256 afterwards = f.token.balanceOf(address(this));
        if (afterwards < before) revert Unprofitable(afterwards, before);
        gain = afterwards - before;
    }

    /// @dev Sends this contract's whole balance of `token` to `owner`.
    function _sweep(IERC20 token) internal returns (uint256 amount) {
        amount = token.balanceOf(address(this));
        if (amount != 0) token.safeTransfer(owner, amount);
    }

    // ------------------------------------------------------------------ callbacks

    /// @notice ERC-3156 callback.
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        override
        returns (bytes32)
    {
        _checkCallback(initiator, token);
        _exploit(amount, data);
        _requireBalance(IERC20(token), amount + fee);
        IERC20(token).forceApprove(msg.sender, amount + fee);
        return ERC3156_CALLBACK_SUCCESS;
    }

    /// @notice Uniswap V2 flash-swap callback; repays in the borrowed token with the 0.3% fee.
    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external override {
        _checkCallback(sender, _token);
        uint256 amount = amount0 + amount1; // only the borrowed side is non-zero
        _exploit(amount, data);
        uint256 owed = V2Math.flashSwapRepayment(amount);
        _requireBalance(IERC20(_token), owed);
        IERC20(_token).safeTransfer(msg.sender, owed);
    }

    /// @notice Aave-style callback; the pool pulls `amount + premium` after it returns.
    function executeOperation(
        address[] calldata assets,
        uint256[] calldata amounts,
        uint256[] calldata premiums,
        address initiator,
        bytes calldata params
    ) external override returns (bool) {
        if (assets.length != 1) revert SingleAssetOnly();
        _checkCallback(initiator, assets[0]);
        _exploit(amounts[0], params);
        uint256 owed = amounts[0] + premiums[0];
        _requireBalance(IERC20(assets[0]), owed);
        IERC20(assets[0]).forceApprove(msg.sender, owed);
        return true;
    }

    /// @notice Balancer-style callback; repays by transferring `amount + fee` back.
    function receiveFlashLoan(
        IERC20[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata userData
    ) external override {
        if (tokens.length != 1) revert SingleAssetOnly();
        // The vault names no initiator: only a loan this contract asked for sets `_provider`.
        _checkCallback(address(this), address(tokens[0]));
        _exploit(amounts[0], userData);
        uint256 owed = amounts[0] + feeAmounts[0];
        _requireBalance(tokens[0], owed);
        tokens[0].safeTransfer(msg.sender, owed);
    }

    function _checkCallback(address initiator, address token) private view {
        if (msg.sender != _provider || initiator != address(this) || token != _token) revert UntrustedCallback();
    }

    function _requireBalance(IERC20 token, uint256 owed) private view {
        uint256 balance = token.balanceOf(address(this));
        if (balance < owed) revert CannotRepay(balance, owed);
    }
}
