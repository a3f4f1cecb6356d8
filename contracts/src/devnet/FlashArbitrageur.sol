// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IUniswapV2Pair} from "./interfaces/IUniswapV2Pair.sol";
import {V2Math} from "./libraries/V2Math.sol";

/// @title FlashArbitrageur
/// @notice BENIGN flash-loan user for Vigil's devnet: it looks like an attacker (ERC-3156 flash
/// loan, swaps through the market's price pair, all in one transaction) but only arbitrages a
/// price difference between two Uniswap V2 pairs of the same two tokens. Vigil must NOT pause on
/// it. Flow: flash-borrow `token` -> buy the other token on the cheaper pair -> sell it all on the
/// dearer pair -> repay loan + fee -> send the (small) profit to `owner`; reverts if unprofitable.
contract FlashArbitrageur is IERC3156FlashBorrower {
    using SafeERC20 for IERC20;

    bytes32 private constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    /// @notice Only caller of `arbitrage` and receiver of its profit.
    address public immutable owner;

    /// @dev Lender of the arbitrage in progress; only it may call back.
    address private transient _lender;
    /// @dev Pair bought on / sold on by the arbitrage in progress, for the event.
    address private transient _buyPair;
    address private transient _sellPair;

    /// @notice One successful arbitrage.
    event ArbitrageExecuted(
        address indexed token, address indexed buyPair, address indexed sellPair, uint256 amount, uint256 profit
    );

    error NotOwner();
    error UntrustedCallback();
    error PairsMismatch();
    error Unprofitable(uint256 proceeds, uint256 owed);
    error ProfitBelowMinimum(uint256 profit, uint256 minProfit);

    constructor() {
        owner = msg.sender;
    }

    /// @notice Flash-borrows `amount` of `token` from `lender` and arbitrages `pairA` against `pairB`
    /// (both must hold `token` and the same other asset). Reverts unless profit > 0 and >= minProfit.
    /// @param lender ERC-3156 lender holding `token`.
    /// @param token Token to borrow, spend and profit in (e.g. the USD stablecoin).
    /// @param pairA One Uniswap V2 pair of token/asset.
    /// @param pairB Another Uniswap V2 pair of the same tokens (e.g. from a second factory).
    /// @param amount Amount of `token` to flash-borrow and trade.
    /// @param minProfit Minimum acceptable profit in `token`.
    /// @return profit Amount of `token` sent to `owner`.
    function arbitrage(
        IERC3156FlashLender lender,
        address token,
        IUniswapV2Pair pairA,
        IUniswapV2Pair pairB,
        uint256 amount,
        uint256 minProfit
    ) external returns (uint256 profit) {
        if (msg.sender != owner) revert NotOwner();
        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        _lender = address(lender);
        lender.flashLoan(this, token, amount, abi.encode(pairA, pairB));
        _lender = address(0);

        profit = IERC20(token).balanceOf(address(this)) - balanceBefore;
        if (profit < minProfit) revert ProfitBelowMinimum(profit, minProfit);
        IERC20(token).safeTransfer(owner, profit);
        emit ArbitrageExecuted(token, _buyPair, _sellPair, amount, profit);
    }

    /// @notice ERC-3156 callback: performs the two swaps and approves `amount + fee` for the lender.
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        override
        returns (bytes32)
    {
        if (msg.sender != _lender || initiator != address(this)) revert UntrustedCallback();
        uint256 proceeds = _trade(token, amount, data);
        uint256 owed = amount + fee;
        if (proceeds <= owed) revert Unprofitable(proceeds, owed);
        IERC20(token).forceApprove(msg.sender, owed);
        return CALLBACK_SUCCESS;
    }

    /// @dev Buys the asset with `amount` of `token` on the cheaper pair and sells it all on the other.
    /// @return proceeds Amount of `token` received from the second swap.
    function _trade(address token, uint256 amount, bytes calldata data) internal returns (uint256 proceeds) {
        (IUniswapV2Pair pairA, IUniswapV2Pair pairB) = abi.decode(data, (IUniswapV2Pair, IUniswapV2Pair));
        (IUniswapV2Pair buyPair, IUniswapV2Pair sellPair, address asset) = _route(token, pairA, pairB);
        uint256 assetBought = V2Math.swapExactIn(buyPair, token, amount, address(this));
        proceeds = V2Math.swapExactIn(sellPair, asset, assetBought, address(this));
        _buyPair = address(buyPair);
        _sellPair = address(sellPair);
    }

    /// @notice Expected profit (negative = loss) of `arbitrage` at current reserves, fee included.
    function expectedProfit(
        IERC3156FlashLender lender,
        address token,
        IUniswapV2Pair pairA,
        IUniswapV2Pair pairB,
        uint256 amount
    ) external view returns (int256) {
        (IUniswapV2Pair buyPair, IUniswapV2Pair sellPair, address asset) = _route(token, pairA, pairB);
        uint256 proceeds = V2Math.quote(sellPair, asset, V2Math.quote(buyPair, token, amount));
        uint256 owed = amount + lender.flashFee(token, amount);
        return SafeCast.toInt256(proceeds) - SafeCast.toInt256(owed);
    }

    /// @dev Checks both pairs trade the same tokens and orders them (cheaper asset first).
    function _route(address token, IUniswapV2Pair pairA, IUniswapV2Pair pairB)
        internal
        view
        returns (IUniswapV2Pair buyPair, IUniswapV2Pair sellPair, address asset)
    {
        if (address(pairA) == address(pairB)) revert PairsMismatch();
        asset = V2Math.otherToken(pairA, token);
        if (V2Math.otherToken(pairB, token) != asset) revert PairsMismatch();
        (uint256 tokenA, uint256 assetA) = V2Math.reservesFor(pairA, token);
        (uint256 tokenB, uint256 assetB) = V2Math.reservesFor(pairB, token);
        // Price of the asset in `token` is reserveToken / reserveAsset; A is cheaper if
        // tokenA / assetA < tokenB / assetB.
        (buyPair, sellPair) = tokenA * assetB < tokenB * assetA ? (pairA, pairB) : (pairB, pairA);
    }
}
